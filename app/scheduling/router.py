"""Scheduling. Who may use each endpoint: the permission in its signature and, for a record, the
policy of the referral it belongs to; a record the caller may not see answers 404."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.security import APIKeyQuery
from pydantic import BaseModel, Field

from app.access import throttle
from app.access.audit.models import AuditAction
from app.access.audit.refusals import audited_as
from app.access.permissions import AppointmentBooker, RecordUser, ReferralReader, SlotSearcher
from app.db import WriteSession
from app.errors import Forbidden, NotFound, ValidationFailed, problem_responses
from app.kit.clock import today_in_helsinki, utcnow
from app.kit.idempotency import (
    Idempotency,
    IdempotencyKey,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
)
from app.kit.pagination import (
    Cursor,
    InvalidCursor,
    Page,
    TimeAndId,
    Window,
    after_time_and_id,
    page_size,
)
from app.kit.routes import absolute_url_for
from app.kit.types import LocalDateTime
from app.scheduling import availability, booking, calendar_feed
from app.scheduling.exceptions import (
    AppointmentNotBooked,
    AppointmentNotStarted,
    HoldExpired,
    HoldNotAllowed,
    ModeNotOffered,
    ReferralNotBookable,
    SlotOfAnotherService,
    SlotUnavailable,
    TooManyHolds,
)
from app.scheduling.models import Appointment
from app.scheduling.repository import AppointmentFilter, SlotFilter
from app.scheduling.schemas import (
    AppointmentCreate,
    AppointmentRead,
    AvailabilityIn,
    AvailabilityOut,
    CancelAppointment,
    HoldCreate,
    HoldRead,
    Mode,
    Reschedule,
    SlotRead,
    VisitType,
)

router = APIRouter(tags=["scheduling"])

BOOKING_ERRORS = (
    NotFound,
    SlotUnavailable,
    HoldExpired,
    SlotOfAnotherService,
    ReferralNotBookable,
    ModeNotOffered,
    ValidationFailed,
)


def _read(appointment: Appointment) -> AppointmentRead:
    return AppointmentRead.model_validate(
        {
            **{name: getattr(appointment, name) for name in AppointmentRead.model_fields
               if name != "needs_marking"},
            "needs_marking": booking.needs_marking(appointment, utcnow()),
        }
    )  # fmt: skip


@router.get(
    "/counsellors/{counsellor_id}/availability",
    responses=problem_responses(NotFound, ValidationFailed),
)
def get_availability(
    counsellor_id: uuid.UUID, principal: RecordUser, session: WriteSession
) -> AvailabilityOut:
    """A counsellor's recurring availability and exceptions: the counsellor and the other
    counsellors of their service."""
    return availability.get_availability(session, principal, counsellor_id)


@router.put(
    "/counsellors/{counsellor_id}/availability",
    responses=problem_responses(Forbidden, NotFound, ValidationFailed),
)
def put_availability(
    counsellor_id: uuid.UUID, body: AvailabilityIn, principal: RecordUser, session: WriteSession
) -> AvailabilityOut:
    """Replace one's own weekly rules and exceptions (the counsellor themself). Slots for the
    next 16 weeks follow at once; booked appointments left outside are reported as conflicts."""
    return availability.put_availability(
        session, principal, counsellor_id, body, today_in_helsinki()
    )


@router.get("/slots", responses=problem_responses(Forbidden, InvalidCursor, ValidationFailed))
def search_slots(
    principal: SlotSearcher,
    session: WriteSession,
    service_id: uuid.UUID,
    start: Annotated[LocalDateTime | None, Query(description="Default: now.")] = None,
    end: Annotated[LocalDateTime | None, Query(description="Default: start + 4 weeks.")] = None,
    mode: Mode | None = None,
    language: Annotated[str | None, Query(pattern=r"^[a-z]{2}$")] = None,
    visit_type: VisitType | None = None,
    limit: Annotated[int, page_size(200)] = 50,
    cursor: Cursor = None,
) -> Page[SlotRead]:
    """Free slots of a service, soonest first (clinicians and counsellors)."""
    now = utcnow()
    begin = start or now
    where = SlotFilter(
        service_id=service_id,
        start=begin,
        end=end or begin + timedelta(weeks=4),
        mode=mode,
        language=language,
        visit_type=visit_type,
        after=after_time_and_id(cursor, uuid.UUID),
    )
    page = Window.of(availability.search(session, where, now, limit + 1), limit)
    items = [
        SlotRead(
            id=slot.id,
            service_id=slot.service_id,
            counsellor_id=slot.counsellor_id,
            counsellor_name=name,
            start_at=slot.start_at,
            end_at=slot.end_at,
            visit_type=slot.visit_type,  # type: ignore[arg-type]
            capacity=slot.capacity,
            places_left=places_left,
            location=slot.location,
            modes=availability.untag(slot.modes),
            languages=availability.untag(slot.languages),
        )
        for slot, name, places_left in page.rows
    ]
    return Page[SlotRead](
        items=items,
        next_cursor=page.next_cursor(lambda row: TimeAndId(t=row[0].start_at, i=row[0].id)),
    )


@router.post(
    "/slots/{slot_id}/hold",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        Forbidden,
        HoldNotAllowed,
        NotFound,
        SlotUnavailable,
        SlotOfAnotherService,
        ReferralNotBookable,
        TooManyHolds,
        ValidationFailed,
    ),
)
def hold_slot(
    slot_id: uuid.UUID,
    principal: AppointmentBooker,
    session: WriteSession,
    body: HoldCreate | None = None,
) -> HoldRead:
    """Hold a slot for a few minutes while confirming with the patient; an unused hold lapses
    by itself. The counsellors of the slot's service, and clinicians for a referral sent to
    that service that they may book (`referral_id`)."""
    referral_id = body.referral_id if body else None
    held = booking.hold(session, principal, slot_id, referral_id, utcnow())
    return HoldRead(hold_id=held.id, slot_id=held.slot_id, expires_at=held.expires_at)


@router.post(
    "/appointments",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(
        Forbidden, *BOOKING_ERRORS, IdempotencyKeyReused, IdempotencyKeyInFlight
    ),
)
def book_appointment(
    body: AppointmentCreate,
    principal: AppointmentBooker,
    session: WriteSession,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> AppointmentRead:
    """Book a slot for an open referral: its referring clinician or their unit, or a counsellor
    of its service. 409 `slot_unavailable` when someone else was faster."""
    idempotency = Idempotency(
        session,
        owner=principal.account_key,
        scope="appointments.book",
        key=idempotency_key,
        body=body,
    )
    previous = idempotency.replay(AppointmentRead)
    if previous is not None:
        # The first answer again, exactly; showing it is a read of the appointment.
        booking.record_replay(session, principal, previous.id, previous.patient_id)
        answer = previous
    else:
        answer = idempotency.remember(_read(booking.book(session, principal, body, utcnow())))
    response.headers["Location"] = f"/api/v1/appointments/{answer.id}"
    return answer


@router.get(
    "/appointments",
    responses=problem_responses(Forbidden, NotFound, InvalidCursor, ValidationFailed),
)
def list_appointments(
    principal: ReferralReader,
    session: WriteSession,
    referral_id: uuid.UUID | None = None,
    counsellor_id: uuid.UUID | None = None,
    start: LocalDateTime | None = None,
    end: LocalDateTime | None = None,
    needs_marking: Annotated[
        bool, Query(description="Only past appointments not yet marked attended or no-show.")
    ] = False,
    limit: Annotated[int, page_size(500)] = 100,
    cursor: Cursor = None,
) -> Page[AppointmentRead]:
    """Appointments of the referrals the caller may see, by referral, counsellor and time,
    soonest first."""
    where = AppointmentFilter(
        referral_id=referral_id,
        counsellor_id=counsellor_id,
        start=start,
        end=end,
        needs_marking_before=utcnow() - booking.MARKING_GRACE if needs_marking else None,
        after=after_time_and_id(cursor, uuid.UUID),
    )
    page = booking.list_appointments(session, principal, where, limit)
    return Page[AppointmentRead](
        items=[_read(a) for a in page.rows],
        next_cursor=page.next_cursor(lambda a: TimeAndId(t=a.start_at, i=a.id)),
    )


@router.get(
    "/appointments/{appointment_id}", responses=problem_responses(NotFound, ValidationFailed)
)
def get_appointment(
    appointment_id: uuid.UUID, principal: RecordUser, session: WriteSession
) -> AppointmentRead:
    """One appointment: those who may read its referral."""
    return _read(booking.get_appointment(session, principal, appointment_id))


@router.post(
    "/appointments/{appointment_id}/cancel",
    openapi_extra=audited_as(AuditAction.update),
    responses=problem_responses(NotFound, AppointmentNotBooked, ValidationFailed),
)
def cancel_appointment(
    appointment_id: uuid.UUID,
    body: CancelAppointment,
    principal: RecordUser,
    session: WriteSession,
) -> AppointmentRead:
    """Cancel, by the patient or by the provider: the referrer's side or the service's
    counsellors. Under 24 hours before the start it is marked a late cancellation."""
    return _read(booking.cancel(session, principal, appointment_id, body, utcnow()))


@router.post(
    "/appointments/{appointment_id}/reschedule",
    openapi_extra=audited_as(AuditAction.update),
    responses=problem_responses(*BOOKING_ERRORS, AppointmentNotBooked),
)
def reschedule_appointment(
    appointment_id: uuid.UUID, body: Reschedule, principal: RecordUser, session: WriteSession
) -> AppointmentRead:
    """Move to another slot atomically: the new appointment, or no change at all. Those who
    may book for the referral."""
    return _read(booking.reschedule(session, principal, appointment_id, body, utcnow()))


@router.post(
    "/appointments/{appointment_id}/attended",
    openapi_extra=audited_as(AuditAction.update),
    responses=problem_responses(
        Forbidden, NotFound, AppointmentNotBooked, AppointmentNotStarted, ValidationFailed
    ),
)
def mark_attended(
    appointment_id: uuid.UUID, principal: RecordUser, session: WriteSession
) -> AppointmentRead:
    """Mark the patient attended: the service's counsellors, once the appointment has begun."""
    return _read(booking.mark(session, principal, appointment_id, "attended", utcnow()))


