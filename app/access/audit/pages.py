"""The audit log in the browser, for auditors: a search of the log and the log's status. The
search runs `reports.search`, as `GET /api/v1/audit/events` does, and so is logged the same
way; a patient is named by identity code in the form's body, looked up as the API's look-up
does (audited, a miss too), and only their pseudonymous id is kept for the pages that follow.

The search asked is kept in the page session (`data["audit_search"]`), so that the results and
their next pages are addresses of their own (Post/Redirect/Get) without the code in any."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from app.access import throttle
from app.access.audit import labels, reports, repository, sealing, service
from app.access.audit.models import AuditAction, AuditEvent, AuditOutcome, AuditPurpose
from app.access.audit.refusals import audited_as, record_refused
from app.access.audit.reports import EntryCursor, SearchFilter
from app.access.permissions import Permission
from app.access.principal import Principal
from app.db import WriteSession
from app.errors import NotFound
from app.i18n import N_, Language, translate
from app.kit.clock import helsinki_midnight, utcnow
from app.kit.pagination import Cursor, Window, decode_cursor
from app.kit.types import CalendarDate
from app.patients import service as patients
from app.patients.models import Patient
from app.patients.schemas import PatientLookup
from app.web import sessions
from app.web.csrf import CheckedForm
from app.web.forms import FormState, attempt, form_fields, validate
from app.web.pages import PageRoute
from app.web.signin import page_require
from app.web.templating import page_language, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PageAuditor = Annotated[Principal, Depends(page_require(Permission.audit_read))]
SEARCH = "audit_search"
VERIFIED = "audit_verified"
# Entries on one page of results.
PAGE_SIZE = 50
# The characters of a record's id shown: enough to tell one patient's records apart.
SHORT_ID = 8
FILTERS = ("actor", "action", "outcome", "purpose", "start", "end")
NO_SUCH_PATIENT = N_("No patient with this identity code is registered in Askel.")
END_BEFORE_START = N_("The end of the period is before its start.")
# What `service.verify` reports, in words of the pages' languages.
BREAKS = {
    "an entry is missing": N_("an entry is missing"),
    "a leaf of the tree is missing": N_("a leaf of the tree is missing"),
    "the entry's stored form is altered": N_("the entry's stored form is altered"),
    "the entry has been altered": N_("the entry has been altered"),
    "the link to the previous entry is broken": N_("the link to the previous entry is broken"),
}
SIZED_BREAKS = (
    (re.compile(r"^the tree head of size (\d+) is not signed by Askel's key$"),
     N_("the tree head of size {size} is not signed by Askel's key")),
    (re.compile(r"^the tree differs from its signed head of size (\d+)$"),
     N_("the tree differs from its signed head of size {size}")),
    (re.compile(r"^the head of size (\d+) does not extend the one before$"),
     N_("the head of size {size} does not extend the one before")),
    (re.compile(r"^entries up to the signed head of size (\d+) are missing$"),
     N_("entries up to the signed head of size {size} are missing")),
)  # fmt: skip


class SearchForm(BaseModel):
    """The search's fields besides the patient: the API's query parameters, by day."""

    model_config = ConfigDict(extra="forbid")

    actor: Annotated[str | None, Field(max_length=128)] = None
    action: AuditAction | None = None
    outcome: AuditOutcome | None = None
    purpose: AuditPurpose | None = None
    start: CalendarDate | None = None
    end: CalendarDate | None = None


def typed(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    return {name: value.strip() for name in names if isinstance(value := form.get(name), str)}


def find_patient(
    request: Request, session: Session, principal: Principal, state: FormState
) -> Patient | None:
    """The patient of the identity code typed in `state.values["hetu"]`, looked up as
    `POST /api/v1/patients/lookup` does (audited, a miss too); None with the message beside
    the field."""
    # Guessing codes is as slow here as through the API.
    throttle.check_user(request, principal)
    language = page_language(request)
    lookup = validate(PatientLookup, {"hetu": state.values.get("hetu", "")}, language, state)
    if lookup is None or (hetu := lookup.hetu) is None:
        return None
    try:
        found = attempt(
            session,
            request,
            lambda: patients.lookup(session, principal, hetu),
            state,
            AuditAction.query,
        )
    except NotFound as missing:
        record_refused(session, request, missing, AuditAction.query)
        state.errors["hetu"] = translate(NO_SUCH_PATIENT, language)
        return None
    if found is None and state.problem is not None:
        # The code's own fault (its check character, its date): said beside the field.
        state.errors.setdefault("hetu", str(state.problem["detail"]))
        state.problem = None
    return found


def patient_label(patient: Patient) -> str:
    return f"{patient.family_name}, {patient.given_name}"


@dataclass(frozen=True, slots=True)
class Row:
    """An entry as the results show it: its patient by name, its record by a short id."""

    entry: AuditEvent
    patient: str | None
    record: str | None


def _short(record_id: str) -> str:
    """A UUID by its first characters, which tell one patient's records apart."""
    return f"{record_id[:SHORT_ID]}\u2026" if len(record_id) > SHORT_ID + 4 else record_id


