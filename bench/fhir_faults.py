"""FHIR sync under faults (not a test): an outage of the region's server and workers killed.

Starts the Medplum peer behind a small TCP proxy of our own that can refuse every connection
(the peer "down"), fills a fresh PostgreSQL database with REFERRALS sent referrals, and runs
WORKERS `askel worker` processes. The peer goes down for OUTAGE seconds while a worker is killed
with SIGKILL every KILL_EVERY seconds (and started again), until KILLS kills. Then the peer
comes back and the run waits for the outbox to drain. It reports events lost (never
published), resources twice at the peer (the same business identifier), and how long the
outbox took to drain after the peer came back.

Usage:
    python bench/fhir_faults.py postgresql+psycopg://postgres@127.0.0.1:5432/askel_faults \
        [--referrals 500] [--workers 3] [--outage 60] [--kills 15] [--kill-every 4]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import suppress
from pathlib import Path

import httpx2 as httpx
from fhir_sync import peer, send_referrals
from sqlalchemy import func, select

from app import db
from app.demo.region import seed
from app.jobs.models import OutboxEvent


class FaultProxy:
    """Forwards 127.0.0.1:port to the peer; while `down`, every connection is closed at once."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.down = False
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            if self.down:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


def worker(url: str, base: str, scratch: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ASKEL_DATABASE_URL": url, "ASKEL_FHIR_BASE_URL": base,
           "ASKEL_NOTICE_FILE": str(scratch / "notices.jsonl"), "ASKEL_LOG_LEVEL": "ERROR",
           "ASKEL_DEV_ISSUER_KEY_FILE": str(scratch / "dev.jwk")}  # fmt: skip
    command = [
        sys.executable,
        "-c",
        "from app.cli import main; main()",
        "worker",
        "--poll-seconds",
        "0.1",
    ]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pending(database: db.Database) -> int:
    with database.read_sessions() as session:
        statement = select(func.count()).select_from(OutboxEvent)
        return session.scalar(statement.where(OutboxEvent.published_at.is_(None))) or 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url")
    parser.add_argument("--referrals", type=int, default=500)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--outage", type=float, default=60.0)
    parser.add_argument("--kills", type=int, default=15)
    parser.add_argument("--kill-every", type=float, default=4.0)
    args = parser.parse_args()
    db.upgrade(args.url)
    database = db.Database.from_url(args.url)
    with database.write_sessions() as session, session.begin():
        seed(session)
    with tempfile.TemporaryDirectory() as directory, peer() as origin:
        scratch = Path(directory)
        proxy = FaultProxy(int(origin.rsplit(":", 1)[1]))
        base = f"http://127.0.0.1:{proxy.port}/fhir/R4"
        send_referrals(database, args.referrals)
        events = pending(database)
        workers = [worker(args.url, base, scratch) for _ in range(args.workers)]
        time.sleep(2)  # some get through before the outage
        proxy.down = True
        began, kills = time.monotonic(), 0
        while time.monotonic() - began < args.outage or kills < args.kills:
            time.sleep(args.kill_every)
            if kills < args.kills:
                victim = random.randrange(len(workers))
                workers[victim].send_signal(signal.SIGKILL)
                workers[victim].wait()
                workers[victim] = worker(args.url, base, scratch)
                kills += 1
            if time.monotonic() - began >= args.outage:
                proxy.down = False
        proxy.down = False
        recovered = time.monotonic()
        print(
            f"outage {time.monotonic() - began:.0f} s, {kills} workers killed; {pending(database)} of {events} events waiting"
        )
        while pending(database) and time.monotonic() - recovered < 600:
            time.sleep(0.5)
        drained = time.monotonic() - recovered
        for process in workers:
            process.send_signal(signal.SIGTERM)
            process.wait()
        with httpx.Client(timeout=30.0) as http:
            identifiers: Counter[str] = Counter()
            for kind in ("ServiceRequest", "Task"):
                bundle = http.get(f"{origin}/fhir/R4/{kind}?_count=5000").json()
                for entry in bundle.get("entry", []):
                    for identifier in entry["resource"].get("identifier", []):
                        identifiers[f"{kind}|{identifier['value']}"] += 1
        twice = sum(1 for count in identifiers.values() if count > 1)
        lost = pending(database)
        print(
            f"lost {lost}, twice at the peer {twice}, drained {drained:.0f} s after the peer came back "
            f"({sum(identifiers.values())} requests and tasks for {args.referrals} referrals)"
        )
    database.dispose()


if __name__ == "__main__":
    main()
