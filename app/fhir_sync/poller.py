"""Referrals fetched from the region's server, for regions whose system pushes nothing.

The Physical Activity IG's light service provider searches the Tasks it owns that changed since
it last looked (`Task?_lastUpdated=gt…`; not more often than every 15 minutes). A new Task for
one of Askel's services brings its ServiceRequest and Patient, which become a referral exactly
as if they had been posted to /fhir, linked to the region's Task and ServiceRequest so that
Askel publishes into them (`region.py`). Tasks Askel wrote itself or took before are not news;
a Task that cannot become a referral is logged and passed over, so one bad record never stalls
the others.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from app.access.principal import LOCAL_ISSUER, Principal, Role
from app.config import Settings
from app.errors import AppError
from app.fhir_sync import inbound, region, repository
from app.fhir_sync.client import FhirClient
from app.fhir_sync.mappings import system
from app.organisations import service as organisations

log = logging.getLogger(__name__)
CURSOR = "region-tasks"
PAGE = 100
EPOCH = "1970-01-01T00:00:00Z"


def _owner_service(task: dict[str, Any]) -> str | None:
    owner = task.get("owner", {}).get("identifier", {})
    return owner.get("value") if owner.get("system") == system("service") else None


def _take(session: Session, client: FhirClient, poller: Principal, task: dict[str, Any]) -> bool:
    """The Task's referral, if it is a new request to one of Askel's services."""
    code = _owner_service(task)
    if code is None or organisations.by_code(session, code) is None:
        return False
    if task.get("status") != "requested" or repository.is_ours(session, "Task", task["id"]):
        return False
    request = client.resolve(task["focus"]["reference"])
    patient = client.resolve(request["subject"]["reference"])
    with session.begin_nested():
        patient_id, _ = inbound.patient_for(session, poller, patient)
        referral, created = inbound.receive_service_request(session, poller, request, patient_id)
        found = {"Patient": patient, "ServiceRequest": request, "Task": task}
        region.keep_links(session, referral.id, patient_id, found)
    return created


def poll(session: Session, client: FhirClient, poller: Principal) -> int:
    """One pass over the Tasks changed since the last; the number of referrals made."""
    since = repository.cursor(session, CURSOR) or EPOCH
    made = 0
    while True:
        tasks = client.search(
            "Task", {"_lastUpdated": f"gt{since}", "_sort": "_lastUpdated", "_count": str(PAGE)}
        )
        for task in tasks:
            try:
                made += _take(session, client, poller, task)
            except AppError as error:
                reason = error.params.get("reason")
                log.warning(
                    "a region Task did not become a referral",
                    extra={"task": task.get("id"), "code": error.code, "reason": reason},
                )
                repository.record_refusal(
                    session,
                    f"Task/{task.get('id')}",
                    error.code,
                    reason if isinstance(reason, str) else None,
                )
            since = max(since, task.get("meta", {}).get("lastUpdated", since))
        repository.move_cursor(session, CURSOR, since)
        if len(tasks) < PAGE:
            return made


def poller_principal(settings: Settings, region_code: str) -> Principal:
    """The poller acts as the region's integration; requesting clinicians' accounts are looked
    up under the region's issuer (the development issuer where none is configured)."""
    issuer = settings.oidc_issuers[0] if settings.oidc_issuers else LOCAL_ISSUER
    return Principal(
        subject="askel-poller",
        organisation=region_code,
        roles=frozenset({Role.integration}),
        issuer=issuer,
    )
