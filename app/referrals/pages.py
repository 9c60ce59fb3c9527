"""The counsellor's worklist and a referral's page: the same services and policies as
`router.py`, in the request's transaction, so that each page leaves the API's audit entries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app.access.audit.models import AuditAction
from app.access.permissions import Permission, has_permission
from app.access.principal import Principal
from app.counselling import service as counselling
from app.counselling.page_forms import number
from app.db import WriteSession
from app.errors import NotFound
from app.flows import referral_transitions
from app.i18n import N_
from app.kit.clock import today_in_helsinki, utcnow
from app.patients.ages import is_minor
from app.referrals import policies, service
from app.referrals.models import Referral
from app.referrals.repository import WorklistFilter
from app.referrals.schemas import CancelBody, ReasonBody
from app.referrals.states import OPEN, REASON_KIND, SERVICE_REASONS, Action, Status
from app.scheduling import booking
from app.scheduling.models import Appointment
from app.scheduling.repository import AppointmentFilter
from app.web import sessions
from app.web.csrf import CheckedForm
from app.web.forms import FormState, attempt, nested, validate
from app.web.pages import PageRoute, id_in_path
from app.web.signin import PageReferralReader, PageUser
from app.web.templating import page_language, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

SECTION_SIZE = 50
# A referral's appointments listed on its page: more than any counselling course books.
APPOINTMENTS_SHOWN = 50
# The worklist's sections, in the order a counsellor works them.
SECTIONS = (
    ("new", [Status.sent, Status.received], None),
    ("book", [Status.sent, Status.received, Status.accepted], True),
    ("first_visit", [Status.accepted], None),
    ("in_progress", [Status.in_progress], None),
)
# Actions taken on the referral's page with a form of their own; completing has a page.
FORM_ACTIONS = (Action.accept, Action.reject, Action.return_, Action.start, Action.cancel)
SECTION_TITLES = {
    "new": N_("New referrals"),
    "book": N_("Referrals the service books itself"),
    "first_visit": N_("Waiting for a first visit"),
    "in_progress": N_("In counselling"),
    "found": N_("Referrals found"),
}
STATUS_LABELS = {
    Status.sent: N_("Sent"),
    Status.received: N_("Received"),
    Status.accepted: N_("Accepted"),
    Status.in_progress: N_("In counselling"),
    Status.completed: N_("Completed"),
    Status.rejected: N_("Rejected"),
    Status.returned: N_("Returned"),
    Status.cancelled: N_("Cancelled"),
}
ACTION_LABELS = {
    Action.accept: N_("Accept"),
    Action.reject: N_("Reject"),
    Action.return_: N_("Return to the referrer"),
    Action.start: N_("Start counselling"),
    Action.cancel: N_("Cancel the referral"),
}
# The timeline's steps, as the referral's events name them.
EVENT_LABELS = {
    "send": N_("Sent"),
    "receive": N_("Received"),
    "accept": N_("Accepted"),
    "reject": N_("Rejected"),
    "return": N_("Returned to the referrer"),
    "start": N_("Counselling started"),
    "complete": N_("Completed"),
    "cancel": N_("Cancelled"),
    "book_by_service": N_("Left to the service to book"),
    "appointment_booked": N_("Appointment booked"),
    "appointment_cancelled": N_("Appointment cancelled"),
    "appointment_rescheduled": N_("Appointment moved"),
    "appointment_attended": N_("Appointment attended"),
    "appointment_no_show": N_("Patient did not come"),
    "visit_recorded": N_("Visit recorded"),
    "visit_corrected": N_("Visit corrected"),
    "plan_saved": N_("Activity plan saved"),
    "patient_identified": N_("Personal identity code received"),
    "patient_merged": N_("Patient's records merged"),
}
CONTACT_MODES = {
    "in_person": N_("In person"),
    "phone": N_("By phone"),
    "video": N_("By video"),
    "group": N_("In a group"),
}
BACK_TO_WORKLIST = N_("Back to the worklist")
BACK_TO_SENT = N_("Back to the sent referrals")
DONE = {
    Action.accept: N_("The referral was accepted."),
    Action.reject: N_("The referral was rejected."),
    Action.return_: N_("The referral was returned to the referrer."),
    Action.start: N_("Counselling has started."),
    Action.cancel: N_("The referral was cancelled."),
}


@dataclass(frozen=True)
class Filters:
    status: Status | None
    urgency: str | None

    @property
    def any(self) -> bool:
        return self.status is not None or self.urgency is not None


@router.get("/worklist")
def worklist(
    request: Request,
    principal: PageReferralReader,
    session: WriteSession,
    status: Annotated[Status | None, Query()] = None,
    urgency: Annotated[str | None, Query(pattern="^(routine|urgent)$")] = None,
) -> Response:
    """The referrals to work on, new ones first by urgency; or those the filters ask for."""
    filters = Filters(status, urgency)
    sections: list[tuple[str, list[Any], bool]] = []
    if filters.any:
        where = WorklistFilter(statuses=[status] if status else None, urgency=urgency)
        found = service.worklist(session, principal, where, SECTION_SIZE)
        sections.append(("found", list(found.rows), found.more))
    else:
        for name, statuses, by_service in SECTIONS:
            where = WorklistFilter(statuses=list(statuses), booking_by_service=by_service)
            found = service.worklist(session, principal, where, SECTION_SIZE)
            sections.append((name, list(found.rows), found.more))
    marking = booking.list_appointments(
        session,
        principal,
        AppointmentFilter(needs_marking_before=utcnow() - booking.MARKING_GRACE),
        SECTION_SIZE,
    )
    context = {
        "sections": sections,
        "to_mark": marking.rows,
        "filters": filters,
        "section_titles": SECTION_TITLES,
        "status_labels": STATUS_LABELS,
    }
    return render(request, "referrals/worklist.html", context)


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    referral: Referral,
    state: FormState | None = None,
    status_code: int = 200,
) -> Response:
    language = page_language(request)
    events = service.timeline(session, principal, referral.id)
    allowed = policies.allowed_actions(principal, referral)
    reasons = {
        action.value: [
            (reason.code, getattr(reason, f"text_{language}"))
            for reason in service.reasons(session, REASON_KIND[action])
        ]
        for action in allowed
        if action in REASON_KIND
    }
    # Where the reader came from: a counsellor's worklist, a referrer's list of those sent.
    triaging = has_permission(principal, Permission.referral_triage)
    patient = service.patient_of(session, referral)
    appointments = booking.list_appointments(
        session, principal, AppointmentFilter(referral_id=referral.id), APPOINTMENTS_SHOWN
    ).rows
    context = {
        "back": ("/worklist", BACK_TO_WORKLIST) if triaging else ("/referrals/sent", BACK_TO_SENT),
        "referral": referral,
        "patient": patient,
        # A child's guardians are recorded from the referral.
        "minor": is_minor(patient.birth_date, today_in_helsinki()),
        "appointments": appointments,
        "booking_link": _booking_link(principal, referral, appointments),
        # The closed loop: what came of it, as `GET /referrals/{id}/outcome` gives it.
        "outcome": counselling.outcome(session, principal, referral.id)
        if referral.status == Status.completed
        else None,
        "events": events,
        "allowed": [action.value for action in allowed],
        "form_actions": [action.value for action in FORM_ACTIONS if action in allowed],
        "reasons": reasons,
        "status_labels": STATUS_LABELS,
        "action_labels": {action.value: label for action, label in ACTION_LABELS.items()},
        "event_labels": EVENT_LABELS,
        "service_reasons": SERVICE_REASONS,
        "contact_modes": CONTACT_MODES,
        "state": state or FormState(),
        "number": lambda value: number(value, language),
    }
    return render(request, "referrals/referral.html", context, status_code=status_code)


def _booking_link(
    principal: Principal, referral: Referral, appointments: Sequence[Appointment]
) -> bool:
    """Whether the page leads to booking: for a referral left to the service to book, and for
    its referrer while it has no time booked yet."""
    if Status(referral.status) not in OPEN:
        return False
    if referral.booking_by_service:
        return True
    return policies.is_referrer_side(principal, referral) and not any(
        appointment.status == "booked" for appointment in appointments
    )


@router.get("/referrals/{referral_id}")
def referral_page(
    request: Request, referral_id: str, principal: PageUser, session: WriteSession
) -> Response:
    """A referral with its patient, timeline and the actions the reader may take now; a
    counsellor of its service opening a sent one receives it, as the API's read does."""
    referral = service.open_referral(session, principal, id_in_path(referral_id))
    return _page(request, session, principal, referral)


