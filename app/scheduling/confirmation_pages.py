"""An appointment's confirmation for the patient, as the NHS e-Referral Service hands one over:
when, where, with whom, and how to cancel or move it. It is written in the patient's language
whatever the page's (the language the service's notices to them use), on an A4 sheet, without
the personal identity code; reading it is the API's audited read of the appointment."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from app.access.principal import Principal
from app.db import WriteSession
from app.i18n import DEFAULT_LANGUAGE, LANGUAGES, Language
from app.kit.clock import HELSINKI, utcnow
from app.organisations import service as organisations
from app.organisations.schemas import ServiceLocation
from app.referrals import service as referral_service
from app.scheduling import booking, views
from app.scheduling.page_parts import time_span
from app.web.pages import PageRoute
from app.web.signin import PageUser
from app.web.templating import LANGUAGE_NAMES, formats_in, page_language, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Confirmation:
    view: views.AppointmentView
    # The language the patient reads it in.
    language: Language
    service_name: str
    # The appointment's place as the service's data describes it (its address), if it does.
    place: ServiceLocation | None
    # Its address in the patient's language (the Finnish one where it has no Swedish one).
    address: str | None
    # Where the patient calls to cancel or move the time: the place's phone, else the service's.
    contact: ServiceLocation | None
    # Cancelled later than this before the start, a time is a late cancellation.
    cancel_hours: int


def patient_language(code: str) -> Language:
    """The patient's own language if the pages speak it, else the service's default."""
    return next((language for language in LANGUAGES if language == code), DEFAULT_LANGUAGE)


def confirmation(
    session: Session, principal: Principal, appointment_id: uuid.UUID, now: datetime
) -> Confirmation:
    """The appointment as the API's read gives it (and audits it), with what the patient needs
    to know of its service."""
    view = views.appointment_view(session, principal, appointment_id, now)
    patient = referral_service.patient_of(session, view.referral)
    language = patient_language(patient.language)
    counselling = organisations.get(session, view.appointment.service_id)
    assert counselling is not None  # an appointment's service is never deleted (a foreign key)
    places = organisations.locations(counselling)
    stored = view.appointment.location
    place = next((p for p in places if stored in (p.name, p.name_sv)), None)
    contact = place if place and place.phone else next((p for p in places if p.phone), None)
    return Confirmation(
        view=view,
        language=language,
        service_name=organisations.service_name(counselling, language),
        place=place,
        address=organisations.named(place.address, place.address_sv, language)
        if place and place.address
        else None,
        contact=contact,
        cancel_hours=int(booking.LATE_CANCELLATION.total_seconds() // 3600),
    )


@router.get("/appointments/{appointment_id}/confirmation")
def confirmation_page(
    request: Request, appointment_id: uuid.UUID, principal: PageUser, session: WriteSession
) -> Response:
    """The appointment's confirmation for the patient, in their language, to print or give
    them; for those who may read its referral (the API's audited read of the appointment)."""
    shown = confirmation(session, principal, appointment_id, utcnow())
    language = shown.language

    def span(start: datetime, end: datetime) -> str:
        return time_span(start, end, language)

    def local_day(moment: datetime) -> date:
        return moment.astimezone(HELSINKI).date()

    reader = page_language(request)
    context = {
        "shown": shown,
        "a": shown.view.appointment,
        # The sheet is the patient's; the lines around it, for the one who prints it, are the
        # reader's.
        **formats_in(language),
        "span": span,
        "local_day": local_day,
        "reader_language": reader,
        "reader_text": formats_in(reader)["_"],
        "language_name": LANGUAGE_NAMES[language],
        "place_names": organisations.place_names(session, language),
    }
    response = render(request, "scheduling/confirmation.html", context)
    response.headers["Content-Language"] = language
    return response
