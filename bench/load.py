"""Load benchmark (not a test): a day's mix of work against the national dataset on PostgreSQL.

Fills the database with the national dataset of `askel demo-data --scale national` (if it is
not there yet; SIZE scales it, 1 being the national size), adds WAITING referrals waiting for a
first visit in the benchmark's services, starts PROCESSES `askel serve` processes on it, and for
DURATION seconds lets CLIENTS concurrent clients with real tokens of several users do what the
service's users do, in these proportions:

- clinicians search free slots (35), book one for a waiting referral (15), open their worklist (12);
- counsellors open a referral (12) and record a visit on one in counselling (17);
- statisticians ask for a year's visit counts by month (2) and the service-chain funnel (2): few
  people ask these, but each reads two million visits or half a million referrals;
- and `GET /healthz` of the same processes (5) is the yardstick.

One `askel worker` runs beside the serve processes, as in production (on PostgreSQL it alone
seals the audit log). With DURABILITY, the server's `fsync`, `synchronous_commit` and
`full_page_writes` are all on or all off for the run (as they were afterwards; without it, as
they are); with DELAY_MS, the API's processes and the worker reach the database through a
proxy adding that many milliseconds each way (`benchkit.DelayProxy`).

It prints throughput and p50 / p95 / p99 per operation with a description of the machine and
the server's settings, and the sessions waiting on locks (`pg_stat_activity` sampled every 20
ms), for BENCHMARKS.md, and writes the same to OUT/last-run.md. Rate limits are off: one demo
user stands for many here. The first run takes several minutes to fill the database;
--durability needs a superuser.

Usage (PostgreSQL URL of a database you may fill):
    python bench/load.py postgresql+psycopg://postgres@127.0.0.1:5432/askel_load \
        [--duration 60] [--clients 40] [--processes 2] [--size 1] [--waiting 20000] \
        [--durability on] [--delay-ms 1] [--out build/load]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import random
import statistics
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import httpx2 as httpx
import psycopg
from benchkit import LockWaits, durability, machine, network, server_version, serving

from app import db
from app.demo import national as demo_national
from app.demo.national import copy_rows, libpq

ROOT = Path(__file__).resolve().parent.parent
CLINICIANS = [f"{p}.{m}" for p in ("doctor", "nurse", "physiotherapist")
              for m in ("laihia", "isokyro", "kaskinen")]  # fmt: skip
COUNSELLORS = ["counsellor1.laihia", "counsellor2.laihia"]
STATISTICIANS = ["statistician.region", "statistician.laihia"]
MIX = {"search slots": 35, "book": 15, "worklist": 12, "open referral": 12,
       "record visit": 17, "visit counts": 2, "funnel": 2, "healthz": 5}  # fmt: skip


def scaled(size: float) -> demo_national.Scale:
    """The national dataset times `size` (at least one of each, and 16 weeks of slots)."""
    national = demo_national.Scale()
    counts = {
        field.name: max(1, round(getattr(national, field.name) * size))
        for field in dataclasses.fields(national)
        if field.name != "weeks"
    }
    return dataclasses.replace(national, **counts)


def prepare(
    url: str, size: float, waiting_count: int
) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """The national dataset, and what the clients work on: the benchmark's services, referrals
    waiting in them (id, service), and Laihia's referrals in counselling."""
    db.upgrade(url)
    started = time.perf_counter()
    if demo_national.generate(url, scaled(size)):
        print(f"dataset written in {time.perf_counter() - started:.0f} s", flush=True)
    with psycopg.connect(libpq(url)) as connection:
        services = [str(r[0]) for r in connection.execute(
            "SELECT id FROM counselling_services WHERE code LIKE 'bench-%' ORDER BY code")]  # fmt: skip
        doctor = connection.execute("SELECT id FROM users WHERE username = 'doctor.laihia'")
        doctor_id = doctor.fetchone()[0]  # type: ignore[index]
        waiting = [(uuid.uuid4(), uuid.uuid4(), random.choice(services))
                   for _ in range(waiting_count)]  # fmt: skip
        copy_rows(connection, "patients",
                  ["id", "hetu_hash", "hetu_ciphertext", "birth_date", "sex", "given_name",
                   "family_name", "home_municipality_code", "language", "created_by", "created_at"],
                  ((pid, os.urandom(32).hex(), os.urandom(40), date(1960, 1, 1), "female", "Aino",
                    "Testinen", "399", "fi", "load", "now()") for _rid, pid, _sid in waiting))  # fmt: skip
        copy_rows(connection, "referrals",
                  ["id", "patient_id", "service_id", "referrer_id", "referrer_subject",
                   "referrer_organisation", "reason_codes", "reason_text", "goal", "urgency",
                   "priority", "preferred_language", "contact_mode", "consent_to_counselling",
                   "status", "version", "booking_by_service", "created_at", "updated_at"],
                  ((rid, pid, sid, doctor_id, "doctor.laihia", "ts-laihia",
                    '[{"system":"icd10","code":"E11.9"}]', "x", "x", "routine", 1, "fi",
                    "in_person", True, "accepted", 1, False, "now()", "now()")
                   for rid, pid, sid in waiting))  # fmt: skip
        counselling = [str(r[0]) for r in connection.execute(
            "SELECT r.id FROM referrals r JOIN counselling_services s ON s.id = r.service_id "
            "WHERE s.code = 'ln-laihia' AND r.status = 'in_progress' LIMIT 20000")]  # fmt: skip
        connection.commit()
    return services, [(str(r), s) for r, _p, s in waiting], counselling


