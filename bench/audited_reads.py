"""Audited reads benchmark (not a test): counsellors opening referrals, with production
durability and a network between the API and the database.

Every opening of a referral (`GET /api/v1/referrals/{id}`) is an audited read: its transaction
writes an audit entry and commits, so with `synchronous_commit` on each one waits for its WAL
flush. This measures what that costs, and whether any lock serialises the openings.

Fills the database with the demo region (if it is not there yet), COUNSELLORS counsellors of
Laihia's service (its two demo counsellors and more, each with an attested grant) and REFERRALS
referrals in counselling there (topped up to that many). Then, with the server's durability
set as DURABILITY says (`fsync`, `synchronous_commit` and `full_page_writes` all on or all off,
as they were afterwards) and every connection of the API's processes to the database through a
proxy adding DELAY_MS each way (`benchkit.DelayProxy`: ~2 x DELAY_MS more per round trip), for
each number of serve processes in PROCESSES (with one `askel worker` beside them, which seals
the audit log as in production) and each number of clients in CLIENTS:

- for DURATION seconds, the clients open random referrals with the real tokens of random
  counsellors: throughput, p50, p95, errors (any answer but 200);
- meanwhile, sampling `pg_stat_activity` every 20 ms from a connection of its own (direct, not
  delayed): the sessions waiting on an advisory lock (`wait_event_type = 'Lock'` and
  `wait_event = 'advisory'`), on any lock, and active, on average;
- then for DURATION seconds the same clients ask `GET /healthz` of the same processes, which
  touches no database: the yardstick of what the processes and the load generator (threads of
  this process, on the same machine) can do at all.

It prints a Markdown table for BENCHMARKS.md, with the machine, the server's settings and the
measured round trip to the database (direct and through the proxy), and how long after the
last read the worker had sealed every audit entry; it writes the same to OUT/last-run.md. It fails if a
combination opened nothing.

Usage (PostgreSQL URL of a database you may fill, as a superuser for --durability):
    python bench/audited_reads.py postgresql+psycopg://postgres@127.0.0.1:5432/askel_audited \
        [--duration 30] [--clients 1,4,16,64] [--processes 1,2] [--referrals 10000] \
        [--counsellors 8] [--durability on] [--delay-ms 1] [--out build/audited_reads]
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import httpx2 as httpx
from benchkit import (
    LockWaits,
    add_referrals,
    durability,
    machine,
    network,
    server_version,
    serving,
)
from sqlalchemy import func, select

from app import db
from app.access.audit import repository as audit_repository
from app.access.grants.models import AccessGrant
from app.access.models import User
from app.demo.region import seed
from app.kit.clock import today_in_helsinki, utcnow
from app.organisations.models import CounsellingService
from app.referrals.models import Referral

ROOT = Path(__file__).resolve().parent.parent
SERVICE = "ln-laihia"
Sample = tuple[float, int]  # seconds, status (0: no answer)


def prepare(url: str, counsellors: int, referrals: int) -> tuple[list[str], list[str]]:
    """The demo region, the service's counsellors and referrals in counselling: their usernames
    and the referrals' ids."""
    db.upgrade(url)
    database = db.Database.from_url(url)
    try:
        with database.write_sessions() as session, session.begin():
            seed(session)
            service = session.scalars(
                select(CounsellingService).where(CounsellingService.code == SERVICE)
            ).one()
            names = list(session.scalars(select(User.username).where(
                User.service_id == service.id, User.active).order_by(User.username)))  # fmt: skip
            model = session.scalars(select(User).where(User.username == names[0])).one()
            today = today_in_helsinki()
            for number in range(len(names), counsellors):
                user = User(username=f"bench.reader{number}", display_name=f"Neuvoja {number}",
                            organisation_id=model.organisation_id, roles=["counsellor"],
                            profession="counsellor", service_id=service.id)  # fmt: skip
                session.add(user)
                session.flush()
                session.add(AccessGrant(
                    user_id=user.id, service_id=service.id, valid_from=today - timedelta(days=365),
                    valid_until=today + timedelta(days=365), granted_by="admin.region",
                    attested_by="admin.laihia", attested_at=utcnow()))  # fmt: skip
                names.append(user.username)
            in_counselling = select(Referral.id).where(
                Referral.service_id == service.id, Referral.status == "in_progress"
            )
            have = session.scalar(select(func.count()).select_from(in_counselling.subquery()))
            service_id = str(service.id)
        if (missing := referrals - (have or 0)) > 0:
            add_referrals(url, [service_id], missing, status="in_progress")
        with database.read_sessions() as session:
            ids = [str(i) for i in session.scalars(in_counselling.limit(referrals))]
    finally:
        database.dispose()
    return names[:counsellors], ids


