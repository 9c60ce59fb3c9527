"""Booking for a referral, as the NHS e-Referral Service does it: the service's free slots
soonest first, choose one, check and confirm, or leave the booking to the service.

The counsellors book this way the referrals whose booking the referrer left to the service. The
referring clinician (or their unit) books right after sending: the chosen slot is held while
they check it with the patient, the booking is made on that hold, and they land on the
confirmation to hand the patient. Each step is the API's own: `booking.hold` (as
`POST /slots/{slot_id}/hold`), `booking.book` (as `POST /appointments`) and the referral's
`book_by_service` transition (as `POST /referrals/{referral_id}/book-by-service`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.access.audit.models import AuditAction
from app.access.audit.refusals import audited_as
from app.access.principal import Principal
from app.db import WriteSession
from app.flows import referral_transitions
from app.i18n import N_
from app.kit.clock import utcnow
from app.kit.idempotency import Idempotency
from app.referrals import policies as referral_policies
from app.referrals import service as referral_service
from app.referrals.models import Referral
from app.referrals.states import Action
from app.scheduling import booking, views
from app.scheduling.exceptions import HoldExpired, SlotUnavailable
from app.scheduling.page_parts import LANGUAGES, LISTED, SlotChoice, SlotQuery, later, page
from app.scheduling.schemas import AppointmentCreate
from app.web import sessions
from app.web.csrf import CheckedForm
from app.web.forms import FormState, attempt, nested, refused_status, validate
from app.web.pages import PageRoute
from app.web.signin import PageAppointmentBooker, PageSlotSearcher, PageUser
from app.web.templating import page_language

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# A booking form is posted once per hold: the hold's id is its idempotency key.
BOOKING_SCOPE = "pages.appointments.book"
BOOKED = N_("The appointment has been booked. Print this confirmation or give it to the patient.")
LEFT_TO_SERVICE = N_("The service books the time and contacts the patient by the day shown.")


class Booked(BaseModel):
    """What a booking form's first post made, for the same form posted again."""

    appointment_id: uuid.UUID


def _fields(form: CheckedForm) -> dict[str, str]:
    return {name: value for name, value in form.items() if isinstance(value, str)}


def _referral(session: Session, principal: Principal, referral_id: uuid.UUID) -> dict[str, Any]:
    """The referral as the API's read gives it (audited; a counsellor opening a sent one
    receives it), with its patient's name, and what the reader may do about its booking."""
    referral = referral_service.open_referral(session, principal, referral_id)
    may_leave = Action.book_by_service in referral_policies.allowed_actions(principal, referral)
    return {
        "referral": referral,
        "patient_name": views.patient_name(session, referral.patient_id),
        "bookable": views.bookable(referral),
        # The referrer's side holds the slot while checking it with the patient.
        "referrer_side": referral_policies.is_referrer_side(principal, referral),
        # The day the service would promise, if the reader may leave the booking to it now.
        "contact_by": referral_service.expected_contact_date(session, referral)
        if may_leave
        else None,
    }


def _first_visit(request: Request, shown: dict[str, Any], query: SlotQuery) -> SlotQuery:
    """The referrer books the first visit: on arrival (no choices made yet) the list shows
    first visits in the referral's preferred language; any choice made is kept as it is."""
    referral: Referral = shown["referral"]
    if not shown["referrer_side"] or request.query_params:
        return query
    language = referral.preferred_language if referral.preferred_language in LANGUAGES else None
    return SlotQuery(visit_type="first_visit", language=language)


def _list(
    request: Request,
    session: Session,
    shown: dict[str, Any],
    query: SlotQuery,
    state: FormState,
) -> Response:
    referral: Referral = shown["referral"]
    slots: list[views.FreeSlot] = []
    more = False
    if shown["bookable"]:
        now = utcnow()
        slots, more = views.free_slots(session, query.where(referral.service_id, now), now, LISTED)
    context = {
        **shown,
        "query": query,
        "slots": slots,
        "later": later(slots) if more and slots else None,
        "state": state,
    }
    status = refused_status(state) if state.failed else 200
    return page(request, "scheduling/book.html", context, status_code=status, session=session)


def _confirm(
    request: Request,
    session: Session,
    shown: dict[str, Any],
    free: views.FreeSlot,
    query: SlotQuery,
    state: FormState,
    held_until: datetime | None = None,
) -> Response:
    context = {**shown, "free": free, "query": query, "state": state, "held_until": held_until}
    status = refused_status(state) if state.failed else 200
    return page(
        request, "scheduling/book_confirm.html", context, status_code=status, session=session
    )


def _chosen(
    request: Request,
    session: Session,
    principal: Principal,
    shown: dict[str, Any],
    chosen: AppointmentCreate,
    query: SlotQuery,
    state: FormState,
) -> Response:
    """The check page of the slot chosen, if it is still the reader's to book (held by them,
    or free); else the list again with the API's reason."""
    referral: Referral = shown["referral"]
    now = utcnow()
    language = page_language(request)
    if chosen.hold_id is not None:
        held = views.held_slot(
            session, principal, referral.service_id, chosen.slot_id, chosen.hold_id, now
        )
        if held is None:
            state.problem = state.problem or HoldExpired().problem(language, request.url.path)
            return _list(request, session, shown, query, state)
        return _confirm(request, session, shown, held[0], query, state, held_until=held[1])
    free = views.free_slot(session, referral.service_id, chosen.slot_id, now)
    if free is None:
        state.problem = state.problem or SlotUnavailable().problem(language, request.url.path)
        return _list(request, session, shown, query, state)
    return _confirm(request, session, shown, free, query, state)