def _record(entry: AuditEvent) -> str | None:
    """The entry's record id where it tells one record of a kind from another (a patient's
    own details are named by the patient column)."""
    found = entry.resource_id
    if not found or found == str(entry.patient_id):
        return None
    return _short(found)


def _rows(
    session: Session, principal: Principal, asked: dict[str, Any], entries: Sequence[AuditEvent]
) -> list[Row]:
    """The entries with their patients' names, read at once. The patient searched for was
    named by the auditor's own look-up; the names of the others shown are audited reads."""
    about = asked.get("patient_id")
    names: dict[uuid.UUID, str] = {uuid.UUID(about): str(asked["patient_name"])} if about else {}
    others = {entry.patient_id for entry in entries if entry.patient_id} - set(names)
    read = patients.read_many(session, principal, others)
    names |= {patient_id: patient_label(patient) for patient_id, patient in read.items()}
    return [Row(entry, _patient(names, entry), _record(entry)) for entry in entries]


def _patient(names: dict[uuid.UUID, str], entry: AuditEvent) -> str | None:
    """The entry's patient by name; one no longer registered by a short id."""
    if entry.patient_id is None:
        return None
    return names.get(entry.patient_id) or _short(str(entry.patient_id))


@router.get("/audit/events")
def search_page(
    request: Request, principal: PageAuditor, session: WriteSession, cursor: Cursor = None
) -> Response:
    """The search form; once a search is asked, its results, a page at a time (each page a
    search of the log, logged as the API's is)."""
    asked = sessions.current(request).data.get(SEARCH)
    asked = asked if isinstance(asked, dict) else None
    values = {name: str(asked[name]) for name in FILTERS if asked and asked.get(name)}
    if asked and asked.get("patient_id"):
        values["same_patient"] = "true"
    context: dict[str, Any] = {"state": FormState(values=values), "asked": asked}
    if asked is not None:
        context |= _results(session, principal, asked, cursor)
    return _search_page(request, context)


def _search_page(request: Request, context: dict[str, Any], status_code: int = 200) -> Response:
    language = page_language(request)

    def named(words: Mapping[str, str]) -> dict[str, str]:
        return {code: translate(word, language) for code, word in words.items()}

    page = {
        "labels": labels,
        "actions": [str(action) for action in AuditAction],
        "action_names": named(labels.ACTIONS),
        "outcomes": [str(outcome) for outcome in AuditOutcome],
        "outcome_names": named(labels.OUTCOMES),
        "purposes": [str(purpose) for purpose in AuditPurpose],
        "purpose_names": named(labels.PURPOSES),
        **form_fields(),
        **context,
    }
    return render(request, "audit/search.html", page, status_code=status_code)


def _results(
    session: Session, principal: Principal, asked: dict[str, Any], cursor: str | None
) -> dict[str, Any]:
    before = decode_cursor(cursor, EntryCursor).s if cursor else None
    patient_id = asked.get("patient_id")
    start, end = asked.get("start"), asked.get("end")
    where = SearchFilter(
        patient_id=uuid.UUID(patient_id) if patient_id else None,
        actor=asked.get("actor") or None,
        action=asked.get("action") or None,
        outcome=asked.get("outcome") or None,
        purpose=asked.get("purpose") or None,
        start=helsinki_midnight(date.fromisoformat(start)) if start else None,
        end=helsinki_midnight(date.fromisoformat(end) + timedelta(days=1)) if end else None,
    )
    found = reports.search(session, principal, where, before_seq=before, limit=PAGE_SIZE + 1)
    page = Window.of(found, PAGE_SIZE)
    return {
        "entries": _rows(session, principal, asked, page.rows),
        "directory": reports.directory(session, page.rows),
        "next_cursor": page.next_cursor(lambda event: EntryCursor(s=event.seq)),
        "first_page": cursor is None,
    }


