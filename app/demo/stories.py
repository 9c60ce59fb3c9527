"""The life of each demo referral, as its people live it: a clinician registers the patient,
refers them and books a first visit (or leaves the booking to the service); a counsellor opens
the referral and accepts it (or rejects or returns it), meets the patient, records the visit
and the plan agreed with them, books the follow-up visits, calls in the months between, and
completes the referral after six months. Patients miss appointments, move them, drop out."""

from __future__ import annotations

import uuid
from collections.abc import Generator
from datetime import date, datetime, time, timedelta

from app.consents import service as consents
from app.consents.schemas import ConsentIn
from app.counselling import service as counselling
from app.counselling.schemas import VisitCorrection
from app.demo import figures
from app.demo.world import (
    Fate,
    Process,
    Story,
    World,
    book,
    cancel_appointment,
    contact_of,
    counsellor_of,
    move,
    reason,
)
from app.flows import follow_ups, visit_recording
from app.kit.clock import HELSINKI, add_months, add_working_days, today_in_helsinki, utcnow
from app.kit.public_holidays import is_working_day
from app.patients import service as patient_service
from app.referrals import service as referral_service
from app.referrals.schemas import CancelBody, CompleteBody
from app.referrals.states import Action
from app.scheduling import availability, booking
from app.scheduling.models import Appointment
from app.scheduling.repository import AppointmentFilter, SlotFilter
from app.scheduling.schemas import Reschedule

STUDY = "LIIKU-2025"
NO_SHOW = 0.07
MOVED_BY_PATIENT = 0.06
# A contact on the counselling course: a booked visit, or a phone call (no appointment).
Contact = tuple[datetime, Appointment | None]


def life(w: World, s: Story) -> Process:
    """One referral from sending to its end (or to today, if it has not ended)."""
    yield s.sent_at
    with w.desk.request(s.clinician) as (session, me):
        if s.registered:
            patient_id = patient_service.lookup(session, me, s.person.hetu).id
        else:
            patient_id = patient_service.register(session, me, s.person.registration()).id
    yield w.after(minutes=3)
    with w.desk.request(s.clinician) as (session, me):
        group = figures.group_of(s.person.birth_date, today_in_helsinki())
        # The story's service is the home municipality's: a Swedish speaker of a Finnish-only
        # one agrees with the clinician on counselling in Finnish near home (left alone, the
        # referral would go to a Swedish-speaking service elsewhere in the region).
        spoken = s.person.language if s.person.language in s.service.languages else "fi"
        body = figures.referral(w.rng, patient_id, group, spoken, book_by_service=s.by_service)
        s.referral = referral_service.send(session, me, body)
    first: Appointment | None = None
    if not s.by_service:
        yield w.after(minutes=2)
        later = w.after(days=s.first_visit_after)
        holds = w.rng.random() < 0.5  # while asking the patient
        first = yield from book(w, s, s.clinician, "first_visit", hold=holds, start=later)
        if first is None:  # nothing suits: the clinician leaves it to the service
            move(w, s, s.clinician, Action.book_by_service, version=s.referral.version)
    yield w.workday(s.open_after)
    counsellor = w.rng.choice(list(s.service.counsellors.values()))
    with w.desk.request(counsellor) as (session, me):
        version: int | None = referral_service.open_referral(session, me, s.referral.id).version
    if s.decide_after:
        yield w.workday(s.decide_after)
        version = None  # read again when the decision is made
    else:
        yield w.after(minutes=w.rng.randint(5, 40))
    if s.fate in (Fate.rejected, Fate.returned):
        rejected = s.fate is Fate.rejected
        action, code = (
            (Action.reject, "not_eligible")
            if rejected
            else (Action.return_, "needs_medical_assessment")
        )
        move(w, s, counsellor, action, reason(code), version)
        return
    move(w, s, counsellor, Action.accept, version=version)
    if first is None:
        yield w.workday(s.book_after)
        first = yield from book(w, s, counsellor, "first_visit")
    first = yield from _first_visit_kept(w, s, first)
    if first is not None:
        yield from _course(w, s, first)


