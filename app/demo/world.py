"""What the demo's stories are made of: the services and their people, the referral each story
follows, and the steps the people take, each a request at the desk (`desk.Desk`) through the
service function its endpoint calls."""

from __future__ import annotations

import random
import uuid
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum

from app.counselling.schemas import ContactType
from app.demo.desk import Desk
from app.demo.region import DemoMunicipality, DemoPatient
from app.errors import AppError
from app.flows import referral_transitions
from app.kit.clock import HELSINKI, add_working_days, today_in_helsinki, utcnow
from app.referrals import service as referral_service
from app.referrals.models import Referral
from app.referrals.schemas import ReasonBody
from app.referrals.states import Action
from app.scheduling import availability, booking
from app.scheduling.models import Appointment
from app.scheduling.repository import SlotFilter
from app.scheduling.schemas import AppointmentCreate, CancelAppointment, Mode, VisitType

# A story yields the moment of its next step; the history resumes it then.
Process = Generator[datetime, None, None]


class Fate(StrEnum):
    counselled = "counselled"  # visits, a plan and its follow-ups, then completed
    dropped_out = "dropped_out"  # ends it after the first visit
    declined = "declined"  # cancels before the first visit
    unreachable = "unreachable"  # misses the first visit twice: the service cancels
    rejected = "rejected"
    returned = "returned"


FATES = {Fate.counselled: 72, Fate.dropped_out: 6, Fate.declined: 6, Fate.unreachable: 3,
         Fate.rejected: 6, Fate.returned: 7}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Service:
    municipality: DemoMunicipality
    service_id: uuid.UUID
    languages: tuple[str, ...]
    location: str
    counsellors: dict[uuid.UUID, str]  # user id -> username
    clinicians: tuple[str, ...]


@dataclass(slots=True)
class Story:
    service: Service
    sent_at: datetime
    clinician: str
    person: DemoPatient
    registered: bool  # one of the demo's own patients: the clinician looks them up
    fate: Fate
    by_service: bool  # the clinician finds no suitable slot: the service books
    open_after: int = 1  # working days until a counsellor opens it
    decide_after: int = 0  # working days from opening to accepting (or not)
    book_after: int = 1  # working days the service takes to book, when it books
    first_visit_after: int = 0  # days: the patient cannot come sooner
    referral: Referral = field(init=False)


@dataclass(frozen=True, slots=True)
class World:
    desk: Desk
    rng: random.Random

    def after(self, **delta: float) -> datetime:
        return utcnow() + timedelta(**delta)

    def workday(self, days: int, first_hour: int = 8, last_hour: int = 15) -> datetime:
        """A moment of office hours `days` working days from today."""
        day = add_working_days(today_in_helsinki(), days)
        minute = self.rng.randrange(first_hour * 60, last_hour * 60)
        return datetime.combine(day, time(minute // 60, minute % 60), HELSINKI)


FIRST_VISIT_MODES: dict[str, Mode] = {"in_person": "in_person", "phone": "phone", "video": "video"}
CONTACTS: dict[str, ContactType] = {"phone": "phone", "video": "video", "group": "group"}


def book(
    w: World,
    s: Story,
    user: str,
    visit_type: VisitType,
    *,
    hold: bool = False,
    start: datetime | None = None,
) -> Generator[datetime, None, Appointment | None]:
    """Search the service's free slots and book one the patient can come to (a clinician holds
    it first while asking them): None when nothing suits in the next four weeks."""
    language = s.person.language if s.person.language in s.service.languages else None
    mode = FIRST_VISIT_MODES.get(s.referral.contact_mode) if visit_type == "first_visit" else None
    for _attempt in range(3):
        begin = max(start or utcnow(), utcnow())
        where = SlotFilter(service_id=s.service.service_id, start=begin,
                           end=begin + timedelta(weeks=4), mode=mode, language=language,
                           visit_type=visit_type)  # fmt: skip
        with w.desk.request(user) as (session, me):
            found = availability.search(session, where, utcnow(), 20)
        if not found:
            return None
        # The patient picks one of the soonest (ordered by time and counsellor, not by id).
        slot = w.rng.choice(sorted(found, key=lambda row: (row[0].start_at, row[1]))[:5])[0]
        yield w.after(minutes=1)
        try:
            held = None
            if hold:
                with w.desk.request(user, refusable=True) as (session, me):
                    held = booking.hold(session, me, slot.id, s.referral.id, utcnow()).id
                yield w.after(minutes=2)
            with w.desk.request(user, refusable=True) as (session, me):
                wanted = AppointmentCreate(
                    slot_id=slot.id, referral_id=s.referral.id, hold_id=held, mode=mode
                )
                return booking.book(session, me, wanted, utcnow())
        except AppError:  # taken meanwhile: look again
            yield w.after(minutes=1)
    return None


def move(
    w: World,
    s: Story,
    user: str,
    action: Action,
    body: ReasonBody | None = None,
    version: int | None = None,
) -> None:
    """A transition as the UI makes it: on the version last read (read now if need be)."""
    if version is None:
        with w.desk.request(user) as (session, me):
            version = referral_service.open_referral(session, me, s.referral.id).version
    with w.desk.request(user) as (session, me):
        referral_transitions.take(session, me, s.referral.id, action, version, body)


def cancel_appointment(w: World, s: Story, appointment: Appointment, reason: str) -> None:
    """The patient calls off a visit; the counsellor cancels it."""
    with w.desk.request(counsellor_of(s, appointment)) as (session, me):
        body = CancelAppointment(cancelled_by="patient", reason=reason)
        booking.cancel(session, me, appointment.id, body, utcnow())


def counsellor_of(s: Story, appointment: Appointment | None) -> str:
    """Whose appointment it is (the service's first counsellor when there is none)."""
    if appointment is None:
        return next(iter(s.service.counsellors.values()))
    return s.service.counsellors[appointment.counsellor_id]


def contact_of(appointment: Appointment) -> ContactType:
    return CONTACTS.get(appointment.mode, "in_person")


REASONS = {
    "not_eligible": "Ei täytä kriteerejä: liikkuu jo suositusten mukaan.",
    "needs_medical_assessment": "Rintakipu rasituksessa: lääkärin arvio ensin.",
    "patient_declined": "Potilas ei halua neuvontaa nyt.",
    "patient_unreachable": "Potilas ei saapunut kahdesti eikä vastaa puhelimeen.",
    "patient_ended": "Potilas ilmoitti lopettavansa.",
    "goals_met": "Tavoitteet saavutettiin.",
    "goals_partly_met": "Liikunta lisääntyi, lihaskuntotavoite jäi kesken.",
    "goals_not_met": "Liikkuminen ei lisääntynyt.",
}


def reason(code: str) -> ReasonBody:
    return ReasonBody(reason_code=code, reason_text=REASONS[code])
