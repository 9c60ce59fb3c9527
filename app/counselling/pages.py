"""The counselling tab in the browser: the visits recorded and the visit form, corrections, the
activity plan (`plan_pages`) and the outcome with the completion (`completion_pages`). Each page
calls the services the API's endpoints call, in the request's transaction, so that the same
records and audit entries are written; the services decide who may see and do what."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from app.access.audit.models import AuditAction
from app.access.audit.refusals import audited_as
from app.access.principal import Principal
from app.classifications.contact_modes import CONTACT_MODES
from app.counselling import completion_pages, plan_pages, service
from app.counselling.context import Tab, tab_of
from app.counselling.models import Visit
from app.counselling.page_forms import common, field_names, flat, limits, number, typed
from app.counselling.schemas import (
    StageOfChange,
    VisitCorrection,
    VisitFields,
    VisitIn,
)
from app.db import WriteSession
from app.errors import NotFound, RefusalContext
from app.flows import visit_recording
from app.i18n import N_
from app.kit.clock import today_in_helsinki, utcnow
from app.organisations import service as organisations
from app.scheduling import booking
from app.scheduling.repository import AppointmentFilter
from app.web import sessions
from app.web.csrf import CheckedForm
from app.web.forms import FormState, attempt, form_values, nested, placed, refused_status, validate
from app.web.pages import PageRoute
from app.web.signin import PageUser
from app.web.templating import page_language, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

CONTACT_TYPES = CONTACT_MODES
STAGES = get_args(StageOfChange)
# A refusal of the service that concerns one field is shown beside it.
VISIT_PROBLEM_FIELDS = {
    "dated_outside_referral": "visited_on",
    "appointment_of_another_referral": "appointment_id",
    "appointment_not_attended": "appointment_id",
    "appointment_has_visit": "appointment_id",
    "appointment_not_started": "appointment_id",
}
# What a change did, said once on the page it leads to.
RECORDED = N_("The visit is recorded.")
CORRECTED = N_("The correction is saved. The earlier version is kept with it.")
# Appointments a visit can be recorded for: held, or booked and begun (recording marks it held).
LINKABLE = ("booked", "attended")
# How many of the referral's appointments the form offers to link a visit to.
APPOINTMENTS_SHOWN = 100


def minutes_a_week(days: object, minutes: object) -> int | None:
    """The schema's own figure (LOINC 82290-8) of days and minutes as typed, if both are."""
    if isinstance(days, int) and isinstance(minutes, int):
        figures: dict[str, Any] = {"mvpa_days_per_week": days, "mvpa_minutes_per_day": minutes}
        return VisitIn.model_construct(**figures).minutes_per_week
    return None


def _history(visits: Sequence[Visit]) -> list[tuple[Visit, list[Visit]]]:
    """Each record as it stands now, with the versions it corrected, newest first."""
    by_id = {visit.id: visit for visit in visits}
    shown = []
    for visit in visits:
        if visit.corrected:
            continue
        earlier, step = [], visit
        while step.supersedes_id is not None and step.supersedes_id in by_id:
            step = by_id[step.supersedes_id]
            earlier.append(step)
        shown.append((visit, earlier))
    return shown


@router.get("/referrals/{referral_id}/visits")
def visits_page(
    referral_id: uuid.UUID,
    request: Request,
    principal: PageUser,
    session: WriteSession,
) -> Response:
    """The visits on the tab: each as it stands now, corrections marked with their reason."""
    tab = tab_of(session, principal, referral_id)
    visits = service.visits(session, principal, referral_id)
    context = {**common(request, tab), "records": _history(visits)}
    return render(request, "counselling/visits.html", context)


def _visit_form(
    request: Request,
    session: WriteSession,
    principal: Principal,
    tab: Tab,
    state: FormState,
    *,
    original: Visit | None = None,
    status_code: int = 200,
) -> Response:
    appointments = []
    if original is None:
        # The API's GET /appointments?referral_id=…&end=now: each one shown is audited.
        where = AppointmentFilter(referral_id=tab.referral.id, end=utcnow())
        found = booking.list_appointments(session, principal, where, APPOINTMENTS_SHOWN)
        appointments = [a for a in found.rows if a.status in LINKABLE]
    values = typed(VisitIn, nested(state.values))
    context = {
        **common(request, tab),
        "state": state,
        "original": original,
        "appointments": appointments,
        "contact_types": CONTACT_TYPES,
        "stages": STAGES,
        "limits": limits(VisitFields),
        "minutes_a_week": minutes_a_week(
            values.get("mvpa_days_per_week"), values.get("mvpa_minutes_per_day")
        ),
        "today": today_in_helsinki(),
        "place_names": organisations.place_names(session, page_language(request)),
    }
    return render(request, "counselling/visit_form.html", context, status_code=status_code)


def _refused(state: FormState, schema: type[VisitIn]) -> int:
    status = refused_status(state)
    placed(state, field_names(schema, {}), VISIT_PROBLEM_FIELDS)
    return status


@router.get("/referrals/{referral_id}/visits/new")
def new_visit(
    referral_id: uuid.UUID, request: Request, principal: PageUser, session: WriteSession
) -> Response:
    """The visit form: contact, the activity vital sign, stage of change, measurements."""
    tab = tab_of(session, principal, referral_id)
    state = FormState(values={"visited_on": today_in_helsinki().isoformat()})
    return _visit_form(request, session, principal, tab, state)


