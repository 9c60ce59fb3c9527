"""A clinician opens Askel from a patient's chart in the region's patient system (SMART App
Launch 2.2, EHR launch; the protocol is `app.web.smart`). The patient system vouches for who the
user is and whose chart is open; Askel's own account of that user says what they may do here,
and only a clinician's account is let in from a chart. The chart's patient is found in Askel by
identity code, or registered from the chart's data, as the current patient of a new session.

Each refusal ends on a page in the user's language; one whose user the patient system named is
audited under that user, like a refused token.
"""

from __future__ import annotations

import dataclasses
import secrets
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.access import repository as accounts
from app.access.permissions import Permission, has_permission
from app.access.principal import LOCAL_ISSUER, Principal, Role
from app.config import PatientSystem, Settings
from app.errors import AppError, Forbidden, RefusalContext
from app.fhir_sync.exceptions import InvalidFhirResource
from app.fhir_sync.inbound import patient_from_fhir, reasons_from_conditions
from app.i18n import LANGUAGES, N_
from app.patients import pages as patient_pages
from app.patients import service as patients
from app.web import sessions
from app.web.pages import PageRoute
from app.web.signin import account_of
from app.web.smart import (
    LaunchContextMissing,
    LaunchGrant,
    LaunchRefused,
    LaunchStateMismatch,
    PendingLaunch,
    SmartLaunch,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
# Where the launch ends: the chart's patient, as the current patient of the session.
PATIENT_PAGE = "/patient"
ANONYMOUS = "anonymous"
# Query values are bounded: a launch's are short handles and codes.
Short = Annotated[str, Query(max_length=2000)]


class LaunchUserUnknown(AppError):
    status = 403
    code = "launch_user_unknown"
    title = N_("You cannot use Askel from the chart")
    detail = N_(
        "Askel has no active clinician's account for you under this patient system. Your "
        "organisation's access administrator can tell you how to get one."
    )
    audit_outcome = "refused"


class LaunchPatientUnusable(AppError):
    status = 422
    code = "launch_patient_unusable"
    title = N_("The chart's patient could not be taken into Askel")
    detail = N_(
        "The patient's data in the chart lacks or has something Askel cannot use ({place}). "
        "Check the patient's identity code, name and home municipality in the chart."
    )
    audit_outcome = "refused"


def _smart(request: Request) -> SmartLaunch:
    smart: SmartLaunch = request.app.state.smart_launch
    return smart


def _attempted(request: Request, iss: str) -> None:
    """Until the patient system names the user, a refused launch is audited as an anonymous
    attempt from the patient system it claimed to come from."""
    request.state.claimed_principal = Principal(ANONYMOUS, "", frozenset(), iss[:200])


def _callback(request: Request) -> str:
    public = request.app.state.settings.public_url
    return f"{public}/launch/callback" if public else str(request.url_for("launch_callback"))


@router.get("/launch")
async def launch(request: Request, iss: Short = "", launch: Short = "") -> Response:
    """The launch address a patient system opens with `iss` and `launch`."""
    _attempted(request, iss)
    smart = _smart(request)
    system = smart.system(iss)
    if not launch:
        raise LaunchContextMissing(missing="launch")
    configuration = await smart.configuration(system)
    pending = PendingLaunch.begin(system.iss)
    sessions.current(request).data["launch"] = dataclasses.asdict(pending)
    address = smart.authorization_url(configuration, system, pending, launch, _callback(request))
    return RedirectResponse(address, status_code=303)


@router.get("/launch/callback")
async def launch_callback(
    request: Request,
    code: Short = "",
    state: Short = "",
    error: Short = "",
) -> Response:
    """The patient system's answer: the user signed in under a new session, with the chart's
    patient as the session's current patient."""
    page_session = sessions.current(request)
    kept = page_session.data.pop("launch", None)
    pending = PendingLaunch(**kept) if isinstance(kept, dict) else None
    _attempted(request, pending.iss if pending else "")
    if pending is None or not state or not secrets.compare_digest(pending.state, state):
        raise LaunchStateMismatch()
    smart = _smart(request)
    if error or not code:
        raise LaunchRefused(reason=N_("it refused the sign-in"))
    system = smart.system(pending.iss)
    configuration = await smart.configuration(system)
    grant = await smart.grant(configuration, system, pending, code, _callback(request))
    user_id, claims, patient_id, language = await run_in_threadpool(
        _arrive, request, system, configuration.issuer, grant
    )
    page_session.sign_in(user_id, claims)
    patient_pages.choose(request, patient_id, reasons_from_conditions(grant.conditions))
    if language in LANGUAGES:
        page_session.data["language"] = language
    return RedirectResponse(PATIENT_PAGE, status_code=303)


def _account_issuer(settings: Settings, system: PatientSystem, token_issuer: str) -> str:
    """The issuer Askel keeps the patient system's users' accounts under."""
    if system.account_issuer:
        return system.account_issuer
    own = settings.dev_issuer_on and token_issuer == settings.dev_issuer_url.rstrip("/")
    return LOCAL_ISSUER if own else token_issuer


def _arrive(
    request: Request, system: PatientSystem, token_issuer: str, grant: LaunchGrant
) -> tuple[uuid.UUID, dict[str, Any], uuid.UUID, str | None]:
    """In one transaction: the user as an active clinician account, and the chart's patient
    found or registered by them (audited as the API audits both)."""
    settings: Settings = request.app.state.settings
    issuer = _account_issuer(settings, system, token_issuer)
    subject = str(grant.identity.get("sub", ""))
    with request.app.state.db.write_sessions() as session, session.begin():
        found = accounts.active_user_with_organisation(session, issuer, subject)
        if found is None or Role.clinician.value not in found[0].roles:
            # Audited under the user the patient system named.
            named = found[1].code if found else ""
            request.state.claimed_principal = Principal(subject, named, frozenset(), issuer)
            raise LaunchUserUnknown(refusal=RefusalContext("Launch"))
        user, organisation = found
        claims = {
            "sub": user.username,
            "org": organisation.code,
            # The patient system vouches for who the user is; only the clinician's role of
            # their account in Askel is taken into a session opened from a chart.
            "roles": [Role.clinician.value],
            "name": user.display_name,
            "issuer": issuer,
            "fhirUser": grant.identity["fhirUser"],
        }
        principal = account_of(request, session, claims)
        if not has_permission(principal, Permission.patient_register):
            raise Forbidden()
        try:
            data = patient_from_fhir(grant.patient)
        except InvalidFhirResource as unusable:
            raise LaunchPatientUnusable(place=str(unusable.params.get("reason", ""))) from None
        patient, _registered = patients.find_or_register(session, principal, data)
        return user.id, claims, patient.id, user.page_language