@router.post(
    "/appointments/{appointment_id}/no-show",
    openapi_extra=audited_as(AuditAction.update),
    responses=problem_responses(
        Forbidden, NotFound, AppointmentNotBooked, AppointmentNotStarted, ValidationFailed
    ),
)
def mark_no_show(
    appointment_id: uuid.UUID, principal: RecordUser, session: WriteSession
) -> AppointmentRead:
    """Mark the patient a no-show: the service's counsellors, once the appointment has begun."""
    return _read(booking.mark(session, principal, appointment_id, "no_show", utcnow()))


feed_token_scheme = APIKeyQuery(
    name="token", auto_error=False, description="The calendar feed's own revocable token."
)


class CalendarTokenRead(BaseModel):
    url: str = Field(
        description="The feed's absolute address, to subscribe to in a calendar program; keep "
        "it secret, revoke it if it leaks."
    )
    webcal_url: str = Field(
        description="The same address as a webcal:// link, which opens the subscription in "
        "calendar programs that register the scheme."
    )


@router.post(
    "/counsellors/{counsellor_id}/calendar-token",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(NotFound, ValidationFailed),
)
def issue_calendar_token(
    request: Request, counsellor_id: uuid.UUID, principal: RecordUser, session: WriteSession
) -> CalendarTokenRead:
    """A new address for one's own calendar feed (the counsellor themself); the old stops."""
    token = calendar_feed.issue_token(session, principal, counsellor_id, utcnow())
    feed = absolute_url_for(request, "calendar", counsellor_id=counsellor_id)
    feed = feed.include_query_params(token=token)
    return CalendarTokenRead(url=str(feed), webcal_url=str(feed.replace(scheme="webcal")))


@router.post(
    "/counsellors/{counsellor_id}/calendar-token/revoke",
    openapi_extra=audited_as(AuditAction.update),
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(NotFound, ValidationFailed),
)
def revoke_calendar_token(
    counsellor_id: uuid.UUID, principal: RecordUser, session: WriteSession
) -> None:
    """Stop one's calendar feed address from working (the counsellor themself)."""
    calendar_feed.revoke(session, principal, counsellor_id, utcnow())


@router.get(
    "/counsellors/{counsellor_id}/calendar.ics",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "iCalendar feed"},
        **problem_responses(NotFound, ValidationFailed),
    },
)
def calendar(
    request: Request,
    counsellor_id: uuid.UUID,
    token: Annotated[str | None, Depends(feed_token_scheme)],
    session: WriteSession,
) -> Response:
    """The counsellor's appointments as iCalendar, with the feed token instead of a bearer
    token; times, places and visit types only, no patient identifiers."""
    throttle.check_client(request)
    if not token or len(token) > 100:
        raise NotFound()
    body = calendar_feed.feed(session, counsellor_id, token, utcnow())
    return Response(body, media_type="text/calendar; charset=utf-8")
