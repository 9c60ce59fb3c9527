"""A referral the region's system made, published into the region's own records.

The Physical Activity IG's "light" service provider does not copy the care manager's
ServiceRequest and Task: it updates them. When a referral came from the region (taken by the
poller, or posted to /fhir), Askel links its ServiceRequest and Task to the region's and writes
only the elements a service provider answers for into them: the Task's status, reason, business
status, owner, output and last change, the request's status, and Askel's own identifier beside
the region's. Everything else in them stays as the region wrote it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from app.fhir_sync import repository
from app.fhir_sync.client import FhirClient, Stored, VersionConflict
from app.fhir_sync.models import FhirLink
from app.fhir_sync.resources import Outbound, ReferralRecords, Resource

# What Askel writes into a region-owned resource; the rest is the region's.
ANSWERED_FOR = {
    "ServiceRequest": ("status",),
    "Task": ("status", "statusReason", "businessStatus", "owner", "output", "lastModified"),
}


def answered_for(outbound: Outbound) -> Outbound:
    """The part of Askel's resource that goes into the region's: what the hash is taken of."""
    elements = ANSWERED_FOR.get(outbound.resource_type, ())
    part = {name: outbound.body[name] for name in elements if name in outbound.body}
    part["identifier"] = outbound.body["identifier"]
    return Outbound(outbound.resource_type, outbound.key, part)


def overlay(current: Resource, ours: Resource) -> Resource:
    """The region's resource with Askel's elements written in: an element Askel no longer
    gives (a status reason after a return is taken back) is removed, and Askel's identifier is
    added to the region's identifiers once."""
    kind = current["resourceType"]
    merged = {name: value for name, value in current.items() if name not in ANSWERED_FOR[kind]}
    merged.update({name: ours[name] for name in ANSWERED_FOR[kind] if name in ours})
    identifiers = list(current.get("identifier", []))
    identifiers += [i for i in ours.get("identifier", []) if i not in identifiers]
    merged["identifier"] = identifiers
    merged.pop("meta", None)
    if "meta" in current:
        # The server keeps its own version and time; the region's profiles and labels stay.
        kept = {k: v for k, v in current["meta"].items() if k not in ("versionId", "lastUpdated")}
        if kept:
            merged["meta"] = kept
    return merged


def _link(resource_type: str, key: uuid.UUID, referral_id: uuid.UUID, found: Resource) -> FhirLink:
    return FhirLink(
        resource_type=resource_type,
        askel_key=key,
        referral_id=referral_id,
        peer_id=found["id"],
        peer_version=found.get("meta", {}).get("versionId", ""),
        content_hash="",
        region_owned=True,
    )


def keep_links(
    session: Session,
    referral_id: uuid.UUID,
    patient_id: uuid.UUID,
    found: dict[str, Resource],
) -> None:
    """Link the referral to the region's Patient, ServiceRequest and Task (those `found`, by
    type), so that Askel publishes into them instead of beside them."""
    keys = {"Patient": patient_id, "ServiceRequest": referral_id, "Task": referral_id}
    for resource_type, resource in found.items():
        repository.add_link(
            session, _link(resource_type, keys[resource_type], referral_id, resource)
        )


def _only(found: list[dict[str, Any]]) -> Resource | None:
    return found[0] if len(found) == 1 else None


def find_records(session: Session, client: FhirClient, records: ReferralRecords) -> None:
    """For a referral posted to /fhir, link the region's ServiceRequest (by the identifier the
    region gave it) and its Task (the one focused on that request). Asked only until the request
    is linked: a record the region's server does not hold is published as Askel's own."""
    referral = records.referral
    if referral.source_identifier is None:
        return
    if repository.link_for(session, "ServiceRequest", referral.id) is not None:
        return
    request = _only(client.search("ServiceRequest", {"identifier": referral.source_identifier}))
    if request is None:
        return
    found = {"ServiceRequest": request}
    task = _only(client.search("Task", {"focus": f"ServiceRequest/{request['id']}"}))
    if task is not None and repository.link_for(session, "Task", referral.id) is None:
        found["Task"] = task
    keep_links(session, referral.id, records.patient.id, found)


def _write_once(client: FhirClient, link: FhirLink, ours: Resource) -> Stored:
    current, stored = client.fetch(link.resource_type, link.peer_id)
    return client.update(link.resource_type, link.peer_id, overlay(current, ours), stored.version)


def write_into(client: FhirClient, link: FhirLink, ours: Resource) -> Stored:
    """Askel's elements written into the newest version of the region's resource. When the
    region changes it in between, it is read and written once more; a second conflict leaves
    the event to the worker's next attempt."""
    try:
        return _write_once(client, link, ours)
    except VersionConflict:
        return _write_once(client, link, ours)
