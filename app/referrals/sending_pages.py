"""A clinician refers the current patient to counselling, as GOV.UK's pattern and NHS
e-Referral's flow have it: one form, then "check your answers", then the send, which is the
API's (`router.send_once`: the same routing, policy, audit entries and idempotency). The draft
lives in the page session, never in the database, until it is sent; its own id is the send's
idempotency key, so a second press of the button sends nothing twice. And the list of the
referrals the clinician and their unit sent."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from app.access.audit.models import AuditAction
from app.db import WriteSession
from app.i18n import N_, Language, translate
from app.kit.clock import today_in_helsinki
from app.kit.pagination import Cursor, TimeAndId, after_time_and_id
from app.organisations import service as organisations
from app.patients import nondisclosure
from app.patients import service as patient_service
from app.patients.models import Patient
from app.patients.pages import (
    chart_diagnoses,
    current_patient,
    current_patient_id,
    patient_language,
)
from app.referrals import service
from app.referrals.common_reasons import BY_VALUE, named, offered
from app.referrals.exceptions import ConsentRequired
from app.referrals.pages import STATUS_LABELS
from app.referrals.repository import WorklistFilter
from app.referrals.router import send_once
from app.referrals.schemas import ReferralCreate
from app.referrals.states import Status
from app.web import sessions
from app.web.csrf import CheckedForm
from app.web.forms import FormState, attempt, form_fields, validate
from app.web.pages import PageRoute
from app.web.signin import PageReferralSender
from app.web.templating import finnish_date, page_language, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DRAFT = "referral_draft"
# The last draft sent: a second press of its button finds it here and is shown the result.
SENT = "referral_sent"
REASON_ROWS = 3
TEXTS = ("reason_text", "goal", "exercise_restrictions", "risk_factors")
CHOICES = ("urgency", "preferred_language", "contact_mode")
YES_NO = ("consent_to_counselling", "book_by_service")
ROWS = tuple(f"reason_codes.{row}.{part}" for row in range(REASON_ROWS)
             for part in ("system", "code"))  # fmt: skip
FIELDS = (*TEXTS, *CHOICES, *YES_NO, *ROWS)
SENT_SHOWN = 50
SYSTEMS = {"icd10": "ICD-10", "icpc2": "ICPC-2"}
SENT_FOR_BOOKING = N_("The referral was sent. Book the patient's first appointment.")
SENT_TO_BOOK = N_(
    "The referral was sent. The service will book the appointment and contact the patient by {day}."
)


def _values(form: FormData) -> dict[str, str]:
    """What was typed, and the common reasons ticked (only those the form offers today)."""
    values = {name: value for name in FIELDS if isinstance(value := form.get(name), str)}
    today = {reason.value for reason in offered(today_in_helsinki())}
    ticked = [value for value in form.getlist("common") if value in today]
    values["common"] = ",".join(ticked)
    return values


def _defaults(patient: Patient) -> dict[str, str]:
    return {
        "urgency": "routine",
        "preferred_language": patient_language(patient),
        "contact_mode": "in_person",
        "book_by_service": "false",
        **{f"reason_codes.{row}.system": "icd10" for row in range(REASON_ROWS)},
    }


def _referral(
    values: dict[str, str], patient_id: uuid.UUID, language: Language, state: FormState
) -> ReferralCreate | None:
    """The form as the API's `ReferralCreate`, or None with each message beside its field."""
    codes: list[dict[str, str]] = []
    places: list[str] = []

    def add(system: str, code: str, place: str) -> None:
        if all((system, code.strip().upper()) != (c["system"], c["code"].upper()) for c in codes):
            codes.append({"system": system, "code": code.strip()})
            places.append(place)

    for value in filter(None, values.get("common", "").split(",")):
        if value in BY_VALUE:
            add(BY_VALUE[value].system, BY_VALUE[value].code, "reason_codes")
    for row in range(REASON_ROWS):
        code = values.get(f"reason_codes.{row}.code", "")
        if code.strip():
            add(values.get(f"reason_codes.{row}.system", ""), code, f"reason_codes.{row}")
    payload: dict[str, Any] = {"patient_id": str(patient_id), "reason_codes": codes}
    payload |= {name: values[name] for name in (*TEXTS, *CHOICES) if values.get(name, "").strip()}
    payload |= {name: values.get(name) == "true" for name in YES_NO}
    found = FormState()
    referral = validate(ReferralCreate, payload, language, found)
    for name, message in found.errors.items():
        state.errors.setdefault(_place(name, places), message)
    if payload["consent_to_counselling"] is not True:
        # The service's own refusal, said beside the box before the check page, not after it.
        state.errors["consent_to_counselling"] = translate(ConsentRequired.detail, language)
    return None if state.errors else referral


