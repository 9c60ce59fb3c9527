"""A counsellor's own appointments as an iCalendar feed, behind a revocable token in the address
(calendar programs cannot send bearer tokens). It names times, places and visit types, never a
patient."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy.orm import Session

from app.access.principal import Principal
from app.errors import NotFound, RefusalContext
from app.organisations import service as organisations
from app.scheduling import repository
from app.scheduling.models import CalendarToken

SUMMARIES = {
    "first_visit": "Liikuntaneuvonta: ensikäynti / Motionsrådgivning: första besöket",
    "follow_up": "Liikuntaneuvonta: seurantakäynti / Motionsrådgivning: uppföljning",
    "group": "Liikuntaneuvonta: ryhmä / Motionsrådgivning: grupp",
}
HISTORY = timedelta(days=30)


def _place_names(session: Session, language: str | None) -> dict[str, str]:
    """The places in the language the counsellor chose for the pages; without one, a bilingual
    place by both its names, as the summaries are."""
    if language is not None:
        return organisations.place_names(session, language)
    finnish, swedish = (organisations.place_names(session, lang) for lang in ("fi", "sv"))
    return {
        stored: name if name == swedish[stored] else f"{name} / {swedish[stored]}"
        for stored, name in finnish.items()
    }


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _own(principal: Principal, counsellor_id: uuid.UUID) -> None:
    if principal.user_id != counsellor_id or principal.service_id is None:
        raise NotFound(refusal=RefusalContext("CalendarToken", str(counsellor_id)))


def issue_token(
    session: Session, principal: Principal, counsellor_id: uuid.UUID, now: datetime
) -> str:
    """A new feed token for one's own calendar; earlier ones stop working."""
    _own(principal, counsellor_id)
    revoke(session, principal, counsellor_id, now)
    token = secrets.token_urlsafe(32)
    session.add(CalendarToken(counsellor_id=counsellor_id, token_hash=_hash(token)))
    session.flush()
    return token


def revoke(session: Session, principal: Principal, counsellor_id: uuid.UUID, now: datetime) -> None:
    _own(principal, counsellor_id)
    for live in repository.live_calendar_tokens(session, counsellor_id):
        live.revoked_at = now
    session.flush()


def feed(session: Session, counsellor_id: uuid.UUID, token: str, now: datetime) -> bytes:
    found = repository.calendar_token(session, _hash(token))
    if found is None or found.counsellor_id != counsellor_id:
        raise NotFound()
    # A deactivated account's feed stops with it (OWASP ASVS 7.4.2).
    counsellor = repository.counsellor(session, counsellor_id)
    if counsellor is None:
        raise NotFound()
    places = _place_names(session, counsellor.page_language)
    calendar = Calendar()
    calendar.add("prodid", "-//Askel//liikuntaneuvonta//FI")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Askel")
    for appointment in repository.counsellor_appointments(session, counsellor_id, now - HISTORY):
        event = Event()
        event.add("uid", f"{appointment.id}@askel")
        event.add("dtstamp", now)
        event.add("dtstart", appointment.start_at)
        event.add("dtend", appointment.end_at)
        event.add("summary", SUMMARIES[appointment.visit_type])
        event.add("location", places.get(appointment.location, appointment.location))
        event.add("description", appointment.mode)
        calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
