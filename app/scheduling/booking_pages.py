"""Booking for a referral, as the NHS e-Referral Service does it: the service's free slots
soonest first, choose one, check and confirm. The counsellors book this way the referrals whose
booking the referrer left to the service; the booking itself is the API's (`service.book`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from app.access.audit.models import AuditAction
from app.access.principal import Principal
from app.db import WriteSession
from app.kit.clock import utcnow
from app.referrals import service as referral_service
from app.referrals.models import Referral
from app.scheduling import service, views
from app.scheduling.exceptions import SlotUnavailable
from app.scheduling.page_parts import (
    LISTED,
    SlotChoice,
    SlotQuery,
    later,
    page,
    refused_status,
)
from app.scheduling.schemas import AppointmentCreate
from app.web.csrf import CheckedForm
from app.web.forms import FormState, attempt, nested, validate
from app.web.pages import PageRoute
from app.web.signin import PageAppointmentBooker, PageSlotSearcher
from app.web.templating import page_language

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _referral(session: Session, principal: Principal, referral_id: uuid.UUID) -> dict[str, Any]:
    """The referral as the API's read gives it (audited; a counsellor opening a sent one
    receives it), with its patient's name."""
    referral = referral_service.open_referral(session, principal, referral_id)
    return {
        "referral": referral,
        "patient_name": views.patient_name(session, referral.patient_id),
        "bookable": views.bookable(referral),
    }


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
    return page(request, "scheduling/book.html", context, status_code=status)


def _confirm(
    request: Request,
    shown: dict[str, Any],
    free: views.FreeSlot,
    query: SlotQuery,
    state: FormState,
) -> Response:
    context = {**shown, "free": free, "query": query, "state": state}
    status = refused_status(state) if state.failed else 200
    return page(request, "scheduling/book_confirm.html", context, status_code=status)


@router.get("/referrals/{referral_id}/book")
def booking_page(
    request: Request,
    referral_id: uuid.UUID,
    principal: PageSlotSearcher,
    session: WriteSession,
    query: SlotChoice,
) -> Response:
    """The free slots of the referral's service, soonest first, to choose one."""
    shown = _referral(session, principal, referral_id)
    return _list(request, session, shown, query, FormState())


@router.get("/referrals/{referral_id}/book/confirm")
def confirm_page(
    request: Request,
    referral_id: uuid.UUID,
    principal: PageSlotSearcher,
    session: WriteSession,
    query: SlotChoice,
    slot_id: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """The chosen slot and the patient, to check before booking."""
    shown = _referral(session, principal, referral_id)
    language = page_language(request)
    state = FormState(values={"slot_id": slot_id or ""})
    chosen = validate(
        AppointmentCreate,
        {"referral_id": str(referral_id), **nested(state.values)},
        language,
        state,
    )
    if chosen is None:
        return _list(request, session, shown, query, state)
    free = views.free_slot(session, shown["referral"].service_id, chosen.slot_id, utcnow())
    if free is None:
        state.problem = SlotUnavailable().problem(language, request.url.path)
        return _list(request, session, shown, query, state)
    return _confirm(request, shown, free, query, state)


@router.post("/referrals/{referral_id}/book")
def book_appointment(
    request: Request,
    referral_id: uuid.UUID,
    principal: PageAppointmentBooker,
    session: WriteSession,
    form: CheckedForm,
    query: SlotChoice,
) -> Response:
    """Book the chosen slot for the referral (`service.book`, as `POST /appointments`)."""
    language = page_language(request)
    state = FormState(values={k: v for k, v in form.items() if isinstance(v, str)})
    values = {**nested(state.values), "referral_id": str(referral_id)}
    body = validate(AppointmentCreate, values, language, state)
    if body is not None:
        booked = attempt(
            session,
            request,
            lambda: service.book(session, principal, body, utcnow()),
            state,
            AuditAction.create,
        )
        if booked is not None:
            return RedirectResponse(f"/appointments/{booked.id}?done=booked", status_code=303)
    shown = _referral(session, principal, referral_id)
    free = None
    if body is not None:
        free = views.free_slot(session, shown["referral"].service_id, body.slot_id, utcnow())
    if free is None:
        return _list(request, session, shown, query, state)
    return _confirm(request, shown, free, query, state)