def _first_visit_kept(
    w: World, s: Story, first: Appointment | None
) -> Generator[datetime, None, Appointment | None]:
    """The first visit the patient comes to; None if they cancel, or miss it twice."""
    misses = 0
    while True:
        if first is None:  # nothing free in the weeks searched: the service tries again
            yield w.workday(5)
            first = yield from book(w, s, counsellor_of(s, None), "first_visit")
            continue
        counsellor = counsellor_of(s, first)
        if s.fate is Fate.declined:
            yield first.start_at - timedelta(days=w.rng.randint(2, 6))
            cancel_appointment(w, s, first, "Potilas perui: ei halua neuvontaa.")
            code = "patient_declined"
            body = CancelBody(**reason(code).model_dump(), cancelled_by="patient")
            move(w, s, counsellor, Action.cancel, body)
            return None
        missed = s.fate is Fate.unreachable or w.rng.random() < NO_SHOW
        yield (
            first.end_at + timedelta(minutes=5)
            if not missed
            else first.start_at + timedelta(minutes=15)
        )
        if not missed:
            return first
        with w.desk.request(counsellor) as (session, me):
            booking.mark(session, me, first.id, "no_show", utcnow())
        misses += 1
        if misses == 2:
            body = CancelBody(**reason("patient_unreachable").model_dump(), cancelled_by="provider")
            move(w, s, counsellor, Action.cancel, body)
            return None
        yield w.after(hours=2)
        first = yield from book(w, s, counsellor, "first_visit")


def _course(w: World, s: Story, first: Appointment) -> Process:
    """The first visit and the plan agreed at it, the follow-up visits it books and the phone
    calls between them, then the referral completed."""
    counsellor = counsellor_of(s, first)
    began = today_in_helsinki()
    client = figures.mover(w.rng, s.person.birth_date, began, s.person.language)
    # Visits at these months (the plan's follow-ups), phone calls in the months between.
    months = w.rng.choice(([3, 6], [3, 6], [2, 4, 6]))
    with w.desk.request(counsellor) as (session, me):
        record = figures.visit(w.rng, client, 0.0, visited_on=began, contact_type=contact_of(first),
                               appointment_id=first.id, first=True)  # fmt: skip
        visit = visit_recording.record_visit(session, me, s.referral.id, record, utcnow())
        if w.rng.random() < 0.03:  # a slip noticed at once: corrected, the original kept
            fixed = record.model_dump(exclude={"appointment_id"}) | {"duration_minutes": 45}
            correction = VisitCorrection(**fixed, reason="Kesto kirjattu väärin.")
            counselling.correct(session, me, visit.id, correction)
    yield w.after(minutes=5)
    with w.desk.request(counsellor) as (session, me):
        agreed = figures.plan(w.rng, client, began, months)
        counselling.save_plan(session, me, s.referral.id, agreed, None)
        if w.rng.random() < 0.3:
            consent = ConsentIn(scope="research", study=STUDY, decision="given",
                                decided_on=began, method="written")  # fmt: skip
            consents.record(session, me, s.referral.patient_id, consent)
    yield w.after(minutes=3)
    known: dict[int, uuid.UUID | None] = {}
    contacts = _follow_ups(w, s, counsellor, known)
    if client.group != "child" and w.rng.random() < 0.2:
        yield w.after(minutes=2)
        group = yield from book(w, s, counsellor, "group", start=w.after(days=7))
        contacts += [(group.start_at, group)] if group else []
    calls = [m for m in range(1, max(months)) if m not in months]
    contacts += [(_call_time(w, add_months(began, m)), None) for m in calls]
    while contacts:
        contacts.sort(key=lambda contact: contact[0])
        moment, appointment = contacts.pop(0)
        if s.fate is Fate.dropped_out:
            yield moment - timedelta(days=w.rng.randint(1, 5))
            yield from _drop_out(w, s, counsellor)
            return
        progress = min(1.0, (moment.date() - began).days / (30 * max(months)))
        if appointment is None:
            yield moment
            yield from _call(w, s, counsellor, client, progress, last=not contacts)
            # A follow-up the calendar did not reach yet is booked at the call before it.
            month = round((moment.date() - began).days / 30.4)
            if any(known.get(m, 0) is None and m - month <= 2 for m in months):
                contacts += _follow_ups(w, s, counsellor, known)
            continue
        if w.rng.random() < MOVED_BY_PATIENT:
            yield appointment.start_at - timedelta(days=w.rng.randint(1, 4), hours=3)
            appointment = _moved(w, s, appointment) or appointment
        if w.rng.random() < NO_SHOW:
            yield appointment.start_at + timedelta(minutes=10)
            with w.desk.request(counsellor_of(s, appointment)) as (session, me):
                booking.mark(session, me, appointment.id, "no_show", utcnow())
            if not contacts:  # the last one missed: the counsellor calls instead
                contacts.append((w.workday(1), None))
            continue
        yield appointment.end_at + timedelta(minutes=5)
        with w.desk.request(counsellor_of(s, appointment)) as (session, me):
            record = figures.visit(w.rng, client, progress, last=not contacts,
                                   visited_on=today_in_helsinki(),
                                   contact_type=contact_of(appointment),
                                   appointment_id=appointment.id)  # fmt: skip
            visit_recording.record_visit(session, me, s.referral.id, record, utcnow())
    yield w.after(minutes=15)
    yield from _complete(w, s, counsellor, client, months)


