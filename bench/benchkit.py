"""What the benchmarks that drive Askel over HTTP share (not a benchmark): `askel serve`
processes (and an `askel worker`) on a database, optionally behind a network delay; the
server's durability for the run; sessions waiting on locks; the machine's description.

The scripts import it as a sibling (`python bench/x.py` puts `bench/` first on the path); the
tests' fixtures, which run with the project root on the path, take their free ports from here.
"""

from __future__ import annotations

import os
import platform
import queue
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from datetime import date, timedelta
from pathlib import Path

import httpx2 as httpx
import psycopg
from sqlalchemy.engine import make_url

from app.demo.national import copy_rows, libpq

ASKEL = str(Path(sys.executable).parent / "askel")
BENCH = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# -- Network delay ---------------------------------------------------------------------------


class DelayProxy:
    """Forwards 127.0.0.1:port to `target`; every chunk read on either side is written on the
    other `delay` seconds after it was read, as a link with that latency each way would
    deliver it (chunks in flight overlap: the delay is not added once per chunk in a row). A
    round trip through it costs two delays more. Each direction of each connection has a
    reader thread and a writer thread, so a slow peer on one connection holds up no other."""

    def __init__(self, target: tuple[str, int], delay: float) -> None:
        self.target, self.delay = target, delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]

    def run(self) -> None:
        print(self.port, flush=True)  # the parent waits for this line
        while True:
            client, _ = self.listener.accept()
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            for end in (client, upstream):
                end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            ends = _Ends(client, upstream)
            self._direction(client, upstream, ends)
            self._direction(upstream, client, ends)

    def _direction(self, source: socket.socket, sink: socket.socket, ends: _Ends) -> None:
        chunks: queue.SimpleQueue[tuple[float, bytes]] = queue.SimpleQueue()

        def read() -> None:
            with suppress(OSError):
                while data := source.recv(65536):
                    chunks.put((time.perf_counter() + self.delay, data))
            chunks.put((0.0, b""))

        def write() -> None:
            with suppress(OSError):
                while (chunk := chunks.get())[1]:
                    due, data = chunk
                    if (wait := due - time.perf_counter()) > 0:
                        time.sleep(wait)
                    sink.sendall(data)
            with suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
            ends.one_direction_done()

        threading.Thread(target=read, daemon=True).start()
        threading.Thread(target=write, daemon=True).start()


class _Ends:
    """A proxied connection's two sockets, closed once both directions have ended."""

    def __init__(self, *sockets: socket.socket) -> None:
        self.sockets, self.open_directions = sockets, 2
        self.lock = threading.Lock()

    def one_direction_done(self) -> None:
        with self.lock:
            self.open_directions -= 1
            if self.open_directions:
                return
        for end in self.sockets:
            with suppress(OSError):  # wakes a reader still waiting (after a failed write)
                end.shutdown(socket.SHUT_RDWR)
            end.close()


@contextmanager
def delayed(url: str, delay_ms: float) -> Iterator[str]:
    """`url`, or with `delay_ms` the same database through a `DelayProxy` adding that many
    milliseconds each way. The proxy runs in a process of its own: in the benchmark's, its
    threads would wait for the interpreter behind the load generator's."""
    if delay_ms <= 0:
        yield url
        return
    parsed = make_url(url)
    if not parsed.host:
        raise SystemExit("a network delay needs a database reached over TCP (host and port)")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import benchkit; "
            "benchkit.DelayProxy((sys.argv[2], int(sys.argv[3])), float(sys.argv[4]) / 1000).run()")  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(BENCH), parsed.host, str(parsed.port or 5432), str(delay_ms)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        if not port.isdigit():
            raise SystemExit("the network delay proxy did not start")
        yield parsed.set(host="127.0.0.1", port=int(port)).render_as_string(hide_password=False)
    finally:
        process.terminate()
        process.wait(10)


# -- Askel's processes ---------------------------------------------------------------------


