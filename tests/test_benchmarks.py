"""Every benchmark in `bench/` runs as its usage line says, at a tiny size, so that none can rot:
`python bench/<script> URL [options]` from the project root with this environment's Python and
nothing on PYTHONPATH, as someone who installed Askel as the README says would run it.

The benchmarks write with PostgreSQL's COPY: they run when the suite runs on PostgreSQL, which
CI does, and are skipped on SQLite."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from app.demo.national import libpq
from bench.benchkit import (
    DURABILITY_LOCK,
    DelayProxy,
    durability,
    settings_connection,
    settings_of,
)
from tests.fixtures.databases import fresh_database_url, server_url

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"

# Each benchmark with documented options that make it tiny.
TINY = {
    "statistics_queries.py": "--patients 30 --referrals 60 --visits 200",
    "scheduling.py": "--counsellors 2 --clients 2 --searches 4 --bookings 4 --in-process 2 "
    "--durability on --delay-ms 1",
    "load.py": "--duration 1 --clients 2 --processes 1 --size 0.0005 --waiting 100 "
    "--durability off --delay-ms 1",
    "audited_reads.py": "--duration 1 --clients 1,2 --processes 2 --referrals 20 --counsellors 3 "
    "--durability on --delay-ms 1",
    "fhir_sync.py": "--referrals 2 --workers 1 --rate 2 --seconds 1",
    "fhir_faults.py": "--referrals 2 --workers 1 --outage 0.5 --kills 1 --kill-every 0.5",
}
# These start the Medplum peer (tests/peers/medplum) as a FHIR server.
WITH_THE_FHIR_PEER = {"fhir_sync.py", "fhir_faults.py"}
# What the tiny run must print besides: the server's settings it ran with, its own parts.
PRINTS = {
    "scheduling.py": ["fsync on, synchronous_commit on, full_page_writes on",
                      "a booking in-process, one at a time (2 booked"],
    "load.py": ["fsync off, synchronous_commit off, full_page_writes off", "1 ms each way"],
    "audited_reads.py": ["fsync on, synchronous_commit on, full_page_writes on", "1 ms each way",
                         "| 2 | 1 |", "| 2 | 2 |"],
}  # fmt: skip


def benchmarks() -> list[Path]:
    """The scripts of `bench/` (the rest there are modules they share)."""
    return sorted(p for p in BENCH.glob("*.py") if 'if __name__ == "__main__":' in p.read_text())


def usage(script: Path) -> str:
    """The usage lines of a script's docstring, joined: `python bench/<name> URL [--option N]…`."""
    text = script.read_text()
    match = re.search(r"^Usage[^\n]*:\n((?:    .*\n)+)", text, re.MULTILINE)
    assert match, f"{script.name} has no usage lines"
    return " ".join(match.group(1).replace("\\\n", " ").split())


def documented_options(script: Path) -> set[str]:
    return set(re.findall(r"\[(--[a-z-]+)", usage(script)))


def test_every_benchmark_is_run_here_and_its_usage_names_it() -> None:
    assert {p.name for p in benchmarks()} == set(TINY)
    for script in benchmarks():
        assert usage(script).startswith(f"python bench/{script.name} postgresql+psycopg://")
        options = {arg for arg in TINY[script.name].split() if arg.startswith("--")}
        assert options <= documented_options(script), script.name


def test_the_documented_benchmark_commands_name_real_scripts_and_options() -> None:
    commands = [
        command
        for doc in ("README.md", "BENCHMARKS.md")
        for command in re.findall(r"`(python bench/[^`]+)`", (ROOT / doc).read_text())
    ]
    assert commands
    for command in commands:
        script = BENCH / command.split()[1].removeprefix("bench/")
        assert script in benchmarks(), command
        assert set(re.findall(r"--[a-z-]+", command)) <= documented_options(script), command


