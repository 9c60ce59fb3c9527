"""FHIR sync benchmark (not a test): how fast Askel publishes to the region's server.

Starts the Medplum peer from `tests/peers/medplum/` on loopback and a fresh Askel database
(PostgreSQL URL of an empty database you may fill), then measures in one run:

- sync throughput: REFERRALS referrals (sent and accepted, so Patient, ServiceRequest, Task and
  Provenance each) published by WORKERS `askel worker` loops: resources per second;
- the yardstick: the same resources posted to an emptied peer by a plain HTTP client with the
  same concurrency, one POST each, no database and no audit: once plain, once as conditional
  creates on the same identifiers Askel uses;
- lag under steady load: referrals sent at RATE per second for SECONDS while the workers run;
  commit to published (the outbox row's `created_at` to `published_at`), p50 / p95 / max.

Usage:
    python bench/fhir_sync.py postgresql+psycopg://postgres@127.0.0.1:5432/askel_bench \
        [--referrals 300] [--workers 4] [--rate 5] [--seconds 20]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import func, select

from app import db
from app.access.service import local_principal
from app.demo.region import seed
from app.fhir_sync import publisher
from app.fhir_sync.client import FhirClient, NoToken
from app.fhir_sync.models import FhirLink
from app.fhir_sync.repository import records
from app.fhir_sync.resources import referral_set
from app.flows import referral_transitions
from app.jobs.models import OutboxEvent
from app.jobs.worker import run_once
from app.patients.models import Patient
from app.referrals import service as referrals
from app.referrals.schemas import DiagnosisCode, ReferralCreate
from app.referrals.states import Action

MEDPLUM = Path(__file__).resolve().parent.parent / "tests" / "peers" / "medplum"


@contextmanager
def peer() -> Iterator[str]:
    if not (MEDPLUM / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=MEDPLUM, check=True)
    process = subprocess.Popen(
        ["node", "--experimental-websocket", "server.mjs", "0"],
        cwd=MEDPLUM, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    port = int(process.stdout.readline().split()[1])
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait()


def send_referrals(database: db.Database, count: int) -> list[str]:
    """Referrals sent and accepted, round the demo patients; their ids."""
    sent = []
    with database.write_sessions() as session, session.begin():
        patients = session.scalars(select(Patient)).all()
        doctor = local_principal(session, "doctor.laihia")
        counsellor = local_principal(session, "counsellor1.laihia")
        for number in range(count):
            patient = patients[number % len(patients)]
            body = ReferralCreate(
                patient_id=patient.id,
                reason_codes=[DiagnosisCode(system="icd10", code="E11.9")],
                reason_text="Tyypin 2 diabetes, liikunta vähäistä.",
                goal="150 minuuttia reipasta liikuntaa viikossa.",
                preferred_language=patient.language,
                consent_to_counselling=True,
            )
            referral = referrals.send(session, doctor, body)
            if referral.service_id == counsellor.service_id:
                referral_transitions.take(session, counsellor, referral.id, Action.accept, 1)
            sent.append(str(referral.id))
    return sent


def drain(
    database: db.Database, base: str, workers: int, stop: threading.Event | None = None
) -> None:
    def work() -> None:
        with httpx.Client(timeout=30.0) as http:
            handlers = {publisher.PREFIX: publisher.handler(FhirClient(base, http, NoToken()))}
            while True:
                handled = run_once(database, handlers, batch=10)
                if not handled and (stop is None or stop.is_set()):
                    return
                if not handled:
                    time.sleep(0.05)

    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(work) for _ in range(workers)]:
            future.result()


def _conditional(body: dict[str, object]) -> dict[str, str]:
    identifiers = body.get("identifier") or []
    if not isinstance(identifiers, list) or not identifiers:
        return {}
    return {"If-None-Exist": f"identifier={identifiers[0]['system']}|{identifiers[0]['value']}"}


def direct_post(
    database: db.Database, origin: str, ids: list[str], workers: int, conditional: bool
) -> tuple[int, float]:
    """The same resources, each POSTed once by a plain client (with Askel's If-None-Exist, or
    without); (count, seconds). The peer is emptied first."""
    bodies = []
    with database.read_sessions() as session:
        for referral_id in ids:
            found = records(session, uuid.UUID(referral_id))
            assert found is not None
            # References as the peer would not resolve them: the yardstick only writes.
            bodies += [
                o.body
                for o in referral_set(found, lambda kind, key: {"reference": f"{kind}/{key}"})
            ]
    with httpx.Client(timeout=30.0) as http, ThreadPoolExecutor(workers) as pool:
        http.post(f"{origin}/__admin/reset").raise_for_status()
        start = time.perf_counter()

        def post(body: dict[str, object]) -> None:
            headers = _conditional(body) if conditional else {}
            http.post(
                f"{origin}/fhir/R4/{body['resourceType']}", json=body, headers=headers
            ).raise_for_status()

        list(pool.map(post, bodies))
        return len(bodies), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url")
    parser.add_argument("--referrals", type=int, default=300)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    db.upgrade(args.url)
    database = db.Database.from_url(args.url)
    with database.write_sessions() as session, session.begin():
        seed(session)
    with peer() as origin:
        base = f"{origin}/fhir/R4"
        ids = send_referrals(database, args.referrals)
        start = time.perf_counter()
        drain(database, base, args.workers)
        sync_seconds = time.perf_counter() - start
        with database.read_sessions() as session:
            written = session.scalar(select(func.count()).select_from(FhirLink)) or 0
        print(
            f"sync: {written} resources in {sync_seconds:.1f} s = {written / sync_seconds:.0f}/s ({args.workers} workers)"
        )
        for conditional in (False, True):
            count, seconds = direct_post(database, origin, ids, args.workers, conditional)
            kind = "conditional creates" if conditional else "plain POSTs"
            print(f"direct {kind}: {count} resources in {seconds:.1f} s = {count / seconds:.0f}/s")
        with httpx.Client() as http:
            http.post(f"{origin}/__admin/reset").raise_for_status()

        stop = threading.Event()
        worker = threading.Thread(target=drain, args=(database, base, args.workers, stop))
        worker.start()
        begun = time.perf_counter()
        sent = 0
        while time.perf_counter() - begun < args.seconds:
            send_referrals(database, 1)
            sent += 1
            time.sleep(max(0.0, sent / args.rate - (time.perf_counter() - begun)))
        time.sleep(2)
        stop.set()
        worker.join()
        with database.read_sessions() as session:
            rows = session.execute(
                select(OutboxEvent.created_at, OutboxEvent.published_at)
                .where(OutboxEvent.published_at.is_not(None), OutboxEvent.id > 0)
                .order_by(OutboxEvent.id.desc())
                .limit(sent * 2)
            ).all()
        lags = sorted((published - created).total_seconds() for created, published in rows)
        print(
            f"lag at {args.rate}/s for {args.seconds:.0f} s: p50 {statistics.median(lags) * 1000:.0f} ms, "
            f"p95 {lags[int(len(lags) * 0.95) - 1] * 1000:.0f} ms, max {lags[-1] * 1000:.0f} ms ({len(lags)} events)"
        )
    database.dispose()


if __name__ == "__main__":
    main()