@router.post("/audit/events", openapi_extra=audited_as(AuditAction.query))
def search(
    request: Request, form: CheckedForm, principal: PageAuditor, session: WriteSession
) -> Response:
    """Ask a search: the patient looked up by identity code (or the one of the search before,
    kept if asked), then the results' first page."""
    state = FormState(values=typed(form, ("hetu", "same_patient", *FILTERS)))
    language = page_language(request)
    fields = {name: state.values[name] for name in FILTERS if state.values.get(name)}
    chosen = validate(SearchForm, fields, language, state)
    if chosen and chosen.start and chosen.end and chosen.end < chosen.start:
        state.errors["end"] = translate(END_BEFORE_START, language)
    before = sessions.current(request).data.get(SEARCH)
    patient_id, patient_name = None, None
    if state.values.get("hetu"):
        patient = find_patient(request, session, principal, state)
        if patient is not None:
            patient_id, patient_name = str(patient.id), patient_label(patient)
    elif state.values.get("same_patient") == "true" and isinstance(before, dict):
        patient_id, patient_name = before.get("patient_id"), before.get("patient_name")
    if chosen is None or state.failed:
        context = {"state": state, "asked": before if isinstance(before, dict) else None}
        return _search_page(request, context, status_code=422)
    kept = chosen.model_dump(mode="json", exclude_none=True)
    sessions.current(request).data[SEARCH] = {
        **kept, "patient_id": patient_id, "patient_name": patient_name,
    }  # fmt: skip
    return RedirectResponse("/audit/events", status_code=303)


@router.post("/audit/events/clear")
def clear_search(request: Request, form: CheckedForm, principal: PageAuditor) -> Response:
    """Forget the search asked: the form empty again."""
    sessions.current(request).data.pop(SEARCH, None)
    return RedirectResponse("/audit/events", status_code=303)


@router.get("/audit/status")
def status_page(request: Request, principal: PageAuditor, session: WriteSession) -> Response:
    """The log's state: the last check of it in this session, the entries waiting for the
    sealer and how long the oldest has waited, and the newest signed tree head."""
    waiting, oldest = repository.unsealed(session)
    lag = utcnow() - oldest if oldest is not None else None
    verified = sessions.current(request).data.get(VERIFIED)
    context = {
        "verified": _verified(verified, page_language(request)),
        "waiting": waiting,
        "lag_seconds": int(lag.total_seconds()) if lag else 0,
        "lag_overdue": lag is not None and lag > service.SEALING_DELAY,
        "delay_seconds": int(service.SEALING_DELAY.total_seconds()),
        "head": repository.newest_head(session),
        "public_key": sealing.public_key_bytes().hex(),
    }
    return render(request, "audit/status.html", context)


def _verified(kept: object, language: Language) -> dict[str, Any] | None:
    if not isinstance(kept, dict):
        return None
    reason = kept.get("reason")
    return {**kept, "at": datetime.fromisoformat(kept["at"]), "reason": _break(reason, language)}


def _break(reason: object, language: Language) -> str | None:
    """The fault `verify` found, in the reader's language."""
    if not isinstance(reason, str):
        return None
    if reason in BREAKS:
        return translate(BREAKS[reason], language)
    for pattern, message in SIZED_BREAKS:
        if matched := pattern.match(reason):
            return translate(message, language, size=matched.group(1))
    return reason


@router.post("/audit/status/verify", openapi_extra=audited_as(AuditAction.read))
def verify(
    request: Request, form: CheckedForm, principal: PageAuditor, session: WriteSession
) -> Response:
    """Check the log as `POST /api/v1/audit/verify` and `askel audit verify` do; the result is
    shown on the status page."""
    report = service.verify(session)
    sessions.current(request).data[VERIFIED] = {
        "ok": report.ok,
        "checked": report.checked,
        "broken_at": report.broken_at,
        "reason": report.reason,
        "overdue": report.overdue,
        "at": utcnow().isoformat(),
    }
    return RedirectResponse("/audit/status", status_code=303)