@router.post("/referrals/{referral_id}/visits")
def record_visit(
    referral_id: uuid.UUID,
    request: Request,
    principal: PageUser,
    session: WriteSession,
    form: CheckedForm,
) -> Response:
    """Record the visit as the API does; a refused form comes back with everything typed."""
    tab = tab_of(session, principal, referral_id)
    language = page_language(request)
    state = FormState(values=form_values(form))
    data = validate(VisitIn, typed(VisitIn, nested(state.values)), language, state)
    if data is not None:
        recorded = attempt(
            session,
            request,
            lambda: visit_recording.record_visit(session, principal, referral_id, data, utcnow()),
            state,
        )
        if recorded is not None:
            sessions.current(request).data["flash"] = RECORDED
            return RedirectResponse(f"/referrals/{referral_id}/visits", 303)
    status = _refused(state, VisitIn)
    return _visit_form(request, session, principal, tab, state, status_code=status)


def _record(
    session: WriteSession, principal: Principal, referral_id: uuid.UUID, visit_id: uuid.UUID
) -> Visit:
    """The visit among the tab's records (the API's list of them, audited as such)."""
    for visit in service.visits(session, principal, referral_id):
        if visit.id == visit_id:
            return visit
    raise NotFound(refusal=RefusalContext("Visit", str(visit_id)))


def _current(visits: Sequence[Visit], visit: Visit) -> Visit:
    """The record that stands now in place of `visit`, following its corrections."""
    successors = {v.supersedes_id: v for v in visits if v.supersedes_id is not None}
    while visit.corrected and visit.id in successors:
        visit = successors[visit.id]
    return visit


def recorded_values(visit: Visit) -> dict[str, str]:
    """The record's content as the form's fields."""
    names = set(VisitFields.model_fields) - {"appointment_id"}
    return flat({name: getattr(visit, name) for name in names})


@router.get("/referrals/{referral_id}/visits/{visit_id}/correct")
def correction_form(
    referral_id: uuid.UUID,
    visit_id: uuid.UUID,
    request: Request,
    principal: PageUser,
    session: WriteSession,
) -> Response:
    """The correction form, filled in with the record as it stands, the record beside it."""
    tab = tab_of(session, principal, referral_id)
    visits = service.visits(session, principal, referral_id)
    original = next((visit for visit in visits if visit.id == visit_id), None)
    if original is None:
        raise NotFound(refusal=RefusalContext("Visit", str(visit_id)))
    newest = _current(visits, original)
    if newest is not original:
        # A corrected record is corrected through the record that replaced it.
        return RedirectResponse(f"/referrals/{referral_id}/visits/{newest.id}/correct", 303)
    state = FormState(values=recorded_values(original))
    return _visit_form(request, session, principal, tab, state, original=original)


@router.post(
    "/referrals/{referral_id}/visits/{visit_id}/correct",
    openapi_extra=audited_as(AuditAction.update),
)
def correct_visit(
    referral_id: uuid.UUID,
    visit_id: uuid.UUID,
    request: Request,
    principal: PageUser,
    session: WriteSession,
    form: CheckedForm,
) -> Response:
    """Save the correction as the API does: the whole record, a field left empty removed."""
    tab = tab_of(session, principal, referral_id)
    language = page_language(request)
    state = FormState(values=form_values(form))
    body = typed(VisitCorrection, nested(state.values))
    # The API's contract: a correction restates the record; what the form leaves empty, goes
    # (a box left unticked is a no).
    body |= {
        name: False if name in service.FLAGS else None
        for name in service.CORRECTABLE
        if name not in body
    }
    data = validate(VisitCorrection, body, language, state)
    if data is not None:
        corrected = attempt(
            session, request, lambda: service.correct(session, principal, visit_id, data), state
        )
        if corrected is not None:
            sessions.current(request).data["flash"] = CORRECTED
            return RedirectResponse(f"/referrals/{corrected.referral_id}/visits", 303)
    status = _refused(state, VisitCorrection)
    original = _record(session, principal, referral_id, visit_id)
    return _visit_form(
        request, session, principal, tab, state, original=original, status_code=status
    )


@router.get("/counselling/minutes-a-week")
def minutes_a_week_figure(
    request: Request,
    principal: PageUser,
    mvpa_days_per_week: Annotated[str, Query(max_length=20)] = "",
    mvpa_minutes_per_day: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """Minutes a week of the days and minutes as typed, for the visit form (htmx)."""
    values = typed(
        VisitIn,
        {"mvpa_days_per_week": mvpa_days_per_week, "mvpa_minutes_per_day": mvpa_minutes_per_day},
    )
    low_days, high_days = limits(VisitFields)["mvpa_days_per_week"]
    low_minutes, high_minutes = limits(VisitFields)["mvpa_minutes_per_day"]
    days, minutes = values["mvpa_days_per_week"], values["mvpa_minutes_per_day"]
    within = (
        isinstance(days, int)
        and isinstance(minutes, int)
        and low_days <= days <= high_days
        and low_minutes <= minutes <= high_minutes
    )
    figure = minutes_a_week(days, minutes) if within else None
    context = {"minutes_a_week": figure, "number": lambda v: number(v, page_language(request))}
    return render(request, "counselling/_minutes_a_week.html", context)


router.include_router(plan_pages.router)
router.include_router(completion_pages.router)
