"""Statistics benchmark (not a test): every statistics query on a national-size dataset.

Fills an empty PostgreSQL database with PATIENTS patients, REFERRALS referrals and VISITS
visits spread over the demo region's three municipalities and two years (written with COPY),
builds the statistics facts from them (timed: what `askel stats rebuild` does after a bulk load),
then times each statistics query as the region's statistician asks it, in-process (the SQL, the
suppression and the audit record, not HTTP): five runs each, best and median. A database that
already holds the visits is not filled again.

Usage:
    python bench/statistics_queries.py postgresql+psycopg://postgres@127.0.0.1:5432/askel_stats \
        [--patients 100000] [--referrals 500000] [--visits 2000000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import psycopg
from sqlalchemy import func, select

from app import db
from app.access.models import User
from app.counselling.models import Visit
from app.demo_data import seed
from app.organisations.models import CounsellingService
from app.statistics import facts, service
from bench.scheduling import copy_rows, plain
from tests.fixtures.principals import principal_for

YEAR_START = date(2025, 1, 1)
MUNICIPALITIES = ("399", "152", "231")


def fill(url: str, patients: int, referrals: int, visits: int) -> None:
    database = db.Database.from_url(url)
    with database.write_sessions() as session:
        services = {
            s.code.removeprefix("ln-"): s.id for s in session.scalars(select(CounsellingService))
        }
        doctor = session.scalars(select(User).where(User.username == "doctor.laihia")).one()
    database.dispose()
    service_of = dict(
        zip(
            MUNICIPALITIES,
            (services["laihia"], services["isokyro"], services["kaskinen"]),
            strict=True,
        )
    )
    rng = random.Random(1)
    people = [
        (
            uuid.uuid4(),
            rng.choice(MUNICIPALITIES),
            date(1930, 1, 1) + timedelta(days=rng.randrange(33000)),
        )
        for _ in range(patients)
    ]
    now = datetime.now(UTC)

    def patient_rows() -> Iterator[tuple[object, ...]]:
        for patient_id, municipality, born in people:
            yield (
                patient_id,
                os.urandom(32).hex(),
                os.urandom(40),
                born,
                rng.choice(("female", "male")),
                "Testi",
                "Henkilö",
                municipality,
                rng.choice(("fi", "fi", "sv", "en")),
                "bench",
                now,
            )

    sent: list[tuple[uuid.UUID, uuid.UUID, str, datetime]] = []

    def referral_rows() -> Iterator[tuple[object, ...]]:
        for _ in range(referrals):
            patient_id, municipality, _born = rng.choice(people)
            referral_id = uuid.uuid4()
            created = datetime.combine(YEAR_START, datetime.min.time(), UTC) + timedelta(
                minutes=rng.randrange(700 * 24 * 60)
            )
            status = rng.choices(
                ("completed", "in_progress", "rejected", "cancelled", "sent"), (5, 3, 1, 1, 1)
            )[0]
            sent.append((referral_id, patient_id, municipality, created))
            yield (
                referral_id,
                patient_id,
                service_of[municipality],
                doctor.id,
                "doctor.laihia",
                "Lääkäri",
                "ts-laihia",
                rng.choice(("doctor", "nurse", "physiotherapist")),
                json.dumps([{"system": "icd10", "code": "E11.9"}]),
                "Syy",
                "Tavoite",
                None,
                None,
                "routine",
                1,
                "fi",
                "in_person",
                True,
                status,
                3,
                False,
                None,
                None,
                None,
                None,
                None,
                created,
                created,
                None,
            )

    def visit_rows() -> Iterator[tuple[object, ...]]:
        for number in range(visits):
            referral_id, patient_id, municipality, created = sent[number % len(sent)]
            visited = (created + timedelta(days=rng.randrange(5, 200))).date()
            days, per_day = rng.randrange(0, 8), rng.randrange(0, 90)
            yield (
                uuid.uuid4(),
                referral_id,
                patient_id,
                service_of[municipality],
                None,
                "counsellor1.laihia",
                "Neuvoja",
                "counsellor",
                visited,
                rng.choice(("in_person", "phone", "video", "group")),
                45,
                days,
                per_day,
                days * per_day,
                rng.randrange(0, 4),
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                False,
                now,
            )

    with psycopg.connect(plain(url)) as connection:
        copy_rows(
            connection,
            "patients",
            [
                "id",
                "hetu_hash",
                "hetu_ciphertext",
                "birth_date",
                "sex",
                "given_name",
                "family_name",
                "home_municipality_code",
                "language",
                "created_by",
                "created_at",
            ],
            patient_rows(),
        )
        copy_rows(
            connection,
            "referrals",
            [
                "id",
                "patient_id",
                "service_id",
                "referrer_id",
                "referrer_subject",
                "referrer_name",
                "referrer_organisation",
                "referrer_profession",
                "reason_codes",
                "reason_text",
                "goal",
                "exercise_restrictions",
                "risk_factors",
                "urgency",
                "priority",
                "preferred_language",
                "contact_mode",
                "consent_to_counselling",
                "status",
                "version",
                "booking_by_service",
                "expected_contact_by",
                "cancelled_by",
                "status_reason_code",
                "status_reason_text",
                "outcome_summary",
                "updated_at",
                "created_at",
                "source_identifier",
            ],
            referral_rows(),
        )
        copy_rows(
            connection,
            "visits",
            [
                "id",
                "referral_id",
                "patient_id",
                "service_id",
                "appointment_id",
                "counsellor_subject",
                "counsellor_name",
                "counsellor_profession",
                "visited_on",
                "contact_type",
                "duration_minutes",
                "mvpa_days_per_week",
                "mvpa_minutes_per_day",
                "minutes_per_week",
                "strength_days_per_week",
                "sitting_hours_per_day",
                "stage_of_change",
                "barriers",
                "resources",
                "weight_kg",
                "waist_cm",
                "systolic_mmhg",
                "diastolic_mmhg",
                "fitness_test",
                "note",
                "correction_reason",
                "corrected",
                "created_at",
            ],
            visit_rows(),
        )
        connection.execute("ANALYZE")


def timed(name: str, query: Callable[[], object]) -> None:
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        query()
        runs.append(time.perf_counter() - start)
    print(f"| {name} | {min(runs) * 1000:.0f} ms | {statistics.median(runs) * 1000:.0f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url")
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--referrals", type=int, default=500_000)
    parser.add_argument("--visits", type=int, default=2_000_000)
    args = parser.parse_args()
    db.upgrade(args.url)
    database = db.Database.from_url(args.url)
    with database.write_sessions() as session, session.begin():
        seed(session)
    with database.write_sessions() as session:
        filled = session.scalar(select(func.count()).select_from(Visit)) or 0
    if filled < args.visits:
        started = time.perf_counter()
        fill(args.url, args.patients, args.referrals, args.visits)
        print(f"filled in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    with database.write_sessions() as session, session.begin():
        facts.rebuild(session)
    print(f"facts built in {time.perf_counter() - started:.0f} s")
    with psycopg.connect(plain(args.url), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE visit_facts, referral_facts")
    periods = {
        "a year": (YEAR_START, YEAR_START.replace(month=12, day=31)),
        "two years": (YEAR_START, YEAR_START + timedelta(days=729)),
    }
    with database.write_sessions() as session:
        statistician = principal_for(session, "statistician.region")
        print("| query | period | best | median |\n| --- | --- | --- | --- |")
        for period, (first, last) in periods.items():
            for groups in (
                ["month"],
                ["municipality", "age_band"],
                ["service", "contact_type", "sex"],
            ):
                timed(
                    f"visits by {', '.join(groups)} | {period}",
                    lambda g=groups, f=first, t=last: service.visits(
                        session, statistician, g, f, t
                    ),
                )  # type: ignore[misc]
            for groups in ([], ["quarter"], ["municipality", "referrer_profession"]):
                timed(
                    f"referrals by {', '.join(groups) or 'nothing'} | {period}",
                    lambda g=groups, f=first, t=last: service.referrals(
                        session, statistician, g, f, t
                    ),
                )  # type: ignore[misc]
        session.rollback()
    database.dispose()


if __name__ == "__main__":
    main()