@contextmanager
def serving(
    url: str, count: int, directory: Path, *, delay_ms: float = 0.0, worker: bool = False
) -> Iterator[list[str]]:
    """`count` `askel serve` processes on the migrated database at `url`, run in `directory`
    and sharing its development key, each ready; their base URLs. Rate limits are off: one
    demo user stands for many here. With `delay_ms`, they (and the worker) reach the database
    through a `DelayProxy`; with `worker`, one `askel worker` runs beside them, as in
    production: on PostgreSQL only the worker seals the audit log (its stderr goes to
    `directory / "worker.log"`)."""
    with ExitStack() as stack:
        reached = stack.enter_context(delayed(url, delay_ms))
        env = {**os.environ, "ASKEL_DATABASE_URL": reached, "ASKEL_SEED_DEMO_DATA": "false",
               "ASKEL_MIGRATE_ON_START": "false", "ASKEL_LOG_LEVEL": "WARNING",
               "ASKEL_RATE_LIMITS_ENABLED": "false",
               "ASKEL_DEV_ISSUER_KEY_FILE": str(directory / "dev-issuer.jwk"),
               "ASKEL_DEV_ISSUER_URL": "http://askel-bench/dev"}  # fmt: skip
        background = None
        if worker:
            log = stack.enter_context((directory / "worker.log").open("wb"))
            background = subprocess.Popen(
                [ASKEL, "worker", "--poll-seconds", "0.5"],
                env=env, cwd=directory, stdout=subprocess.DEVNULL, stderr=log,
            )  # fmt: skip
            stack.callback(background.wait, 30)
            stack.callback(background.terminate)
        bases = []
        for _ in range(count):
            port = free_port()
            process = subprocess.Popen(
                [ASKEL, "serve", "--port", str(port)],
                env=env, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            stack.callback(process.wait, 30)
            stack.callback(process.terminate)
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while not _ready(base):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"askel serve on {url} did not become ready")
                time.sleep(0.1)
            bases.append(base)
        if background is not None and background.poll() is not None:
            raise SystemExit(f"askel worker stopped: see {directory / 'worker.log'}")
        yield bases


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz").status_code == 200
    except httpx.TransportError:
        return False


# -- The server's durability -----------------------------------------------------------------

DURABILITY = ("fsync", "synchronous_commit", "full_page_writes")
# Held while a run has changed the server's settings: two runs on one server (the test suite's
# workers) take turns, so that neither restores what the other set. Taken in the server's
# `postgres` database (`settings_connection`), as an advisory lock is one database's own and
# the runs each fill a database of their own.
DURABILITY_LOCK = "SELECT pg_advisory_lock(hashtextextended('askel bench durability', 0))"


def settings_connection(url: str) -> psycopg.Connection:
    """A connection for the server's settings: to its `postgres` database, whichever database
    `url` names, so that every run on the server meets the same `DURABILITY_LOCK`."""
    return psycopg.connect(libpq(url), dbname="postgres", autocommit=True)


def settings_of(connection: psycopg.Connection) -> dict[str, str]:
    rows = connection.execute("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
                              [list(DURABILITY)]).fetchall()  # fmt: skip
    return dict(rows)


def described(settings: dict[str, str]) -> str:
    return ", ".join(f"{name} {settings[name]}" for name in DURABILITY)


@contextmanager
def durability(url: str, on: bool | None) -> Iterator[str]:
    """The server's `fsync`, `synchronous_commit` and `full_page_writes` all `on` or all `off`
    for the block (`ALTER SYSTEM` and a reload: needs a superuser), then as they were; None
    leaves them. Yields them as a phrase for the report ("fsync on, synchronous_commit on,
    full_page_writes on"). SIGTERM ends the block as Ctrl-C does; a run killed with SIGKILL
    leaves them changed: `ALTER SYSTEM RESET` each and `SELECT pg_reload_conf()` undo it."""
    with settings_connection(url) as connection:
        connection.execute(DURABILITY_LOCK)
        before = settings_of(connection)
        wanted = dict.fromkeys(DURABILITY, "on" if on else "off")
        if on is None or before == wanted:
            yield described(before)
            return
        if connection.execute("SHOW is_superuser").fetchone() != ("on",):
            raise SystemExit("setting the server's durability needs a superuser (ALTER SYSTEM)")
        # Set by an earlier ALTER SYSTEM: put that value back; else RESET, which falls back to
        # postgresql.conf or the default.
        from_auto_conf = {name for name, source in connection.execute(
            "SELECT name, sourcefile FROM pg_settings WHERE name = ANY(%s)", [list(DURABILITY)])
            if source and source.endswith("postgresql.auto.conf")}  # fmt: skip
        terminate = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        try:
            _apply(connection, wanted)
            yield described(settings_of(connection))
        finally:
            for name in DURABILITY:
                if name in from_auto_conf:
                    connection.execute(f"ALTER SYSTEM SET {name} = '{before[name]}'")
                else:
                    connection.execute(f"ALTER SYSTEM RESET {name}")
            _reloaded(connection, before)
            signal.signal(signal.SIGTERM, terminate)


def _exit_on_sigterm(*_: object) -> None:
    raise SystemExit("terminated")


def _apply(connection: psycopg.Connection, wanted: dict[str, str]) -> None:
    for name, value in wanted.items():
        connection.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    _reloaded(connection, wanted)