@pytest.mark.slow
@pytest.mark.postgres_only
@pytest.mark.parametrize("name", sorted(TINY))
def test_a_benchmark_runs_as_documented(
    name: str, tmp_path: Path, worker_id_suffix: str, request: pytest.FixtureRequest
) -> None:
    options = TINY[name].split()
    if name in WITH_THE_FHIR_PEER:
        # Installed by the integration tests' fixture, under its lock (or skipped, or failed
        # where peers are required, as they are): the benchmark starts a peer of its own.
        request.getfixturevalue("medplum_peer")
    url = fresh_database_url(tmp_path, f"askel_bench_{Path(name).stem}_{worker_id_suffix}")
    before = server_durability()
    if name in {"load.py", "audited_reads.py"}:
        options = [*options, "--out", str(tmp_path / "out")]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ASKEL_") and key != "PYTHONPATH"
    }
    result = subprocess.run(
        [sys.executable, f"bench/{name}", url, *options],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip(), result.stderr
    for phrase in PRINTS.get(name, []):
        assert phrase in result.stdout, result.stdout
    assert server_durability() == before


def server_durability() -> dict[str, str]:
    """The test server's durability settings, read while no benchmark has them changed."""
    url = server_url()
    assert url is not None
    with settings_connection(url) as connection:
        connection.execute(DURABILITY_LOCK)
        return settings_of(connection)


@pytest.mark.postgres_only
def test_durability_holds_for_the_block_and_is_restored_after(database_url: str) -> None:
    before = server_durability()
    for on in (True, False):
        with durability(database_url, on) as settings:
            with psycopg.connect(libpq(database_url)) as connection:
                found = settings_of(connection)
            assert set(found.values()) == {"on" if on else "off"}
            assert all(f"{name} {value}" in settings for name, value in found.items())
        assert server_durability() == before


@pytest.mark.postgres_only
def test_runs_on_other_databases_of_the_server_take_turns(
    database_url: str, tmp_path: Path, worker_id_suffix: str
) -> None:
    """Each benchmark fills a database of its own: the second run waits for the first to put
    the server's settings back, instead of taking the first's as the ones to restore."""
    other = fresh_database_url(tmp_path, f"askel_bench_turns_{worker_id_suffix}")
    before = server_durability()
    entered = threading.Event()

    def second_run() -> None:
        with durability(other, before["fsync"] == "on"):
            entered.set()

    with durability(database_url, before["fsync"] != "on"):
        second = threading.Thread(target=second_run)
        second.start()
        with psycopg.connect(libpq(database_url), autocommit=True) as watcher:
            # Until the second run's session waits on the lock (never entering meanwhile).
            while not someone_waits_on_the_durability_lock(watcher):
                assert not entered.is_set()
                time.sleep(0.01)
        assert not entered.is_set()
    second.join()
    assert entered.is_set()
    assert server_durability() == before


def someone_waits_on_the_durability_lock(connection: psycopg.Connection) -> bool:
    waiting = connection.execute(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND query = %s",
        [DURABILITY_LOCK],
    ).fetchone()
    return waiting is not None and waiting[0] > 0


def test_the_delay_proxy_delivers_every_byte_in_order_each_way_later() -> None:
    with socket.create_server(("127.0.0.1", 0)) as echo_server:

        def echo() -> None:
            peer, _ = echo_server.accept()
            with peer:
                while data := peer.recv(4096):
                    peer.sendall(data)

        threading.Thread(target=echo, daemon=True).start()
        proxy = DelayProxy(echo_server.getsockname(), delay=0.05)
        threading.Thread(target=proxy.run, daemon=True).start()
        sent = os.urandom(200_000)
        with socket.create_connection(("127.0.0.1", proxy.port)) as client:
            started = time.perf_counter()
            client.sendall(sent)
            client.shutdown(socket.SHUT_WR)
            received = b""
            while data := client.recv(65536):
                received += data
            # Each way at least the delay: a lower bound, which no slow machine breaks.
            assert time.perf_counter() - started >= 0.1
    assert received == sent
