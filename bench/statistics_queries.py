"""Statistics benchmark (not a test): every statistics query on a national-size dataset.

Fills an empty PostgreSQL database with PATIENTS patients, REFERRALS referrals and VISITS
visits spread over the demo region's three municipalities and two years (written with COPY),
builds the statistics facts from them (timed: what `askel stats rebuild` does after a bulk load),
then times each statistics query as the region's statistician asks it, for a month, a quarter and
the year (the longest period a statistician may ask), in-process (the SQL, the perturbation of
every cell, the listing of the empty ones and the audit record, not HTTP): five runs each, best
and median. A database that
already holds the visits is not filled again.

Usage:
    python bench/statistics_queries.py postgresql+psycopg://postgres@127.0.0.1:5432/askel_stats \
        [--patients 100000] [--referrals 500000] [--visits 2000000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date

import psycopg
from sqlalchemy import func, select

from app import db
from app.access.service import local_principal
from app.counselling.models import Visit
from app.demo.national import add_history, libpq
from app.demo.region import seed
from app.statistics import facts, service

YEAR_START = date(2025, 1, 1)


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
        add_history(args.url, args.patients, args.referrals, args.visits)
        print(f"filled in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    with database.write_sessions() as session, session.begin():
        facts.rebuild(session)
    print(f"facts built in {time.perf_counter() - started:.0f} s")
    with psycopg.connect(libpq(args.url), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE visit_facts, referral_facts")
    periods = {
        "a month": (YEAR_START, YEAR_START.replace(day=31)),
        "a quarter": (YEAR_START, YEAR_START.replace(month=3, day=31)),
        "a year": (YEAR_START, YEAR_START.replace(month=12, day=31)),
    }
    with database.write_sessions() as session:
        statistician = local_principal(session, "statistician.region")
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