def _reloaded(connection: psycopg.Connection, expected: dict[str, str]) -> None:
    """Reload the configuration and wait until this session sees it (the postmaster signals
    the backends; each takes it at its next command)."""
    connection.execute("SELECT pg_reload_conf()")
    deadline = time.monotonic() + 10
    while (found := settings_of(connection)) != expected:
        if time.monotonic() > deadline:
            raise SystemExit(f"the server did not take the settings: {described(found)}")
        time.sleep(0.05)


# -- Sessions waiting on locks ----------------------------------------------------------------


class LockWaits:
    """Samples `pg_stat_activity` every `every` seconds from a connection of its own while the
    block runs: how many sessions on the database wait on an advisory lock, on any lock, and
    are active (running a statement or waiting), on average."""

    QUERY = """
        SELECT count(*) FILTER (WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'),
               count(*) FILTER (WHERE wait_event_type = 'Lock'),
               count(*) FILTER (WHERE state = 'active')
        FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
    """

    def __init__(self, url: str, every: float = 0.02) -> None:
        self.url, self.every = url, every
        self.samples = 0
        self.totals = [0, 0, 0]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> LockWaits:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        with psycopg.connect(libpq(self.url), autocommit=True) as connection:
            while not self._stop.wait(self.every):
                row = connection.execute(self.QUERY).fetchone()
                assert row is not None
                self.samples += 1
                self.totals = [total + count for total, count in zip(self.totals, row, strict=True)]

    def average(self, which: int) -> float:
        return self.totals[which] / self.samples if self.samples else 0.0

    @property
    def advisory(self) -> float:
        return self.average(0)

    @property
    def any_lock(self) -> float:
        return self.average(1)

    @property
    def active(self) -> float:
        return self.average(2)


# -- Data and description ------------------------------------------------------------------


def add_referrals(
    url: str, service_ids: list[str], count: int, status: str = "accepted"
) -> list[tuple[str, str]]:
    """(referral id, service id) pairs of `count` referrals in `status`, sent by the demo
    doctor, each of a patient of its own (written with COPY)."""
    with psycopg.connect(libpq(url)) as connection:
        patients = [uuid.uuid4() for _ in range(count)]
        copy_rows(connection, "patients",
                  ["id", "hetu_hash", "hetu_ciphertext", "birth_date", "sex", "given_name", "family_name",
                   "home_municipality_code", "language", "created_by", "created_at"],
                  ((pid, pid.hex + pid.hex, pid.bytes, date(1960, 1, 1) + timedelta(days=i % 15000), "female",
                    "Aino", "Testinen", "399", "fi", "bench", "now()") for i, pid in enumerate(patients)))  # fmt: skip
        doctor = connection.execute(
            "SELECT id FROM users WHERE username = 'doctor.laihia'"
        ).fetchone()[0]  # type: ignore[index]
        rows = [(uuid.uuid4(), random.choice(service_ids), patient) for patient in patients]
        copy_rows(connection, "referrals",
                  ["id", "patient_id", "service_id", "referrer_id", "referrer_subject", "referrer_organisation", "reason_codes",
                   "reason_text", "goal", "urgency", "priority", "preferred_language", "contact_mode",
                   "consent_to_counselling", "status", "version", "booking_by_service", "created_at", "updated_at"],
                  ((rid, patient, sid, doctor, "doctor.laihia", "ts-laihia", '[{"system":"icd10","code":"E11.9"}]', "x", "x",
                    "routine", 1, "fi", "in_person", True, status, 1, False, "now()", "now()")
                   for rid, sid, patient in rows))  # fmt: skip
        connection.commit()
    return [(str(rid), sid) for rid, sid, _patient in rows]


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())  # fmt: skip
    return f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB, {platform.platform()}"


def round_trip_ms(url: str, count: int = 200) -> float:
    """The median time of `SELECT 1` on one connection: a round trip to the database."""
    with psycopg.connect(libpq(url), autocommit=True) as connection:
        times = []
        for _ in range(count):
            started = time.perf_counter()
            connection.execute("SELECT 1").fetchone()
            times.append(time.perf_counter() - started)
    return statistics.median(times[count // 10 :]) * 1000


def network(url: str, delay_ms: float) -> str:
    """The way to the database as a phrase for a report, with round trips measured now."""
    direct = round_trip_ms(url)
    if delay_ms <= 0:
        return f"a round trip to the database measured {direct:.2f} ms"
    with delayed(url, delay_ms) as through:
        via = round_trip_ms(through)
    return (f"{delay_ms:g} ms each way between the API's processes and the database (a round "
            f"trip measured {via:.2f} ms through the delay, {direct:.2f} ms direct)")  # fmt: skip


def server_version(url: str) -> str:
    with psycopg.connect(libpq(url)) as connection:
        version: str = connection.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        return version.split()[0]
