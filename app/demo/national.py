"""A national-size synthetic dataset, for load and query benchmarks on PostgreSQL: the demo
region, then counselling services with their counsellors and 16 weeks of slots, patients,
referrals of two years in every state, and their visits, all written with COPY (millions of
rows in minutes), then the statistics facts built from them. Every person in it is invented;
identity codes are random bytes, never valid ones.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import psycopg
from sqlalchemy import select

from app import db
from app.access.models import User
from app.demo.region import seed
from app.kit.clock import today_in_helsinki, utcnow
from app.organisations.models import CounsellingService
from app.scheduling.calendar_rules import SlotSpec, WeeklyRule, Window, slots_between
from app.statistics import facts

Progress = Callable[[int], None]
HISTORY_START = date(2025, 1, 1)
DEMO_MUNICIPALITIES = {"399": "laihia", "152": "isokyro", "231": "kaskinen"}
COUNSELLORS_PER_SERVICE = 10
REPORT_EVERY = 10_000


@dataclass(frozen=True, slots=True)
class Scale:
    counsellors: int = 2_000
    weeks: int = 16
    patients: int = 500_000
    referrals: int = 500_000
    visits: int = 2_000_000

    @property
    def rows(self) -> int:
        """Rows to write, for a progress bar."""
        slots = self.counsellors * len(slot_template(self.weeks))
        return slots + self.patients + self.referrals + self.visits


def slot_template(weeks: int) -> list[SlotSpec]:
    """One counsellor's slots: working days 8-14, first visits and follow-ups, from today."""
    window = Window(time(8), time(14), "Liikuntahalli", ("in_person", "phone"),
                    ("first_visit", "follow_up"), ("fi", "sv"), 8)  # fmt: skip
    today = today_in_helsinki()
    rules = [WeeklyRule(weekday, window, date(2026, 1, 1), None) for weekday in range(5)]
    return slots_between(today, today + timedelta(weeks=weeks, days=-1), rules, [])


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def copy_rows(
    connection: psycopg.Connection,
    table: str,
    columns: list[str],
    rows: Iterator[tuple[object, ...]],
    progress: Progress | None = None,
) -> int:
    count = 0
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
            if progress is not None and count % REPORT_EVERY == 0:
                progress(REPORT_EVERY)
    if progress is not None:
        progress(count % REPORT_EVERY)
    return count


def generate(url: str, scale: Scale, progress: Progress | None = None) -> bool:
    """Everything, into a PostgreSQL database at the schema's head; False if it is there."""
    with psycopg.connect(libpq(url)) as connection:
        if connection.execute(
            "SELECT 1 FROM counselling_services WHERE code = 'bench-0'"
        ).fetchone():
            return False
    database = db.Database.from_url(url)
    try:
        with database.write_sessions() as session, session.begin():
            seed(session)
        add_counsellors_and_slots(url, scale.counsellors, scale.weeks, progress)
        add_history(url, scale.patients, scale.referrals, scale.visits, progress)
        with database.write_sessions() as session, session.begin():
            facts.rebuild(session)
    finally:
        database.dispose()
    return True


