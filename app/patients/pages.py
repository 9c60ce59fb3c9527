"""A clinician's way to a patient: find them by identity code (a POST, never an address),
register one not yet known, and the patient's page. The same services as `router.py`, in the
request's transaction, so that each look-up, miss and registration leaves the API's audit
entries.

The page session's current patient is `data["patient_id"]` (a UUID as text): found here, or
put there by a launch from the patient's chart (`choose`)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.access import throttle
from app.access.audit.models import AuditAction
from app.access.audit.refusals import record_refused
from app.access.permissions import Permission, has_permission
from app.access.principal import Principal
from app.db import WriteSession
from app.errors import NotFound, RefusalContext
from app.flows import patient_identity
from app.i18n import LANGUAGES, N_
from app.kit.clock import today_in_helsinki
from app.organisations import service as organisations
from app.patients import nondisclosure, protection, service
from app.patients.ages import age_on
from app.patients.models import Patient
from app.patients.schemas import PatientCreate, PatientIdentify, PatientLookup, PatientRead
from app.referrals import service as referral_service
from app.referrals.pages import STATUS_LABELS
from app.referrals.repository import WorklistFilter
from app.web import sessions
from app.web.csrf import CheckedForm
from app.web.forms import FormState, attempt, form_fields, nested, refused_status, validate
from app.web.pages import PageRoute
from app.web.signin import PagePatientFinder, PagePatientRegistrar
from app.web.templating import page_language, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

CURRENT_PATIENT = "patient_id"
CHART_DIAGNOSES = "chart_diagnoses"
REGISTRATION_FIELDS = ("hetu", "given_name", "family_name", "home_municipality_code", "sex",
                       "language", "phone")  # fmt: skip
# Someone without a personal identity code yet is found and registered by these instead.
TEMPORARY_FIELDS = ("temporary_id.system", "temporary_id.value")
WITHOUT_CODE_FIELDS = (*TEMPORARY_FIELDS, "birth_date")
# The patient's referrals shown on their page, newest first.
REFERRALS_SHOWN = 50
IDENTIFIED = {
    False: N_("The personal identity code is recorded."),
    True: N_(
        "A patient with this personal identity code was registered already: the records are"
        " joined, and everything recorded under the temporary identifier is now theirs."
    ),
}
SEXES = {"female": N_("Female"), "male": N_("Male"), "other": N_("Other"), "unknown": N_("Unknown")}


def choose(
    request: Request, patient_id: uuid.UUID, diagnoses: list[dict[str, Any]] | None = None
) -> None:
    """Make the patient the session's current one (found here, or opened from the chart with
    the chart's diagnoses, which a referral starts from)."""
    data = sessions.current(request).data
    data[CURRENT_PATIENT] = str(patient_id)
    data[CHART_DIAGNOSES] = diagnoses or []


def chart_diagnoses(request: Request) -> list[dict[str, Any]]:
    """The current patient's diagnoses in the chart they were opened from (ICD-10, ICPC-2)."""
    found = sessions.current(request).data.get(CHART_DIAGNOSES)
    return found if isinstance(found, list) else []


def current_patient_id(request: Request) -> uuid.UUID | None:
    """The session's current patient, if one was chosen."""
    chosen = sessions.current(request).data.get(CURRENT_PATIENT)
    try:
        return uuid.UUID(chosen) if isinstance(chosen, str) else None
    except ValueError:
        return None