@router.post("/referrals/{referral_id}/actions/{action}")
def take_action(
    request: Request,
    referral_id: str,
    action: Action,
    form: CheckedForm,
    principal: PageUser,
    session: WriteSession,
) -> Response:
    """Accept, reject, return, start or cancel, from the referral's page."""
    values = {name: str(value) for name, value in form.items()}
    return _take(request, session, principal, id_in_path(referral_id), action, values)


def _take(
    request: Request,
    session: Session,
    principal: Principal,
    referral_id: uuid.UUID,
    action: Action,
    form: dict[str, str],
) -> Response:
    if action not in FORM_ACTIONS:
        raise NotFound()
    state = FormState(values=form)
    values = nested(state.values)
    version = values.pop("version", None)
    body: ReasonBody | None = None
    if action in REASON_KIND:
        values["cancel_booked_appointments"] = values.get("cancel_booked_appointments") == "true"
        schema = CancelBody if action is Action.cancel else ReasonBody
        body = validate(schema, values, page_language(request), state)
    if not state.failed:
        expected = int(version) if version and version.isdigit() else None
        attempt(
            session,
            request,
            lambda: referral_transitions.take(
                session, principal, referral_id, action, expected, body
            ),
            state,
            AuditAction(action.value),
        )
    referral = policies.visible(session, principal, referral_id)
    if state.failed:
        state.values["action"] = action.value
        status_code = state.problem["status"] if state.problem else 422
        return _page(request, session, principal, referral, state, status_code)
    sessions.current(request).data["flash"] = DONE[action]
    return RedirectResponse(f"/referrals/{referral.id}", status_code=303)