def _place(name: str, places: list[str]) -> str:
    """The form's field of a message about `reason_codes.<n>.<part>`: the row it came from, or
    the reasons as a whole for a common one."""
    parts = name.split(".")
    if parts[0] != "reason_codes" or len(parts) < 2 or not parts[1].isdigit():
        return name
    place = places[int(parts[1])] if int(parts[1]) < len(places) else "reason_codes"
    if place == "reason_codes":
        return place
    return ".".join([place, *parts[2:]]) if len(parts) > 2 else f"{place}.code"


def _draft(request: Request, patient_id: uuid.UUID | None) -> dict[str, Any] | None:
    """The session's draft, if it is the patient's."""
    draft = sessions.current(request).data.get(DRAFT)
    if isinstance(draft, dict) and patient_id and draft.get("patient_id") == str(patient_id):
        return draft
    return None


def _form(request: Request, patient: Patient, state: FormState, status_code: int = 200) -> Response:
    language = page_language(request)
    context = {
        "patient": patient,
        "state": state,
        "rows": range(REASON_ROWS),
        "common_reasons": [
            (r.value, r.code, r.name(language)) for r in offered(today_in_helsinki())
        ],
        "ticked": state.values.get("common", "").split(","),
        "systems": SYSTEMS,
        **form_fields(),
    }
    return render(request, "referrals/refer.html", context, status_code=status_code)


def _no_patient() -> Response:
    return RedirectResponse("/patients/find", status_code=303)


@router.get("/patient/referral")
def referral_form(
    request: Request, principal: PageReferralSender, session: WriteSession
) -> Response:
    """The referral form for the current patient, with the draft's answers if there is one."""
    patient = current_patient(request, session, principal)
    if patient is None:
        return _no_patient()
    draft = _draft(request, patient.id)
    values = draft["values"] if draft else {**_defaults(patient), **_diagnoses(request)}
    return _form(request, patient, FormState(values=values))


def _diagnoses(request: Request) -> dict[str, str]:
    """The rows of coded reasons filled in with the chart's diagnoses."""
    rows = chart_diagnoses(request)[:REASON_ROWS]
    return {f"reason_codes.{row}.{part}": str(reason[part])
            for row, reason in enumerate(rows) for part in ("system", "code")}  # fmt: skip


@router.post("/patient/referral")
def keep_draft(
    request: Request, form: CheckedForm, principal: PageReferralSender, session: WriteSession
) -> Response:
    """The answers, checked by the API's schema, kept as the draft; then to check them."""
    patient_id = current_patient_id(request)
    if patient_id is None:
        return _no_patient()
    state = FormState(values=_values(form))
    if _referral(state.values, patient_id, page_language(request), state) is None:
        patient = patient_service.read(session, principal, patient_id)
        return _form(request, patient, state, status_code=422)
    draft = _draft(request, patient_id)
    sessions.current(request).data[DRAFT] = {
        "id": draft["id"] if draft else str(uuid.uuid4()),
        "patient_id": str(patient_id),
        "values": state.values,
    }
    return RedirectResponse("/patient/referral/check", status_code=303)


