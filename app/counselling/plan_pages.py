"""The activity plan in the browser: the plan as agreed, the form that saves a new version,
versions side by side, the plan's follow-ups booked, and the plan printed for the patient in
the patient's language."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app.access.audit.models import AuditAction
from app.access.audit.refusals import audited_as
from app.access.principal import Principal
from app.counselling import service
from app.counselling.context import Tab, tab_of
from app.counselling.exceptions import PlanVersionNotFound
from app.counselling.page_forms import common, compact, field_names, flat, limits, number, typed
from app.counselling.schemas import ActivityLevel, Goal, PlanIn, PlannedActivity, PlanRead
from app.db import WriteSession
from app.flows import follow_ups
from app.i18n import N_, Language, translate
from app.kit.clock import add_months, today_in_helsinki, utcnow
from app.kit.types import INT64_MAX
from app.web import sessions
from app.web.csrf import CheckedForm
from app.web.forms import FormState, attempt, form_values, nested, placed, refused_status, validate
from app.web.pages import PageRoute
from app.web.signin import PageUser
from app.web.templating import formats_in, page_language, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

GROUPS = ("goals", "activities")
PLAN_PROBLEM_FIELDS = {"dated_outside_referral": "agreed_on"}
# What the comparison of two versions shows, row by row.
COMPARED = ("goals", "activities", "level", "support_agreed", "follow_up_months", "agreed_on",
            "agreed_how", "change_note")  # fmt: skip
# The weekly activity level agreed, compared as one part of the plan.
LEVEL = tuple(ActivityLevel.model_fields)
# The follow-up months a new plan proposes: the API's default.
DEFAULT_FOLLOW_UPS = PlanIn.model_fields["follow_up_months"].get_default(call_default_factory=True)
FOLLOW_UPS = "follow_ups"
SAVED = N_("The plan is saved as a new version.")
VersionNumber = Annotated[int | None, Query(ge=1, le=INT64_MAX)]


def _plan(
    session: Session, principal: Principal, tab: Tab, version: int | None, language: Language
) -> PlanRead:
    """A version of the plan as the API reads it (audited), its standing in `language`."""
    found = service.read_plan(session, principal, tab.referral.id, version)
    return PlanRead.of(found, language)


def _current(
    session: Session, principal: Principal, tab: Tab, language: Language
) -> PlanRead | None:
    try:
        return _plan(session, principal, tab, None, language)
    except PlanVersionNotFound:
        return None


def follow_up_dates(plan: PlanRead) -> list[tuple[int, date]]:
    """Each follow-up and the day it falls on, counted from the day the plan was agreed."""
    return [(months, add_months(plan.agreed_on, months)) for months in plan.follow_up_months]


def _page(request: Request, tab: Tab, **context: Any) -> dict[str, Any]:
    return {
        **common(request, tab),
        "follow_up_dates": follow_up_dates,
        "measures": get_args(Goal.model_fields["measure"].annotation),
        "intensities": get_args(PlannedActivity.model_fields["intensity"].annotation),
        "ways": get_args(PlanIn.model_fields["agreed_how"].annotation),
        **context,
    }


def _bookings(request: Request, referral_id: uuid.UUID) -> list[dict[str, Any]] | None:
    """The follow-ups just booked for this referral, shown once."""
    data = sessions.current(request).data
    flash = data.get(FOLLOW_UPS)
    if not isinstance(flash, dict) or flash.get("referral_id") != str(referral_id):
        return None
    data.pop(FOLLOW_UPS)
    return [
        {
            "months": booking["months"],
            "target_date": date.fromisoformat(booking["target_date"]),
            "start_at": datetime.fromisoformat(booking["start_at"])
            if booking["start_at"]
            else None,
        }
        for booking in flash["bookings"]
    ]


@router.get("/referrals/{referral_id}/plan")
def plan_page(
    referral_id: uuid.UUID,
    request: Request,
    principal: PageUser,
    session: WriteSession,
) -> Response:
    """The activity plan as last agreed with the patient, and what can be done with it."""
    tab = tab_of(session, principal, referral_id)
    plan = _current(session, principal, tab, page_language(request))
    context = _page(request, tab, plan=plan, bookings=_bookings(request, referral_id))
    return render(request, "counselling/plan.html", context)


def _plan_form(
    request: Request,
    tab: Tab,
    state: FormState,
    rows: dict[str, int],
    *,
    current: PlanRead | None,
    status_code: int = 200,
) -> Response:
    context = _page(
        request,
        tab,
        state=state,
        rows=rows,
        current=current,
        limits=limits(Goal) | limits(PlannedActivity) | limits(ActivityLevel),
        today=today_in_helsinki(),
    )
    return render(request, "counselling/plan_form.html", context, status_code=status_code)


def _shown_rows(counts: dict[str, int], more: str | None = None) -> dict[str, int]:
    """Rows of each group on the form: those filled in, and one blank (two if asked)."""
    return {group: counts.get(group, 0) + 1 + (group == more) for group in GROUPS}


@router.get("/referrals/{referral_id}/plan/edit")
def plan_form(
    referral_id: uuid.UUID, request: Request, principal: PageUser, session: WriteSession
) -> Response:
    """The plan's form, filled in with the current version: saving makes a new version."""
    tab = tab_of(session, principal, referral_id)
    current = _current(session, principal, tab, page_language(request))
    values = {"agreed_on": today_in_helsinki().isoformat(), "version": "0",
              "follow_up_months": ", ".join(map(str, DEFAULT_FOLLOW_UPS))}  # fmt: skip
    if current is not None:
        kept = current.model_dump(include={"goals", "activities", "support_agreed", "agreed_how"})
        kept |= current.model_dump(include=set(ActivityLevel.model_fields), exclude_none=True)
        # A yes/no left unticked is no value: an unticked box posts nothing either.
        values |= {name: value for name, value in flat(kept).items() if value != "false"} | {
            "version": str(current.version),
            "follow_up_months": ", ".join(map(str, current.follow_up_months)),
        }
    values, counts = compact(values, GROUPS)
    state = FormState(values=values)
    return _plan_form(request, tab, state, _shown_rows(counts), current=current)


