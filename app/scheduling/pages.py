"""The counsellor's calendar in the browser: the week's appointments and free slots, the address
to subscribe to it from a calendar program; and, from `appointment_pages`, `booking_pages`,
`confirmation_pages` and `availability_pages`, an appointment's page and actions, booking for a
referral, an appointment's confirmation for the patient, and the weekly availability. Every page
calls the same services as the API's scheduling endpoints, in the request's transaction, and so
leaves the same audit entries."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse

from app.access.audit.models import AuditAction
from app.access.audit.refusals import audited_as
from app.access.principal import Principal
from app.db import WriteSession
from app.errors import NotFound
from app.kit.clock import today_in_helsinki, utcnow
from app.kit.routes import absolute_url_for
from app.scheduling import (
    appointment_pages,
    availability_pages,
    booking_pages,
    calendar_feed,
    confirmation_pages,
    views,
)
from app.scheduling.page_parts import keep_note, page, take_note
from app.web.csrf import CheckedForm
from app.web.pages import PageRoute
from app.web.signin import PageAvailabilityManager, PageReferralReader, PageSlotSearcher

router = APIRouter(route_class=PageRoute, include_in_schema=False)
FEED_NOTE = "calendar_feed"


def calendar_keeper(
    principal: PageReferralReader,
    _searcher: PageSlotSearcher,
    _keeper: PageAvailabilityManager,
) -> Principal:
    """One who keeps a calendar of their own (a counsellor), reading appointments and free
    slots as the API lets them (`referral:read`, `slot:search`)."""
    return principal


CalendarKeeper = Annotated[Principal, Depends(calendar_keeper)]


def _own_id(principal: Principal) -> uuid.UUID:
    if principal.user_id is None:
        raise NotFound()
    return principal.user_id


@router.get("/calendar")
def calendar_page(
    request: Request,
    principal: CalendarKeeper,
    session: WriteSession,
    week: Annotated[str | None, Query(max_length=10)] = None,
    whose: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    """The week, Monday to Sunday: appointments (each an audited access, as in the API's list)
    and free slots, one's own or the whole service's."""
    today = today_in_helsinki()
    monday = views.monday_of(week, today)
    whole_service = whose == "service"
    shown = views.week_of(session, principal, monday, utcnow(), whole_service=whole_service)
    context = {
        "week": shown,
        "today": today,
        "week_name": views.week_name(monday),
        "whose": "service" if whole_service else "mine",
        "feed": take_note(request, FEED_NOTE),
    }
    return page(request, "scheduling/calendar.html", context, session=session)


@router.post("/calendar/feed")
def new_feed_address(
    request: Request, principal: CalendarKeeper, session: WriteSession, _form: CheckedForm
) -> Response:
    """A new address for one's calendar feed (the old one stops), shown once on the calendar."""
    counsellor_id = _own_id(principal)
    token = calendar_feed.issue_token(session, principal, counsellor_id, utcnow())
    feed = absolute_url_for(request, "calendar", counsellor_id=counsellor_id)
    feed = feed.include_query_params(token=token)
    keep_note(
        request, FEED_NOTE, {"url": str(feed), "webcal_url": str(feed.replace(scheme="webcal"))}
    )
    return RedirectResponse("/calendar#feed", status_code=303)


@router.post("/calendar/feed/revoke", openapi_extra=audited_as(AuditAction.update))
def revoke_feed_address(
    request: Request, principal: CalendarKeeper, session: WriteSession, _form: CheckedForm
) -> Response:
    """Stop one's calendar feed address from working."""
    calendar_feed.revoke(session, principal, _own_id(principal), utcnow())
    keep_note(request, FEED_NOTE, {"revoked": True})
    return RedirectResponse("/calendar#feed", status_code=303)


router.include_router(appointment_pages.router)
router.include_router(booking_pages.router)
router.include_router(confirmation_pages.router)
router.include_router(availability_pages.router)
