"""What the scheduling pages share: the posted form (its CSRF token checked), rendering with the
time spans the calendar shows, a note kept across a redirect, and the query of free slots that
the booking and rescheduling pages list."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, get_args
from urllib.parse import urlencode

from babel.dates import format_date
from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import HTMLResponse

from app.classifications.contact_modes import CONTACT_MODES
from app.i18n import Language
from app.kit.clock import HELSINKI, helsinki_midnight
from app.kit.pagination import TimeAndId, after_time_and_id, encode_cursor
from app.kit.public_holidays import holiday_name
from app.kit.types import EARLIEST, LATEST
from app.organisations import service as organisations
from app.scheduling.repository import SlotFilter
from app.scheduling.schemas import VisitType
from app.scheduling.views import FreeSlot, week_name
from app.web import sessions
from app.web.templating import clock_time, page_language, render

VISIT_TYPES: tuple[str, ...] = get_args(VisitType)
MODES: tuple[str, ...] = CONTACT_MODES
# The languages a counsellor offers most; any other code stored is shown as it is.
LANGUAGES = ("fi", "sv", "en")
# Free slots listed at a time on the booking and rescheduling pages.
LISTED = 20
# How far ahead the lists look: the rolling horizon of materialised slots.
AHEAD = timedelta(weeks=16)


def time_span(start: datetime, end: datetime, language: Language) -> str:
    """A span of time with the prefix once, as Finnish and Swedish write it (klo 9.00 to
    10.00 with an en dash between)."""
    return f"{clock_time(start, language)}\u2013{clock_time(end, language).split(' ')[-1]}"


def page(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
    session: Session | None = None,
) -> HTMLResponse:
    """The page, with the places its times carry named in the reader's language when given the
    `session` to look them up in."""
    language = page_language(request)

    def span(start: datetime, end: datetime) -> str:
        return time_span(start, end, language)

    def local_day(moment: datetime) -> date:
        return moment.astimezone(HELSINKI).date()

    def day_name(day: date) -> str:
        """The weekday standing alone (`maanantai`), for a heading or a choice."""
        return format_date(day, "cccc", locale=language)

    def week_of(moment: datetime) -> str:
        return week_name(local_day(moment))

    def holiday(day: date) -> str | None:
        """The public holiday or eve on the day, named in the reader's language."""
        return holiday_name(day, language)

    shared = {
        "span": span,
        "local_day": local_day,
        "week_of": week_of,
        "day_name": day_name,
        "holiday": holiday,
        "visit_types": VISIT_TYPES,
        "modes": MODES,
        "offered": LANGUAGES,
        "place_names": organisations.place_names(session, language) if session else {},
    }
    return render(request, template, {**shared, **context}, status_code=status_code)


def keep_note(request: Request, key: str, note: Any) -> None:
    """A note for the page the redirect leads to (kept in the server-side session)."""
    sessions.current(request).data[key] = note


def take_note(request: Request, key: str) -> Any:
    return sessions.current(request).data.pop(key, None)


@dataclass(frozen=True, slots=True)
class SlotQuery:
    """The free slots asked for on a booking or rescheduling page: soonest first from a day,
    of a visit type, mode and language, after the last one shown."""

    visit_type: str | None = None
    mode: str | None = None
    language: str | None = None
    from_date: date | None = None
    after: str | None = None

    def where(self, service_id: uuid.UUID, now: datetime) -> SlotFilter:
        start = max(now, helsinki_midnight(self.from_date)) if self.from_date else now
        return SlotFilter(
            service_id=service_id,
            start=start,
            end=start + AHEAD,
            mode=self.mode,
            language=self.language,
            visit_type=self.visit_type,
            after=after_time_and_id(self.after, uuid.UUID),
        )

    def link(self, **changes: str | None) -> str:
        """The query string of this list with `changes`, empty values left out."""
        values = {
            "visit_type": self.visit_type,
            "mode": self.mode,
            "language": self.language,
            "from_date": self.from_date.isoformat() if self.from_date else None,
            "after": self.after,
            **changes,
        }
        return urlencode({name: value for name, value in values.items() if value})


def later(slots: list[FreeSlot]) -> str:
    """The cursor that lists the slots after these."""
    last = slots[-1].slot
    return encode_cursor(TimeAndId[uuid.UUID](t=last.start_at, i=last.id))


def _date(text: str | None) -> date | None:
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return day if day is None or EARLIEST <= day <= LATEST else None


def slot_query(
    visit_type: Annotated[str | None, Query(max_length=20)] = None,
    mode: Annotated[str | None, Query(max_length=20)] = None,
    language: Annotated[str | None, Query(max_length=2)] = None,
    from_date: Annotated[str | None, Query(max_length=10)] = None,
    after: Annotated[str | None, Query(max_length=500)] = None,
) -> SlotQuery:
    """The list's query; a value that is not one of the choices is left out, as "any"."""
    return SlotQuery(
        visit_type=visit_type if visit_type in VISIT_TYPES else None,
        mode=mode if mode in MODES else None,
        language=language if language and language.isalpha() and language.islower() else None,
        from_date=_date(from_date),
        after=after or None,
    )


SlotChoice = Annotated[SlotQuery, Depends(slot_query)]