def _typed(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    return {name: value for name in names if isinstance(value := form.get(name), str)}


@router.get("/patients/find")
def find_page(request: Request, principal: PagePatientFinder) -> Response:
    """Find a patient by personal identity code, or by the region's temporary identifier."""
    return _finding(request, FormState())


def _finding(request: Request, state: FormState, temporary: FormState | None = None) -> Response:
    context = {"state": state, "temporary": temporary or FormState(), **form_fields()}
    status_code = 422 if state.failed or (temporary and temporary.failed) else 200
    return render(request, "patients/find.html", context, status_code=status_code)


@router.post("/patients/find")
def find(
    request: Request, form: CheckedForm, principal: PagePatientFinder, session: WriteSession
) -> Response:
    """The look-up of `POST /api/v1/patients/lookup`: the patient found becomes the current
    one; a miss (audited as the API's) offers to register them, the code kept in the form."""
    # Counted against the person's limits with their API calls: guessing codes is slow here too.
    throttle.check_user(request, principal)
    state = FormState(values=_typed(form, ("hetu",)))
    language = page_language(request)
    lookup = validate(PatientLookup, nested(state.values), language, state)
    # The page finds patients by identity code only (the form has no other field).
    if lookup is None or lookup.hetu is None:
        return _finding(request, state)
    hetu = lookup.hetu
    try:
        found = attempt(
            session,
            request,
            lambda: service.lookup(session, principal, hetu),
            state,
            AuditAction.query,
        )
    except NotFound as missing:
        record_refused(session, request, missing, AuditAction.query)
        values = {"hetu": hetu.strip(), "sex": "unknown", "language": language}
        return _registration(request, session, FormState(values=values), missed=True)
    if found is None:
        _beside(state, "hetu")
        return _finding(request, state)
    choose(request, found.id)
    return RedirectResponse("/patient", status_code=303)


@router.post("/patients/find-temporary")
def find_temporary(
    request: Request, form: CheckedForm, principal: PagePatientFinder, session: WriteSession
) -> Response:
    """The look-up by temporary identifier (`POST /api/v1/patients/lookup` with
    `temporary_id`): also after the code arrived, as the record they became. A miss offers to
    register them by it, with the birth date."""
    throttle.check_user(request, principal)
    state = FormState(values=_typed(form, TEMPORARY_FIELDS))
    language = page_language(request)
    lookup = validate(PatientLookup, nested(state.values), language, state)
    if lookup is None or lookup.temporary_id is None:
        return _finding(request, FormState(), state)
    identifier = lookup.temporary_id
    try:
        found = service.lookup_temporary(session, principal, identifier)
    except NotFound as missing:
        record_refused(session, request, missing, AuditAction.query)
        values = {
            "temporary_id.system": identifier.system,
            "temporary_id.value": identifier.value,
            "sex": "unknown",
            "language": language,
        }
        return _registration(request, session, FormState(values=values), missed=True)
    choose(request, found.id)
    return RedirectResponse("/patient", status_code=303)


def _beside(state: FormState, field: str) -> None:
    """The service's refusal of the code, said beside the field it is about."""
    if state.problem is not None:
        state.errors.setdefault(field, str(state.problem["detail"]))
        state.problem = None


def _registration(
    request: Request, session: Session, state: FormState, *, missed: bool, status_code: int = 200
) -> Response:
    swedish = page_language(request) == "sv"
    names = {
        municipality.municipality_code: municipality.name_sv if swedish else municipality.name_fi
        for municipality in organisations.municipalities(session)
    }
    context = {
        "state": state,
        "missed": missed,
        # Registered by the temporary identifier the look-up missed, or by the identity code.
        "without_code": TEMPORARY_FIELDS[0] in state.values,
        "municipality_names": dict(sorted(names.items(), key=lambda item: item[1])),
        **form_fields(),
    }
    return render(request, "patients/register.html", context, status_code=status_code)


@router.post("/patients/register")
def register(
    request: Request, form: CheckedForm, principal: PagePatientRegistrar, session: WriteSession
) -> Response:
    """Register the patient as `POST /api/v1/patients` does, by identity code or by temporary
    identifier and birth date; one registered meanwhile by someone else (the API's 409) is
    simply the patient found."""
    throttle.check_user(request, principal)
    state = FormState(values=_typed(form, REGISTRATION_FIELDS + WITHOUT_CODE_FIELDS))
    body = validate(PatientCreate, nested(state.values), page_language(request), state)
    if body is not None:
        patient = attempt(
            session,
            request,
            lambda: service.register(session, principal, body),
            state,
            AuditAction.create,
        )
        if patient is not None:
            choose(request, patient.id)
            return RedirectResponse("/patient", status_code=303)
        if state.problem is not None and state.problem["code"] == "patient_exists":
            choose(request, uuid.UUID(str(state.problem["patient_id"])))
            return RedirectResponse("/patient", status_code=303)
        _beside(state, TEMPORARY_FIELDS[1] if TEMPORARY_FIELDS[0] in state.values else "hetu")
    return _registration(request, session, state, missed=False, status_code=422)


@router.get("/patient")
def patient_page(request: Request, principal: PagePatientFinder, session: WriteSession) -> Response:
    """The current patient (a read, audited) and the referrals of theirs the reader may see."""
    patient = current_patient(request, session, principal)
    if patient is None:
        return RedirectResponse("/patients/find", status_code=303)
    return _patient(request, session, principal, patient)


def _patient(
    request: Request,
    session: Session,
    principal: Principal,
    patient: Patient,
    identifying: FormState | None = None,
    status_code: int = 200,
) -> Response:
    where = WorklistFilter(patient_id=patient.id, newest_first=True)
    referrals = referral_service.worklist(session, principal, where, REFERRALS_SHOWN)
    details = nondisclosure.shown(session, principal, patient)
    context = {
        "patient": details,
        "age": age_on(patient.birth_date, today_in_helsinki()),
        "sexes": SEXES,
        "municipality": _municipality_name(request, session, details),
        "referrals": [referral for referral, _patient in referrals.rows],
        "more_referrals": referrals.more,
        "status_labels": STATUS_LABELS,
        "may_refer": has_permission(principal, Permission.referral_send),
        # Someone known by a temporary identifier: the code, when it arrives, is recorded here
        # (and a refused one is shown where it was typed).
        "may_identify": (
            details.identified_by == "temporary_identifier"
            or (identifying is not None and identifying.failed)
        )
        and has_permission(principal, Permission.patient_register),
        "identifying": identifying or FormState(),
        **form_fields(),
    }
    return render(request, "patients/patient.html", context, status_code=status_code)


@router.post("/patient/identify")
def identify(
    request: Request, form: CheckedForm, principal: PagePatientRegistrar, session: WriteSession
) -> Response:
    """The personal identity code has arrived for the current patient, registered under a
    temporary identifier: `POST /api/v1/patients/identify`, which records it or joins the
    record to the one registered with the code meanwhile (then the current patient)."""
    throttle.check_user(request, principal)
    patient = current_patient(request, session, principal)
    if patient is None:
        return RedirectResponse("/patients/find", status_code=303)
    state = FormState(values=_typed(form, ("hetu",)))
    ciphertext = patient.temporary_id_ciphertext
    if ciphertext is None:
        # Registered by their code: no temporary identifier to record it for.
        raise NotFound(refusal=RefusalContext(service.RESOURCE, str(patient.id), str(patient.id)))
    values = {
        **nested(state.values),
        "temporary_id": protection.unseal_temporary(ciphertext, patient.id),
    }
    body = validate(PatientIdentify, values, page_language(request), state)
    if body is not None:
        known = attempt(
            session,
            request,
            lambda: patient_identity.identify(session, principal, body),
            state,
            AuditAction.update,
        )
        if known is not None:
            choose(request, known.id)
            joined = known.id != patient.id
            sessions.current(request).data["flash"] = IDENTIFIED[joined]
            return RedirectResponse("/patient", status_code=303)
    status_code = refused_status(state)
    _beside(state, "hetu")
    return _patient(request, session, principal, patient, state, status_code)


def _municipality_name(request: Request, session: Session, patient: PatientRead) -> str | None:
    if patient.home_municipality_code is None:
        return None
    swedish = page_language(request) == "sv"
    for municipality in organisations.municipalities(session):
        if municipality.municipality_code == patient.home_municipality_code:
            return municipality.name_sv if swedish else municipality.name_fi
    return patient.home_municipality_code


def patient_language(patient: Patient) -> str:
    """The patient's language if the pages offer it for counselling, else Finnish."""
    return patient.language if patient.language in LANGUAGES else "fi"


def current_patient(request: Request, session: Session, principal: Principal) -> Patient | None:
    """The session's current patient, read as the patient's page reads them (audited); one
    whose record was since joined to another (their code arrived) is that other now."""
    patient_id = current_patient_id(request)
    if patient_id is None:
        return None
    patient = service.read_current(session, principal, patient_id)
    if patient.id != patient_id:
        choose(request, patient.id, chart_diagnoses(request))
    return patient