def add_counsellors_and_slots(
    url: str, counsellors: int, weeks: int, progress: Progress | None = None
) -> dict[str, list[str]]:
    """Services of COUNSELLORS_PER_SERVICE counsellors each, in the first demo municipality,
    each counsellor with the slots of `slot_template`; {service id: counsellor ids}."""
    template = slot_template(weeks)
    now = utcnow()
    services: dict[str, list[str]] = {}
    with psycopg.connect(libpq(url)) as connection:
        row = connection.execute(
            "SELECT id FROM organisations WHERE kind = 'municipality' ORDER BY code LIMIT 1"
        ).fetchone()
        assert row is not None, "the demo region is seeded first"
        municipality = row[0]
        service_ids = [uuid.uuid4() for _ in range(max(1, counsellors // COUNSELLORS_PER_SERVICE))]
        copy_rows(connection, "counselling_services",
                  ["id", "code", "municipality_id", "name_fi", "name_sv", "languages", "modes",
                   "locations", "created_at"],
                  ((sid, f"bench-{i}", municipality, f"Palvelu {i}", f"Tjänst {i}",
                    '["fi","sv"]', '["in_person","phone"]', "[]", now)
                   for i, sid in enumerate(service_ids)))  # fmt: skip
        counsellor_ids = [uuid.uuid4() for _ in range(counsellors)]
        service_of = {
            cid: service_ids[i % len(service_ids)] for i, cid in enumerate(counsellor_ids)
        }
        for cid, sid in service_of.items():
            services.setdefault(str(sid), []).append(str(cid))
        copy_rows(connection, "users",
                  ["id", "username", "display_name", "organisation_id", "roles", "profession",
                   "service_id", "active", "created_at"],
                  ((cid, f"bench.counsellor{i}", f"Neuvoja {i}", municipality, '["counsellor"]',
                    "counsellor", service_of[cid], True, now)
                   for i, cid in enumerate(counsellor_ids)))  # fmt: skip
        slots = (
            (uuid.uuid4(), cid, service_of[cid], spec.start_at, spec.end_at, spec.visit_type,
             spec.capacity, 0, spec.location, ",in_person,phone,", ",fi,sv,", False)
            for cid in counsellor_ids for spec in template
        )  # fmt: skip
        copy_rows(connection, "slots",
                  ["id", "counsellor_id", "service_id", "start_at", "end_at", "visit_type",
                   "capacity", "booked_count", "location", "modes", "languages", "withdrawn"],
                  slots, progress)  # fmt: skip
        connection.commit()
        connection.execute("ANALYZE")
    return services


def add_history(
    url: str, patients: int, referrals: int, visits: int, progress: Progress | None = None
) -> None:
    """Patients of the three demo municipalities, referrals to their services sent over two
    years by the demo doctor, in every state, and visits recorded on them."""
    database = db.Database.from_url(url)
    with database.write_sessions() as session:
        by_code = {
            s.code.removeprefix("ln-"): s.id for s in session.scalars(select(CounsellingService))
        }
        doctor = session.scalars(select(User).where(User.username == "doctor.laihia")).one()
    database.dispose()
    service_of = {code: by_code[slug] for code, slug in DEMO_MUNICIPALITIES.items()}
    rng = random.Random(1)
    people = [(uuid.uuid4(), rng.choice(list(DEMO_MUNICIPALITIES)),
               date(1930, 1, 1) + timedelta(days=rng.randrange(33000)))
              for _ in range(patients)]  # fmt: skip
    now = utcnow()
    patient_rows = (
        (pid, os.urandom(32).hex(), os.urandom(40), born, rng.choice(("female", "male")), "Testi",
         "Henkilö", code, rng.choice(("fi", "fi", "sv", "en")), "demo-data", now)
        for pid, code, born in people
    )  # fmt: skip
    sent: list[tuple[uuid.UUID, uuid.UUID, str, datetime]] = []

    def referral_rows() -> Iterator[tuple[object, ...]]:
        start = datetime.combine(HISTORY_START, datetime.min.time(), UTC)
        for _ in range(referrals):
            patient_id, code, _born = rng.choice(people)
            referral_id = uuid.uuid4()
            created = start + timedelta(minutes=rng.randrange(700 * 24 * 60))
            status = rng.choices(("completed", "in_progress", "rejected", "cancelled", "sent"),
                                 (5, 3, 1, 1, 1))[0]  # fmt: skip
            sent.append((referral_id, patient_id, code, created))
            yield (referral_id, patient_id, service_of[code], doctor.id, "doctor.laihia",
                   "Lääkäri", "ts-laihia", rng.choice(("doctor", "nurse", "physiotherapist")),
                   json.dumps([{"system": "icd10", "code": "E11.9"}]), "Syy", "Tavoite", None, None,
                   "routine", 1, "fi", "in_person", True, status, 3, False, None, None, None, None,
                   None, created, created, None)  # fmt: skip

    def visit_rows() -> Iterator[tuple[object, ...]]:
        for number in range(visits):
            referral_id, patient_id, code, created = sent[number % len(sent)]
            visited = (created + timedelta(days=rng.randrange(5, 200))).date()
            days, per_day = rng.randrange(0, 8), rng.randrange(0, 90)
            yield (uuid.uuid4(), referral_id, patient_id, service_of[code], None,
                   "counsellor1.laihia", "Neuvoja", "counsellor", visited,
                   rng.choice(("in_person", "phone", "video", "group")), 45, days, per_day,
                   days * per_day, rng.randrange(0, 4), None, None, None, None, None, None, None,
                   None, None, None, None, False, now, now)  # fmt: skip

    with psycopg.connect(libpq(url)) as connection:
        copy_rows(connection, "patients",
                  ["id", "hetu_hash", "hetu_ciphertext", "birth_date", "sex", "given_name",
                   "family_name", "home_municipality_code", "language", "created_by", "created_at"],
                  patient_rows, progress)  # fmt: skip
        copy_rows(connection, "referrals",
                  ["id", "patient_id", "service_id", "referrer_id", "referrer_subject",
                   "referrer_name", "referrer_organisation", "referrer_profession", "reason_codes",
                   "reason_text", "goal", "exercise_restrictions", "risk_factors", "urgency",
                   "priority", "preferred_language", "contact_mode", "consent_to_counselling",
                   "status", "version", "booking_by_service", "expected_contact_by",
                   "cancelled_by", "status_reason_code", "status_reason_text", "outcome_summary",
                   "updated_at", "created_at", "source_identifier"],
                  referral_rows(), progress)  # fmt: skip
        copy_rows(connection, "visits",
                  ["id", "referral_id", "patient_id", "service_id", "appointment_id",
                   "counsellor_subject", "counsellor_name", "counsellor_profession", "visited_on",
                   "contact_type", "duration_minutes", "mvpa_days_per_week",
                   "mvpa_minutes_per_day", "minutes_per_week", "strength_days_per_week",
                   "sitting_hours_per_day", "stage_of_change", "barriers", "resources",
                   "weight_kg", "waist_cm", "systolic_mmhg", "diastolic_mmhg", "fitness_test",
                   "note", "correction_reason", "corrected", "created_at", "first_recorded_at"],
                  visit_rows(), progress)  # fmt: skip
        connection.execute("ANALYZE")