def months(text: str) -> list[str]:
    """The follow-up months as typed, e.g. "1, 3, 6, 12"; the schema judges each."""
    return [part for part in re.split(r"[\s,;]+", text) if part]


@router.post("/referrals/{referral_id}/plan", openapi_extra=audited_as(AuditAction.update))
def save_plan(
    referral_id: uuid.UUID,
    request: Request,
    principal: PageUser,
    session: WriteSession,
    form: CheckedForm,
) -> Response:
    """Save the plan as agreed with the patient: a new version, as the API's PUT does; or, for
    "add a row", the form again with one row more and nothing saved."""
    tab = tab_of(session, principal, referral_id)
    language = page_language(request)
    typed_values = form_values(form)
    more = typed_values.pop("add", None)
    values, counts = compact(typed_values, GROUPS)
    state = FormState(values=values)
    if more in GROUPS:
        current = _current(session, principal, tab, page_language(request))
        return _plan_form(request, tab, state, _shown_rows(counts, more), current=current)
    written = {name: value for name, value in values.items() if name != "version"}
    tree = nested(written, lists=GROUPS) | {
        "follow_up_months": months(values.get("follow_up_months", ""))
    }
    data = validate(PlanIn, typed(PlanIn, tree), language, state)
    version = values.get("version", "")
    expected = int(version) if version.isdigit() and 0 < int(version) <= INT64_MAX else None
    if data is not None:
        saved = attempt(
            session,
            request,
            lambda: service.save_plan(session, principal, referral_id, data, expected),
            state,
        )
        if saved is not None:
            sessions.current(request).data["flash"] = SAVED
            return RedirectResponse(f"/referrals/{referral_id}/plan", 303)
    status = refused_status(state)
    current = _current(session, principal, tab, page_language(request))
    if state.problem and state.problem["code"] in ("stale_version", "precondition_required"):
        # Saved by someone else meanwhile: the form now answers that version, shown beside.
        state.problem["title"] = translate(NEWER_VERSION_TITLE, language)
        state.problem["detail"] = translate(NEWER_VERSION, language)
        state.values["version"] = str(current.version if current else 0)
        status = 409
    placed(state, field_names(PlanIn, _shown_rows(counts)), PLAN_PROBLEM_FIELDS)
    return _plan_form(request, tab, state, _shown_rows(counts), current=current, status_code=status)


