"""What came of the counselling and its completion in the browser: the outcome from the first to
the last assessment, as the API computes it, and the form that completes the referral with a
coded reason and a summary for the referrer, through the same transition as the API's."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app.access.audit.models import AuditAction
from app.access.audit.refusals import audited_as
from app.access.principal import Principal
from app.counselling import service
from app.counselling.context import Tab, tab_of
from app.counselling.page_forms import common, field_names, typed
from app.db import WriteSession
from app.flows import referral_transitions
from app.i18n import N_, translate
from app.kit.clock import utcnow
from app.kit.types import INT64_MAX
from app.organisations import service as organisations
from app.referrals import service as referral_service
from app.referrals.schemas import CompleteBody
from app.referrals.states import Action, Status
from app.scheduling import booking
from app.scheduling.models import Appointment
from app.scheduling.repository import AppointmentFilter
from app.web import sessions
from app.web.csrf import CheckedForm
from app.web.forms import FormState, attempt, form_values, nested, placed, refused_status, validate
from app.web.pages import PageRoute
from app.web.signin import PageUser
from app.web.templating import page_language, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# How many appointments still to come the page lists (a referral has a few).
UPCOMING_SHOWN = 50
CONFIRM = "cancel_booked_appointments"
COMPLETED = N_("The counselling is completed. The outcome goes to the referrer.")
CONFIRM_CANCELLING = N_(
    "The referral has appointments still to come. Tick the box to cancel them as the "
    "referral is completed, or deal with them first."
)
REFERRAL_CHANGED = N_(
    "Someone changed the referral after you opened this page. What you typed is kept: check "
    "the outcome and the status, then complete again."
)


def _upcoming(session: Session, principal: Principal, tab: Tab) -> list[Appointment]:
    """The referral's booked appointments still to come, which completing it cancels (the
    API's GET /appointments?referral_id=…&start=now, audited as such)."""
    where = AppointmentFilter(referral_id=tab.referral.id, start=utcnow())
    found = booking.list_appointments(session, principal, where, UPCOMING_SHOWN)
    return [appointment for appointment in found.rows if appointment.status == "booked"]


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    tab: Tab,
    state: FormState,
    *,
    status_code: int = 200,
) -> Response:
    language = page_language(request)
    outcome = service.outcome(session, principal, tab.referral.id)
    completing = tab.may_write and tab.referral.status == Status.in_progress
    reasons = referral_service.reasons(session, "complete") if completing else []
    context = {
        **common(request, tab),
        "outcome": outcome,
        "state": state,
        "completing": completing,
        "reasons": [(reason.code, getattr(reason, f"text_{language}")) for reason in reasons],
        "upcoming": _upcoming(session, principal, tab) if completing else [],
        "place_names": organisations.place_names(session, language),
    }
    return render(request, "counselling/complete.html", context, status_code=status_code)


@router.get("/referrals/{referral_id}/complete")
def outcome_page(
    referral_id: uuid.UUID,
    request: Request,
    principal: PageUser,
    session: WriteSession,
) -> Response:
    """The outcome of the counselling and, while it is in progress, the completion form."""
    tab = tab_of(session, principal, referral_id)
    state = FormState(values={"version": str(tab.referral.version)})
    return _page(request, session, principal, tab, state)


@router.post("/referrals/{referral_id}/complete", openapi_extra=audited_as(AuditAction.complete))
def complete(
    referral_id: uuid.UUID,
    request: Request,
    principal: PageUser,
    session: WriteSession,
    form: CheckedForm,
) -> Response:
    """Complete the referral as the API's complete does; a refusal keeps what was typed."""
    tab = tab_of(session, principal, referral_id)
    language = page_language(request)
    state = FormState(values=form_values(form))
    written = {name: value for name, value in state.values.items() if name != "version"}
    data = validate(CompleteBody, typed(CompleteBody, nested(written)), language, state)
    version = state.values.get("version", "")
    expected = int(version) if version.isdigit() and int(version) <= INT64_MAX else None
    if data is not None:
        taken = attempt(
            session,
            request,
            lambda: referral_transitions.take(
                session, principal, referral_id, Action.complete, expected, data
            ),
            state,
        )
        if taken is not None:
            sessions.current(request).data["flash"] = COMPLETED
            return RedirectResponse(f"/referrals/{referral_id}/complete", 303)
    status = refused_status(state)
    code = state.problem["code"] if state.problem else None
    if code == "appointments_booked":
        state.problem = None
        state.errors[CONFIRM] = translate(CONFIRM_CANCELLING, language)
    elif code in ("stale_version", "precondition_required"):
        # The form now answers the referral as it stands, shown on the page again.
        assert state.problem is not None
        state.problem["detail"] = translate(REFERRAL_CHANGED, language)
        state.values["version"] = str(tab.referral.version)
        status = 409
    placed(state, field_names(CompleteBody, {}), {})
    return _page(request, session, principal, tab, state, status_code=status)
