"""The demo's year of history, seeded on a fresh database: what a new user meets on the first
start (free slots, referrals in every state, statistics with real numbers), and what real use
would have left behind (an intact, sealed audit log, current statistics facts, an outbox whose past
notices went out when due and whose referral events wait for a FHIR server)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app import db
from app.access.audit.models import AuditEvent
from app.cli import cli
from app.config import get_settings
from app.consents.models import ConsentDecision
from app.counselling.models import PlanVersion, Visit
from app.demo import history
from app.demo.desk import UnsentHistory
from app.jobs.models import OutboxEvent
from app.jobs.worker import run_once
from app.kit.clock import HELSINKI, add_months, set_to, today_in_helsinki, utcnow
from app.kit.public_holidays import is_working_day
from app.notices import service as notices
from app.notices.channel import FileChannel
from app.organisations.models import CounsellingService
from app.patients.models import Patient
from app.referrals.models import Referral, ReferralEvent
from app.referrals.states import Status
from app.scheduling import availability
from app.scheduling.models import Appointment
from app.scheduling.repository import SlotFilter
from app.statistics import facts
from app.statistics import service as statistics
from app.statistics.models import ReferralFact, VisitFact
from app.statistics.perturbation import MAXIMUM_NOISE, Published
from tests.fixtures.databases import fresh_database_url
from tests.fixtures.demo_history import Seeded
from tests.fixtures.principals import principal_for


def _rows(session: Session, statement: Any) -> list[Any]:
    return list(session.execute(statement).all())


def test_every_service_has_free_slots_in_the_coming_weeks(seeded: Seeded) -> None:
    now = utcnow()
    with seeded.database.read_sessions() as session:
        for service in session.scalars(select(CounsellingService)):
            for visit_type, weekly in (("first_visit", 3), ("follow_up", 3), ("group", 1)):
                where = SlotFilter(service_id=service.id, start=now, end=now + timedelta(weeks=2),
                                   visit_type=visit_type)  # fmt: skip
                assert len(availability.search(session, where, now, 50)) >= weekly, (
                    service.code,
                    visit_type,
                )
            # Some of the coming weeks' slots are taken already: the calendars are in use.
            booked = select(func.count()).where(
                Appointment.service_id == service.id, Appointment.status == "booked",
                Appointment.start_at >= now,
            )  # fmt: skip
            assert (session.scalar(booked) or 0) >= 3, service.code


def test_referrals_appointments_and_the_tab_are_in_every_state(seeded: Seeded) -> None:
    with seeded.database.read_sessions() as session:
        statuses = Counter(
            dict(_rows(session, select(Referral.status, func.count()).group_by(Referral.status)))
        )
        assert set(statuses) == {status.value for status in Status}
        assert statuses["completed"] > 50
        left_to_the_service = select(func.count()).where(
            Referral.booking_by_service.is_(True),
            Referral.status.in_(["sent", "received", "accepted"]),
        )
        assert (session.scalar(left_to_the_service) or 0) >= 1
        appointments = dict(
            _rows(session, select(Appointment.status, func.count()).group_by(Appointment.status))
        )
        assert set(appointments) == {"booked", "attended", "no_show", "cancelled"}
        # Nobody closed a referral over booked appointments: they were cancelled first.
        released = select(func.count()).where(Appointment.cancel_reason.like("referral %"))
        assert session.scalar(released) == 0
        assert appointments["attended"] > 200
        contacts = dict(
            _rows(session, select(Visit.contact_type, func.count()).group_by(Visit.contact_type))
        )
        assert {"in_person", "phone", "group"} <= set(contacts)
        assert session.scalar(select(func.count()).where(Visit.corrected.is_(True)))
        assert session.scalar(select(func.count()).where(PlanVersion.version == 2))
        assert session.scalar(select(func.count()).select_from(ConsentDecision))
        # Activity figures change over the counselling: more minutes a week at the end.
        change = select(func.avg(ReferralFact.minutes_change)).where(ReferralFact.completed == 1)
        assert (session.scalar(change) or 0) > 30
        # Patients of the three municipalities, of all ages, in both languages.
        patients = _rows(session, select(Patient.home_municipality_code, Patient.language))
        assert {code for code, _ in patients} == {"399", "152", "231"}
        assert {language for _, language in patients} == {"fi", "sv"}


def shows_at_least(published: Published, true_minimum: int) -> bool:
    """A number, of at least what the history holds less the noise the cell key method may
    take off a published count."""
    return isinstance(published, int) and published >= true_minimum - MAXIMUM_NOISE


def test_the_years_statistics_show_numbers(seeded: Seeded) -> None:
    year = seeded.fullest_year
    whole_year = (date(year, 1, 1), date(year, 12, 31))
    # The months of the year that the history spans whole, and the last nine of them.
    began = seeded.start.astimezone(HELSINKI).date()
    ended = seeded.end.astimezone(HELSINKI).date()
    months = [
        f"{year}-{month:02d}"
        for month in range(1, 13)
        if date(year, month, 1) > began and add_months(date(year, month, 1), 1) <= ended
    ]
    places = ("399", "152", "231")
    with seeded.database.write_sessions() as session:
        region = principal_for(session, "statistician.region")
        by_municipality = statistics.visits(session, region, ["municipality"], *whole_year)
        patients = {c.groups["municipality"]: c.patients for c in by_municipality.cells}
        assert all(shows_at_least(patients[p], 20) for p in places), patients
        by_month = statistics.visits(session, region, ["month"], *whole_year)
        monthly = {c.groups["month"]: c.patients for c in by_month.cells}
        assert len(months) >= 6
        assert all(shows_at_least(monthly[m], 15) for m in months), monthly
        # Municipality by municipality, the last nine whole months: every cell a number.
        crossed = statistics.visits(session, region, ["month", "municipality"], *whole_year)
        shown = {(c.groups["month"], c.groups["municipality"]): c.patients for c in crossed.cells}
        for cell in [(month, place) for month in months[-9:] for place in places]:
            assert isinstance(shown[cell], int), cell
            assert shown[cell] >= 5, cell
        funnel = statistics.referrals(session, region, ["municipality"], *whole_year)
        for cell in funnel.cells:
            if cell.groups["municipality"] not in places:
                continue
            assert shows_at_least(cell.counts["sent"], 25), cell
            assert shows_at_least(cell.counts["completed"], 10), cell
        session.rollback()


def test_the_audit_log_holds(
    seeded: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASKEL_DATABASE_URL", seeded.url)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["audit", "verify"])
    finally:
        get_settings.cache_clear()
    with seeded.database.read_sessions() as session:
        entries = session.scalar(select(func.count()).select_from(AuditEvent))
    assert result.exit_code == 0, result.output
    assert f"intact: {entries} sealed entries" in result.output


def test_the_statistics_facts_equal_a_rebuild(seeded: Seeded) -> None:
    def all_facts(session: Session) -> tuple[list[Any], list[Any]]:
        visits = sorted(map(tuple, session.execute(select(VisitFact.__table__)).all()))
        referrals = sorted(map(tuple, session.execute(select(ReferralFact.__table__)).all()))
        return visits, referrals

    with seeded.database.write_sessions() as session:
        kept = all_facts(session)
        facts.rebuild(session)
        assert all_facts(session) == kept
        assert len(kept[0]) == session.scalar(
            select(func.count()).where(Visit.corrected.is_(False))
        )
        session.rollback()


def test_the_outbox_holds_what_real_use_leaves(seeded: Seeded, tmp_path: Path) -> None:
    with seeded.database.read_sessions() as session:
        notice_events = list(
            session.scalars(
                select(OutboxEvent).where(OutboxEvent.event_type.startswith(notices.PREFIX))
            )
        )
        referral_events = list(
            session.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_type == "referral"))
        )
        timeline = Counter(session.scalars(select(ReferralEvent.referral_id)))
        completed = session.scalar(select(func.count()).where(Referral.status == "completed"))
        disclosures = list(
            session.scalars(select(AuditEvent).where(AuditEvent.resource_type == "Notice"))
        )
    # Every notice went out within a day of falling due, untroubled, as the worker sends them:
    # in order per appointment (so one behind a reminder waits for the reminder). The reminders
    # of the coming days, and what queues behind them, wait for theirs.
    assert all(event.attempts == 0 and event.dead_lettered_at is None for event in notice_events)
    per_appointment: dict[Any, list[OutboxEvent]] = {}
    for event in sorted(notice_events, key=lambda event: event.id):
        per_appointment.setdefault(event.aggregate_id, []).append(event)
    delivered = waiting = 0
    for events in per_appointment.values():
        previous = None
        for event in events:
            behind = previous.published_at if previous else None
            if event.published_at is None:  # not due yet, or behind one that is not
                assert event.next_attempt_at > seeded.end or (previous and behind is None)
                waiting += 1
            else:
                assert previous is None or behind is not None
                free = max(event.next_attempt_at, behind or event.next_attempt_at)
                assert timedelta(0) <= event.published_at - free < timedelta(days=1)
                delivered += 1
            previous = event
    assert delivered > 300
    assert waiting > 5
    published = {str(event.id) for event in notice_events if event.published_at is not None}
    # Each delivery is a disclosure in the audit log, naming where it went: nowhere.
    assert len(disclosures) > len(published) / 2
    assert {entry.recipient for entry in disclosures} == {UnsentHistory.recipient}
    assert {entry.resource_id for entry in disclosures} <= published
    # No FHIR server: every referral event waits, one for each step of its timeline and one
    # for each completed referral's outcome.
    assert all(event.published_at is None and event.attempts == 0 for event in referral_events)
    assert (
        Counter(
            event.aggregate_id
            for event in referral_events
            if event.event_type != "referral.outcome"
        )
        == timeline
    )
    assert sum(event.event_type == "referral.outcome" for event in referral_events) == completed
    # The first `askel worker` run finds nothing due: no flood of a year's notices.
    channel = FileChannel(tmp_path / "notices.jsonl")
    handlers = {notices.PREFIX: lambda session, event: notices.deliver(session, event, channel)}
    with set_to(seeded.end):
        assert run_once(seeded.database, handlers) == 0
    assert not (tmp_path / "notices.jsonl").exists()


def test_the_history_lies_in_the_past_in_order(seeded: Seeded) -> None:
    with seeded.database.read_sessions() as session:
        times = list(session.scalars(select(AuditEvent.occurred_at).order_by(AuditEvent.seq)))
        sent = dict(_rows(session, select(Referral.id, Referral.created_at)))
        visits = _rows(session, select(Visit.referral_id, Visit.visited_on))
        marked = session.scalars(
            select(Appointment.start_at).where(Appointment.status.in_(["attended", "no_show"]))
        )
        assert max(marked) < seeded.end
    assert times == sorted(times)
    assert seeded.start <= times[0]
    assert times[-1] < seeded.end
    assert all(seeded.start <= moment < seeded.end for moment in sent.values())
    # Referrals are sent on working days: never at a weekend, a public holiday or its eve.
    assert all(is_working_day(moment.astimezone(HELSINKI).date()) for moment in sent.values())
    last_day = seeded.end.astimezone(HELSINKI).date() - timedelta(days=1)
    for referral_id, visited_on in visits:
        assert sent[referral_id].astimezone(HELSINKI).date() <= visited_on <= last_day


def _fingerprint(url: str) -> list[Any]:
    """What the history holds, but for the random ids and the microseconds."""
    database = db.Database.from_url(url)
    with database.read_sessions() as session:
        found = [
            sorted(
                (p.birth_date, p.sex, p.given_name, p.family_name, p.language)
                for p in session.scalars(select(Patient))
            ),
            sorted(
                (r.status, r.created_at.replace(second=0, microsecond=0), r.urgency)
                for r in session.scalars(select(Referral))
            ),
            sorted((a.status, a.start_at, a.mode) for a in session.scalars(select(Appointment))),
            sorted(
                (v.visited_on, v.contact_type, v.minutes_per_week or 0)
                for v in session.scalars(select(Visit))
            ),
            session.scalar(select(func.count()).select_from(AuditEvent)),
            session.scalar(select(func.count()).select_from(OutboxEvent)),
        ]
    database.dispose()
    return found


def test_the_history_is_the_same_every_time(
    tmp_path: Path, worker_id_suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "WEEKS", 3)
    prints = []
    for run in ("first", "second"):
        url = fresh_database_url(tmp_path, f"askel_history_{run}_{worker_id_suffix}")
        db.upgrade(url)
        days: list[int] = []
        assert history.seed(url, progress=days.append)
        assert sum(days) == history.days(today_in_helsinki())
        prints.append(_fingerprint(url))
    assert prints[0] == prints[1]
    assert len(prints[0][1]) >= 10  # three weeks' referrals