NEWER_VERSION_TITLE = N_("The plan has changed")
NEWER_VERSION = N_(
    "Someone saved a newer version of the plan after you opened the form. What you typed is "
    "kept below, and the newest version is shown beside it: check it, then save again."
)


@router.get("/referrals/{referral_id}/plan/versions")
def plan_versions(
    referral_id: uuid.UUID,
    request: Request,
    principal: PageUser,
    session: WriteSession,
    left: VersionNumber = None,
    right: VersionNumber = None,
) -> Response:
    """Two versions of the plan side by side, what changed marked."""
    tab = tab_of(session, principal, referral_id)
    language = page_language(request)
    newest = _plan(session, principal, tab, None, language)
    right_plan = (
        newest
        if right in (None, newest.version)
        else _plan(session, principal, tab, right, language)
    )
    left_number = left or max(1, right_plan.version - 1)
    left_plan = (
        right_plan
        if left_number == right_plan.version
        else _plan(session, principal, tab, left_number, language)
    )
    changed = {name for name in COMPARED if _part(left_plan, name) != _part(right_plan, name)}
    context = _page(
        request,
        tab,
        left=left_plan,
        right=right_plan,
        changed=changed,
        compared=COMPARED,
        versions=range(1, newest.version + 1),
    )
    return render(request, "counselling/plan_versions.html", context)


def _part(plan: PlanRead, name: str) -> object:
    """A part of the plan as compared between versions."""
    if name == "level":
        return tuple(getattr(plan, field) for field in LEVEL)
    return getattr(plan, name)


@router.post("/referrals/{referral_id}/plan/follow-ups")
def book_follow_ups(
    referral_id: uuid.UUID,
    request: Request,
    principal: PageUser,
    session: WriteSession,
    form: CheckedForm,
) -> Response:
    """Book the plan's follow-ups as the API does; what was booked is shown on the plan."""
    bookings = follow_ups.book_follow_ups(session, principal, referral_id, utcnow())
    sessions.current(request).data[FOLLOW_UPS] = {
        "referral_id": str(referral_id),
        "bookings": [
            {
                "months": booking.months,
                "target_date": booking.target_date.isoformat(),
                "start_at": booking.start_at.isoformat() if booking.start_at else None,
            }
            for booking in bookings
        ],
    }
    return RedirectResponse(f"/referrals/{referral_id}/plan", 303)


def _in(language: Language) -> dict[str, Any]:
    """The texts and formats of the patient's language, whatever the reader's."""
    return {**formats_in(language), "number": lambda value: number(value, language)}


@router.get("/referrals/{referral_id}/plan/print")
def print_plan(
    referral_id: uuid.UUID,
    request: Request,
    principal: PageUser,
    session: WriteSession,
    version: VersionNumber = None,
) -> Response:
    """The plan printed for the patient, in the patient's language, on A4."""
    tab = tab_of(session, principal, referral_id)
    plan = _plan(session, principal, tab, version, tab.patient_language)
    context = {**_page(request, tab, plan=plan), **_in(tab.patient_language)}
    response = render(request, "counselling/plan_print.html", context)
    response.headers["Content-Language"] = tab.patient_language
    return response