@router.get("/referrals/{referral_id}/book")
def booking_page(
    request: Request,
    referral_id: uuid.UUID,
    principal: PageSlotSearcher,
    session: WriteSession,
    query: SlotChoice,
) -> Response:
    """The free slots of the referral's service, soonest first, to choose one; for the
    referrer, also the way to leave the booking to the service."""
    shown = _referral(session, principal, referral_id)
    return _list(request, session, shown, _first_visit(request, shown, query), FormState())


@router.post("/referrals/{referral_id}/book/hold")
def hold_slot(
    request: Request,
    referral_id: uuid.UUID,
    principal: PageAppointmentBooker,
    session: WriteSession,
    form: CheckedForm,
    query: SlotChoice,
) -> Response:
    """Hold the chosen slot for the referral for a few minutes while checking it with the
    patient (`booking.hold`, as `POST /slots/{slot_id}/hold`)."""
    state = FormState(values={"slot_id": _fields(form).get("slot_id", "")})
    values = {"referral_id": str(referral_id), **nested(state.values)}
    chosen = validate(AppointmentCreate, values, page_language(request), state)
    if chosen is not None:
        slot_id = chosen.slot_id
        held = attempt(
            session,
            request,
            lambda: booking.hold(session, principal, slot_id, referral_id, utcnow()),
            state,
            AuditAction.create,
        )
        if held is not None:
            link = query.link(slot_id=str(held.slot_id), hold_id=str(held.id))
            return RedirectResponse(f"/referrals/{referral_id}/book/confirm?{link}", 303)
    shown = _referral(session, principal, referral_id)
    return _list(request, session, shown, query, state)


@router.get("/referrals/{referral_id}/book/confirm")
def confirm_page(
    request: Request,
    referral_id: uuid.UUID,
    principal: PageSlotSearcher,
    session: WriteSession,
    query: SlotChoice,
    slot_id: Annotated[str | None, Query(max_length=100)] = None,
    hold_id: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """The chosen slot and the patient, to check before booking."""
    shown = _referral(session, principal, referral_id)
    state = FormState(values={"slot_id": slot_id or "", "hold_id": hold_id or ""})
    chosen = validate(
        AppointmentCreate,
        {"referral_id": str(referral_id), **nested(state.values)},
        page_language(request),
        state,
    )
    if chosen is None:
        return _list(request, session, shown, query, state)
    return _chosen(request, session, principal, shown, chosen, query, state)


def _book(session: Session, principal: Principal, body: AppointmentCreate) -> uuid.UUID:
    """`booking.book`, once per hold: the same form posted again (a second click, a reload)
    finds what its first post booked, as a retry with the API's Idempotency-Key does."""
    claim = Idempotency(
        session,
        owner=principal.account_key,
        scope=BOOKING_SCOPE,
        key=str(body.hold_id) if body.hold_id else None,
        # The way to meet is left out: a twin sent with another choice is the same booking.
        body=body.model_copy(update={"mode": None}),
    )
    previous = claim.replay(Booked)
    if previous is not None:
        return previous.appointment_id
    appointment = booking.book(session, principal, body, utcnow())
    claim.remember(Booked(appointment_id=appointment.id))
    return appointment.id


@router.post("/referrals/{referral_id}/book")
def book_appointment(
    request: Request,
    referral_id: uuid.UUID,
    principal: PageAppointmentBooker,
    session: WriteSession,
    form: CheckedForm,
    query: SlotChoice,
) -> Response:
    """Book the chosen slot for the referral (`booking.book`, as `POST /appointments`): the
    referrer lands on the patient's confirmation, a counsellor on the appointment."""
    state = FormState(values=_fields(form))
    values = {**nested(state.values), "referral_id": str(referral_id)}
    body = validate(AppointmentCreate, values, page_language(request), state)
    if body is not None:
        chosen = body
        booked = attempt(
            session,
            request,
            lambda: _book(session, principal, chosen),
            state,
            AuditAction.create,
        )
        if booked is not None:
            referral = referral_policies.visible(session, principal, referral_id)
            if referral_policies.is_referrer_side(principal, referral):
                sessions.current(request).data["flash"] = BOOKED
                return RedirectResponse(f"/appointments/{booked}/confirmation", 303)
            return RedirectResponse(f"/appointments/{booked}?done=booked", status_code=303)
    shown = _referral(session, principal, referral_id)
    if body is None:
        return _list(request, session, shown, query, state)
    return _chosen(request, session, principal, shown, body, query, state)


@router.post(
    "/referrals/{referral_id}/book/by-service",
    openapi_extra=audited_as(AuditAction.book_by_service),
)
def leave_booking_to_the_service(
    request: Request,
    referral_id: uuid.UUID,
    principal: PageUser,
    session: WriteSession,
    form: CheckedForm,
    query: SlotChoice,
) -> Response:
    """No time suits: the service books and contacts the patient by the day it commits to
    (`book_by_service`, as `POST /referrals/{referral_id}/book-by-service`)."""
    version = _fields(form).get("version", "")
    expected = int(version) if version.isdigit() else None
    state = FormState()
    left = attempt(
        session,
        request,
        lambda: referral_transitions.take(
            session, principal, referral_id, Action.book_by_service, expected
        ),
        state,
        AuditAction.book_by_service,
    )
    if left is None:
        shown = _referral(session, principal, referral_id)
        return _list(request, session, shown, query, state)
    sessions.current(request).data["flash"] = LEFT_TO_SERVICE
    return RedirectResponse(f"/referrals/{referral_id}", status_code=303)