def opener(
    base: str, counsellors: list[str], referrals: list[str]
) -> Callable[[httpx.Client], int]:
    """A request opening a random referral as a random counsellor (real tokens)."""
    with httpx.Client(base_url=base) as client:
        tokens = [client.post("/dev/token", json={"username": name}).json()["access_token"]
                  for name in counsellors]  # fmt: skip

    def open_referral(client: httpx.Client) -> int:
        headers = {"Authorization": f"Bearer {random.choice(tokens)}"}
        return client.get(
            f"/api/v1/referrals/{random.choice(referrals)}", headers=headers
        ).status_code

    return open_referral


def drive(
    bases: list[str], clients: int, duration: float, request: Callable[[httpx.Client], int]
) -> list[Sample]:
    """`clients` threads, spread over the processes, each sending `request` one after the
    other for `duration` seconds; every request's time and status."""
    samples: list[Sample] = []
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def client_loop(base: str) -> None:
        mine: list[Sample] = []
        with httpx.Client(base_url=base, timeout=60) as client:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    status = request(client)
                except httpx.TransportError:
                    status = 0
                mine.append((time.perf_counter() - started, status))
        with lock:
            samples.extend(mine)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client_loop, [bases[i % len(bases)] for i in range(clients)]))
    return samples


def latency(samples: list[Sample], share: int) -> str:
    ms = [t * 1000 for t, _ in samples]
    if not ms:
        return "-"
    if len(ms) == 1:
        return f"{ms[0]:.0f} ms"
    return f"{statistics.quantiles(ms, n=100)[share - 1]:.0f} ms"


def row(processes: int, clients: int, duration: float, reads: list[Sample],
        waits: LockWaits, health: list[Sample]) -> str:  # fmt: skip
    errors = sum(1 for _, status in reads if status != 200)
    return (f"| {processes} | {clients} | {len(reads):,} | {len(reads) / duration:,.1f}/s | "
            f"{latency(reads, 50)} | {latency(reads, 95)} | {errors} | {waits.advisory:.2f} | "
            f"{waits.any_lock:.2f} | {waits.active:.1f} | {len(health) / duration:,.0f}/s | "
            f"{latency(health, 50)} |")  # fmt: skip


def sealed_after(database: db.Database, limit: float = 60) -> str:
    """How long after the last read the worker had sealed every entry (it seals every second,
    those of transactions older than every one still running)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        with database.read_sessions() as session:
            if audit_repository.unsealed(session)[0] == 0:
                return f"{time.monotonic() - started:.1f} s"
        time.sleep(0.1)
    return f"not within {limit:.0f} s"


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url")
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--clients", type=numbers, default=[1, 4, 16, 64])
    parser.add_argument("--processes", type=numbers, default=[1, 2])
    parser.add_argument("--referrals", type=int, default=10_000)
    parser.add_argument("--counsellors", type=int, default=8)
    parser.add_argument("--durability", choices=["on", "off"], default="on")
    parser.add_argument("--delay-ms", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "audited_reads")
    args = parser.parse_args()
    counsellors, referrals = prepare(args.url, args.counsellors, args.referrals)
    args.out.mkdir(parents=True, exist_ok=True)
    database = db.Database.from_url(args.url)
    with database.read_sessions() as session:
        entries_before = audit_repository.count(session)
    way = network(args.url, args.delay_ms)
    rows, empty, sealing = [], [], []
    with durability(args.url, args.durability == "on") as settings:
        for processes in args.processes:
            with serving(
                args.url, processes, args.out, delay_ms=args.delay_ms, worker=True
            ) as bases:
                open_referral = opener(bases[0], counsellors, referrals)
                drive(bases, len(bases), min(args.duration, 2.0), open_referral)  # warm-up
                for clients in args.clients:
                    with LockWaits(args.url) as waits:
                        reads = drive(bases, clients, args.duration, open_referral)
                    health = drive(
                        bases, clients, args.duration, lambda c: c.get("/healthz").status_code
                    )
                    rows.append(row(processes, clients, args.duration, reads, waits, health))
                    print(rows[-1], flush=True)
                    if not any(status == 200 for _, status in reads):
                        empty.append(f"{processes} processes, {clients} clients")
                sealing.append(f"{sealed_after(database)} ({processes} serve processes)")
    with database.read_sessions() as session:
        written = audit_repository.count(session) - entries_before
    database.dispose()
    text = "\n".join([
        f"{date.today()}: opening a referral (an audited read), {args.duration:.0f} s per row, "
        f"{len(counsellors)} counsellors' tokens, {len(referrals):,} referrals; PostgreSQL "
        f"{server_version(args.url)} ({settings}); {way}; one `askel worker` beside the API "
        f"processes (`askel serve`); the load generator on the same machine: {machine()}.",
        "",
        "| serve processes | clients | opened | throughput | p50 | p95 | errors "
        "| waiting on an advisory lock | waiting on any lock | active sessions "
        "| /healthz | /healthz p50 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        f"Audit entries written: {written:,}; the worker had sealed every one, after the last "
        f"read, within {', '.join(sealing)}.",
    ])  # fmt: skip
    print(text)
    (args.out / "last-run.md").write_text(text + "\n")
    if empty:
        raise SystemExit(f"no referral was opened with {'; '.join(empty)}")


if __name__ == "__main__":
    main()
