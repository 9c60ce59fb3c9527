"""An appointment's page and what may be done to it: cancel, move to another free slot, mark
attended or a no-show. Each action is a form posted with its CSRF token to the same service
function as the API's endpoint; a refused one (the appointment changed meanwhile, the slot was
taken) shows the page again with the service's reason and everything typed kept."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from app.access.audit.models import AuditAction
from app.access.audit.refusals import audited_as
from app.access.permissions import Permission, has_permission
from app.access.principal import Principal
from app.db import WriteSession
from app.kit.clock import utcnow
from app.scheduling import booking, views
from app.scheduling.page_parts import LISTED, SlotChoice, SlotQuery, later, page
from app.scheduling.schemas import CancelAppointment, Reschedule
from app.web.csrf import CheckedForm
from app.web.forms import FormState, attempt, nested, refused_status, validate
from app.web.pages import PageRoute
from app.web.signin import PageSlotSearcher, PageUser
from app.web.templating import page_language

router = APIRouter(route_class=PageRoute, include_in_schema=False)
# What the page says was just done, after the redirect.
DONE = ("booked", "cancelled", "rescheduled", "attended", "no_show")


def _fields(form: CheckedForm) -> dict[str, str]:
    return {name: value for name, value in form.items() if isinstance(value, str)}


def _show(
    request: Request,
    session: Session,
    principal: Principal,
    appointment_id: uuid.UUID,
    *,
    done: str | None = None,
    refused: dict[str, FormState] | None = None,
) -> Response:
    view = views.appointment_view(session, principal, appointment_id, utcnow())
    forms = {"cancel": FormState(), "mark": FormState(), **(refused or {})}
    failed = [state for state in forms.values() if state.failed]
    context = {
        "view": view,
        "done": done if done in DONE else None,
        "forms": forms,
        # Those who keep a calendar came from it; the others from the referral.
        "keeps_calendar": has_permission(principal, Permission.availability_manage),
    }
    status = refused_status(failed[0]) if failed else 200
    return page(
        request, "scheduling/appointment.html", context, status_code=status, session=session
    )


@router.get("/appointments/{appointment_id}")
def appointment_page(
    request: Request,
    appointment_id: uuid.UUID,
    principal: PageUser,
    session: WriteSession,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """One appointment, for those who may read its referral (the API's audited read), with
    the actions allowed now."""
    return _show(request, session, principal, appointment_id, done=done)


def _moved(appointment_id: uuid.UUID, done: str) -> Response:
    return RedirectResponse(f"/appointments/{appointment_id}?done={done}", status_code=303)


@router.post("/appointments/{appointment_id}/cancel", openapi_extra=audited_as(AuditAction.update))
def cancel_appointment(
    request: Request,
    appointment_id: uuid.UUID,
    principal: PageUser,
    session: WriteSession,
    form: CheckedForm,
) -> Response:
    """Cancel, by the patient or by the provider, with the reason (`booking.cancel`)."""
    language = page_language(request)
    state = FormState(values=_fields(form))
    body = validate(CancelAppointment, nested(state.values), language, state)
    if body is not None:
        cancelled = attempt(
            session,
            request,
            lambda: booking.cancel(session, principal, appointment_id, body, utcnow()),
            state,
            AuditAction.update,
        )
        if cancelled is not None:
            return _moved(appointment_id, "cancelled")
    return _show(request, session, principal, appointment_id, refused={"cancel": state})


def _mark(
    request: Request,
    session: Session,
    principal: Principal,
    appointment_id: uuid.UUID,
    outcome: str,
) -> Response:
    state = FormState()
    marked = attempt(
        session,
        request,
        lambda: booking.mark(session, principal, appointment_id, outcome, utcnow()),
        state,
        AuditAction.update,
    )
    if marked is not None:
        return _moved(appointment_id, outcome)
    return _show(request, session, principal, appointment_id, refused={"mark": state})


@router.post(
    "/appointments/{appointment_id}/attended", openapi_extra=audited_as(AuditAction.update)
)
def mark_attended(
    request: Request,
    appointment_id: uuid.UUID,
    principal: PageUser,
    session: WriteSession,
    _form: CheckedForm,
) -> Response:
    """Mark the patient attended, once the appointment has begun (`booking.mark`)."""
    return _mark(request, session, principal, appointment_id, "attended")


@router.post("/appointments/{appointment_id}/no-show", openapi_extra=audited_as(AuditAction.update))
def mark_no_show(
    request: Request,
    appointment_id: uuid.UUID,
    principal: PageUser,
    session: WriteSession,
    _form: CheckedForm,
) -> Response:
    """Mark the patient a no-show, once the appointment has begun (`booking.mark`)."""
    return _mark(request, session, principal, appointment_id, "no_show")


def _choose(
    request: Request,
    session: Session,
    principal: Principal,
    appointment_id: uuid.UUID,
    query: SlotQuery,
    state: FormState,
) -> Response:
    view = views.appointment_view(session, principal, appointment_id, utcnow())
    current = view.appointment
    if not request.url.query:
        # First shown: slots of the same visit type.
        query = SlotQuery(visit_type=current.visit_type)
    slots, more = views.free_slots(
        session, query.where(current.service_id, utcnow()), utcnow(), LISTED
    )
    context = {
        "view": view,
        "query": query,
        "slots": slots,
        "later": later(slots) if more and slots else None,
        "state": state,
    }
    status = refused_status(state) if state.failed else 200
    return page(request, "scheduling/reschedule.html", context, status_code=status, session=session)


@router.get("/appointments/{appointment_id}/reschedule")
def reschedule_page(
    request: Request,
    appointment_id: uuid.UUID,
    principal: PageSlotSearcher,
    session: WriteSession,
    query: SlotChoice,
) -> Response:
    """The service's free slots to move the appointment to, soonest first (of the same visit
    type unless another is asked for)."""
    return _choose(request, session, principal, appointment_id, query, FormState())


@router.post(
    "/appointments/{appointment_id}/reschedule", openapi_extra=audited_as(AuditAction.update)
)
def reschedule_appointment(
    request: Request,
    appointment_id: uuid.UUID,
    principal: PageUser,
    session: WriteSession,
    form: CheckedForm,
    query: SlotChoice,
) -> Response:
    """Move the appointment to the chosen slot in one step (`booking.reschedule`)."""
    language = page_language(request)
    state = FormState(values=_fields(form))
    body = validate(Reschedule, nested(state.values), language, state)
    if body is not None:
        moved = attempt(
            session,
            request,
            lambda: booking.reschedule(session, principal, appointment_id, body, utcnow()),
            state,
            AuditAction.update,
        )
        if moved is not None:
            return _moved(moved.id, "rescheduled")
    return _choose(request, session, principal, appointment_id, query, state)