@router.get("/patient/referral/check")
def check_page(request: Request, principal: PageReferralSender, session: WriteSession) -> Response:
    """Every answer of the draft with a way back to change it, and the button that sends."""
    patient_id = current_patient_id(request)
    draft = _draft(request, patient_id)
    if patient_id is None or draft is None:
        return RedirectResponse("/patient/referral", status_code=303)
    patient = patient_service.read(session, principal, patient_id)
    language = page_language(request)
    state = FormState(values=draft["values"])
    referral = _referral(state.values, patient_id, language, state)
    if referral is None:
        return _form(request, patient, state, status_code=422)
    home = nondisclosure.routing_municipality(session, principal, patient)
    routed = organisations.route(session, home, referral.preferred_language or patient.language)
    context = {
        "patient": patient,
        "referral": referral,
        "draft_id": draft["id"],
        "reasons": [
            (SYSTEMS[reason.system], reason.code, named(reason.system, reason.code, language))
            for reason in referral.reason_codes
        ],
        "service_name": organisations.service_name(routed, language) if routed else None,
        # The home municipality's service would name where a protected patient lives.
        "service_withheld": nondisclosure.withheld_from(principal, patient),
    }
    return render(request, "referrals/refer_check.html", context)


@router.post("/patient/referral/send")
def send(
    request: Request, form: CheckedForm, principal: PageReferralSender, session: WriteSession
) -> Response:
    """Send the checked draft as `POST /api/v1/referrals` does, its id the idempotency key;
    then to booking, or to the referral when the service books."""
    data = sessions.current(request).data
    pressed = form.get("draft")
    draft = data.get(DRAFT)
    if not (isinstance(draft, dict) and draft.get("id") == pressed):
        last = data.get(SENT)
        if isinstance(last, dict) and last.get("draft") == pressed:
            return _sent(request, last)
        return RedirectResponse("/patient/referral", status_code=303)
    patient_id = uuid.UUID(draft["patient_id"])
    state = FormState(values=draft["values"])
    referral = _referral(state.values, patient_id, page_language(request), state)
    if referral is not None:
        body, key = referral, f"page:{draft['id']}"
        answer = attempt(
            session,
            request,
            lambda: send_once(session, principal, body, key),
            state,
            AuditAction.create,
        )
        if answer is not None:
            contact_by = answer.expected_contact_by
            last = {
                "draft": draft["id"],
                "referral": str(answer.id),
                "by_service": answer.booking_by_service,
                "contact_by": finnish_date(contact_by) if contact_by else "",
            }
            data.pop(DRAFT, None)
            data[SENT] = last
            return _sent(request, last)
    patient = patient_service.read(session, principal, patient_id)
    status_code = int(state.problem["status"]) if state.problem else 422
    return _form(request, patient, state, status_code=status_code)


def _sent(request: Request, last: dict[str, Any]) -> Response:
    """To booking, or, when the service books, to the referral with the day it will call by."""
    data = sessions.current(request).data
    if last.get("by_service"):
        data["flash"] = {"text": SENT_TO_BOOK, "params": {"day": last["contact_by"]}}
        return RedirectResponse(f"/referrals/{last['referral']}", status_code=303)
    data["flash"] = SENT_FOR_BOOKING
    return RedirectResponse(f"/referrals/{last['referral']}/book", status_code=303)


@router.get("/referrals/sent")
def sent_referrals(
    request: Request,
    principal: PageReferralSender,
    session: WriteSession,
    status: Annotated[Status | None, Query()] = None,
    cursor: Cursor = None,
) -> Response:
    """The referrals the clinician and their unit sent, newest first (the API's list)."""
    after = after_time_and_id(cursor, uuid.UUID)
    where = WorklistFilter(
        statuses=[status] if status else None,
        newest_first=True,
        after=(0, *after) if after else None,
    )
    found = service.worklist(session, principal, where, SENT_SHOWN)
    swedish = page_language(request) == "sv"
    context = {
        "rows": found.rows,
        "status": status,
        "next_cursor": found.next_cursor(
            lambda row: TimeAndId[uuid.UUID](t=row[0].created_at, i=row[0].id)
        ),
        "services": {
            listed.id: listed.name_sv if swedish else listed.name_fi
            for listed in organisations.directory(session)
        },
        # The home municipality's service would name where a protected patient lives.
        "withheld": {
            referral.id
            for referral, patient in found.rows
            if nondisclosure.withheld_from(principal, patient)
        },
        "status_labels": STATUS_LABELS,
    }
    return render(request, "referrals/sent.html", context)