class Work:
    """The clients' shared state: tokens, what is left to book, where to record visits."""

    def __init__(self, base: str, services: list[str], waiting: list[tuple[str, str]],
                 counselling: list[str]) -> None:  # fmt: skip
        with httpx.Client(base_url=base) as client:
            self.tokens = {
                user: client.post("/dev/token", json={"username": user}).json()["access_token"]
                for user in CLINICIANS + COUNSELLORS + STATISTICIANS
            }
        self.services, self.counselling = services, counselling
        self.waiting = iter(waiting)
        self.lock = threading.Lock()
        self.free: dict[str, list[str]] = {}

    def auth(self, users: list[str]) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[random.choice(users)]}"}


Operation = Callable[[httpx.Client], int]


def search_slots(work: Work, client: httpx.Client, service: str | None = None) -> int:
    """A clinician looks for free slots of a service in the next two weeks."""
    service = service or random.choice(work.services)
    start = (date.today() + timedelta(days=1)).isoformat() + "T00:00:00+02:00"
    end = (date.today() + timedelta(days=15)).isoformat() + "T00:00:00+02:00"
    params = {"service_id": service, "start": start, "end": end, "limit": 50}
    answer = client.get("/api/v1/slots", params=params, headers=work.auth(CLINICIANS))
    if answer.status_code == 200:
        with work.lock:
            work.free[service] = [slot["id"] for slot in answer.json()["items"]]
    return answer.status_code


def operations(work: Work) -> dict[str, Operation]:
    def book(client: httpx.Client) -> int:
        with work.lock:
            referral_id, service = next(work.waiting)
            free = work.free.get(service) or []
        if not free:  # every slot seen taken: look again, then book
            search_slots(work, client, service)
            free = work.free.get(service) or []
        if not free:
            return 409
        body = {"slot_id": random.choice(free[:20]), "referral_id": referral_id}
        return client.post("/api/v1/appointments", json=body,
                           headers=work.auth(["doctor.laihia"])).status_code  # fmt: skip

    def record_visit(client: httpx.Client) -> int:
        referral = random.choice(work.counselling)
        body = {"visited_on": date.today().isoformat(), "contact_type": "phone",
                "duration_minutes": 30, "mvpa_days_per_week": 3, "mvpa_minutes_per_day": 30,
                "strength_days_per_week": 1}  # fmt: skip
        return client.post(f"/api/v1/referrals/{referral}/visits", json=body,
                           headers=work.auth(COUNSELLORS)).status_code  # fmt: skip

    def reader(path: Callable[[], str], users: list[str], **params: object) -> Operation:
        def read(client: httpx.Client) -> int:
            return client.get(path(), params=params, headers=work.auth(users)).status_code

        return read

    year = {"visited_from": "2025-01-01", "visited_to": "2025-12-31", "group_by": "month"}
    return {
        "search slots": lambda client: search_slots(work, client),
        "book": book,
        "worklist": reader(lambda: "/api/v1/referrals", CLINICIANS, limit=25),
        "open referral": reader(
            lambda: f"/api/v1/referrals/{random.choice(work.counselling)}", COUNSELLORS
        ),
        "record visit": record_visit,
        "visit counts": reader(lambda: "/api/v1/stats/visits", STATISTICIANS, **year),
        "funnel": reader(
            lambda: "/api/v1/stats/referrals",
            STATISTICIANS,
            sent_from="2025-01-01",
            sent_to="2025-12-31",
        ),
        "healthz": reader(lambda: "/healthz", STATISTICIANS),
    }