def _follow_ups(
    w: World, s: Story, counsellor: str, known: dict[int, uuid.UUID | None]
) -> list[Contact]:
    """The plan's follow-ups booked; `known` notes each one's appointment by its months
    (None: the calendar does not reach it yet). The new appointments are returned."""
    with w.desk.request(counsellor) as (session, me):
        booked = follow_ups.book_follow_ups(session, me, s.referral.id, utcnow())
        new = [b.appointment_id for b in booked if b.appointment_id and known.get(b.months) is None]
        known.update((b.months, b.appointment_id) for b in booked)
        appointments = [session.get(Appointment, appointment_id) for appointment_id in new]
    return [(a.start_at, a) for a in appointments if a is not None]


def _call(
    w: World, s: Story, counsellor: str, client: figures.Mover, progress: float, *, last: bool
) -> Process:
    with w.desk.request(counsellor) as (session, me):
        record = figures.visit(w.rng, client, progress, last=last,
                               visited_on=today_in_helsinki(), contact_type="phone")  # fmt: skip
        visit_recording.record_visit(session, me, s.referral.id, record, utcnow())
    yield w.after(minutes=2)


def _call_time(w: World, around: date) -> datetime:
    day = around if is_working_day(around) else add_working_days(around, 1)
    return datetime.combine(day, time(w.rng.randint(9, 14), w.rng.choice((0, 20, 40))), HELSINKI)


def _complete(
    w: World, s: Story, counsellor: str, client: figures.Mover, months: list[int]
) -> Process:
    met = figures.goals_met(client)
    with w.desk.request(counsellor) as (session, me):
        plan = counselling.read_plan(session, me, s.referral.id, None)
        if met:  # the goals reached are marked on the plan, agreed at the last contact
            reviewed = figures.plan(w.rng, client, plan.agreed_on, months, achieved=met,
                                    change_note="Tavoitteet arvioitu.")  # fmt: skip
            counselling.save_plan(session, me, s.referral.id, reviewed, plan.version)
    code = ("goals_not_met", "goals_partly_met", "goals_met")[met]
    summary = "Liikkuminen lisääntyi." if met else "Liikkuminen ennallaan."
    move(w, s, counsellor, Action.complete,
         CompleteBody(**reason(code).model_dump(), outcome_summary=summary))  # fmt: skip
    if w.rng.random() < 0.3:  # the referrer looks at what came of it
        yield w.workday(w.rng.randint(1, 5))
        with w.desk.request(s.clinician) as (session, me):
            counselling.outcome(session, me, s.referral.id)


def _drop_out(w: World, s: Story, counsellor: str) -> Process:
    """The patient calls to end it: what is booked is cancelled, then the referral ended."""
    with w.desk.request(counsellor) as (session, me):
        coming = AppointmentFilter(referral_id=s.referral.id, start=utcnow())
        listed = booking.list_appointments(session, me, coming, 100)
    for appointment in [a for a in listed.rows if a.status == "booked"]:
        cancel_appointment(w, s, appointment, "Potilas lopettaa neuvonnan.")
    yield w.after(minutes=4)
    summary = "Potilas lopetti neuvonnan ensikäynnin jälkeen."
    move(w, s, counsellor, Action.complete,
         CompleteBody(**reason("patient_ended").model_dump(), outcome_summary=summary))  # fmt: skip


def _moved(w: World, s: Story, appointment: Appointment) -> Appointment | None:
    """The patient cannot come: the counsellor moves the visit to another free time."""
    free = SlotFilter(service_id=s.service.service_id, visit_type=appointment.visit_type,
                      start=appointment.start_at + timedelta(days=1),
                      end=appointment.start_at + timedelta(days=15))  # fmt: skip
    with w.desk.request(counsellor_of(s, appointment)) as (session, me):
        found = availability.search(session, free, utcnow(), 5)
        if not found:
            return None
        moved = Reschedule(slot_id=found[0][0].id)
        return booking.reschedule(session, me, appointment.id, moved, utcnow())
