"""Every benchmark in `bench/` runs as its usage line says, at a tiny size, so that none can rot:
`python bench/<script> URL [options]` from the project root with this environment's Python and
nothing on PYTHONPATH, as someone who installed Askel as the README says would run it.

The benchmarks write with PostgreSQL's COPY: they run when the suite runs on PostgreSQL, which
CI does, and are skipped on SQLite."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.databases import fresh_database_url

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"

# Each benchmark with documented options that make it tiny.
TINY = {
    "statistics_queries.py": "--patients 30 --referrals 60 --visits 200",
    "scheduling.py": "--counsellors 2 --clients 2 --searches 4 --bookings 4",
    "load.py": "--duration 1 --clients 2 --processes 1 --size 0.0005 --waiting 100",
    "fhir_sync.py": "--referrals 2 --workers 1 --rate 2 --seconds 1",
    "fhir_faults.py": "--referrals 2 --workers 1 --outage 0.5 --kills 1 --kill-every 0.5",
}
# These start the Medplum peer (tests/peers/medplum) as a FHIR server.
WITH_THE_FHIR_PEER = {"fhir_sync.py", "fhir_faults.py"}


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
    if name == "load.py":
        options = [*options, "--out", str(tmp_path / "load")]
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