def run(
    bases: list[str], work: Work, clients: int, duration: float
) -> dict[str, list[tuple[float, int]]]:
    ops = operations(work)
    # What a clinician has on the screen before booking: each service's free slots, once.
    with httpx.Client(base_url=bases[0], timeout=60) as client:
        for service in work.services:
            search_slots(work, client, service)
    names = list(MIX)
    weights = [MIX[name] for name in names]
    results: dict[str, list[tuple[float, int]]] = defaultdict(list)
    deadline = time.monotonic() + duration
    spread = itertools.cycle(bases)

    def client_loop(base: str) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            while time.monotonic() < deadline:
                name = random.choices(names, weights)[0]
                started = time.perf_counter()
                status = ops[name](client)
                results[name].append((time.perf_counter() - started, status))

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(client_loop, [next(spread) for _ in range(clients)]))
    return results


def report(
    results: dict[str, list[tuple[float, int]]], duration: float, header: str, waits: LockWaits
) -> str:
    lines = [header, "", "| operation | requests | throughput | p50 | p95 | p99 | answers |",
             "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for name in MIX:
        samples = results.get(name, [])
        if len(samples) < 2:
            continue
        ms = statistics.quantiles([t * 1000 for t, _ in samples], n=100)
        statuses: dict[int, int] = defaultdict(int)
        for _, status in samples:
            statuses[status] += 1
        answers = ", ".join(f"{count} x {status}" for status, count in sorted(statuses.items()))
        lines.append(f"| {name} | {len(samples):,} | {len(samples) / duration:.1f}/s | "
                     f"{ms[49]:.0f} ms | {ms[94]:.0f} ms | {ms[98]:.0f} ms | {answers} |")  # fmt: skip
    total = sum(len(s) for s in results.values())
    lines += [
        "",
        f"All together: {total:,} requests in {duration:.0f} s, {total / duration:.1f}/s. "
        f"Sessions on the database waiting on an advisory lock: {waits.advisory:.2f} on average, "
        f"on any lock: {waits.any_lock:.2f}, active: {waits.active:.1f} ({waits.samples:,} "
        "samples of `pg_stat_activity`).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url")
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--size", type=float, default=1.0)
    parser.add_argument("--waiting", type=int, default=20_000)
    parser.add_argument("--durability", choices=["on", "off"])
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "load")
    args = parser.parse_args()
    services, waiting, counselling = prepare(args.url, args.size, args.waiting)
    args.out.mkdir(parents=True, exist_ok=True)
    on = None if args.durability is None else args.durability == "on"
    way = network(args.url, args.delay_ms)
    with (
        durability(args.url, on) as settings,
        serving(args.url, args.processes, args.out, delay_ms=args.delay_ms, worker=True) as bases,
    ):
        work = Work(bases[0], services, waiting, counselling)
        with LockWaits(args.url) as waits:
            results = run(bases, work, args.clients, args.duration)
    header = (f"{date.today()}: {args.clients} clients, {args.processes} API processes "
              f"(`askel serve`) and one `askel worker`, {args.duration:.0f} s, PostgreSQL "
              f"{server_version(args.url)} ({settings}), {way}; on the same machine: "
              f"{machine()}.")  # fmt: skip
    text = report(results, args.duration, header, waits)
    print(text)
    (args.out / "last-run.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
