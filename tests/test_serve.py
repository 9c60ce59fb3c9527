"""The README's first command starts a working service from nothing: an SQLite file in the
working directory, migrated and seeded with the demo data and its history, with the development
issuer on; and the README's walk-through works on it as written."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.fixtures.databases import server_url
from tests.fixtures.serving import LOG, askel_command, askel_env, serving
from tests.test_readme import readme_commands, readme_walkthrough


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    if server_url():
        # The embedded default is SQLite whatever the suite runs on: its first start (which
        # writes the demo's history, a minute of work) is proved on the SQLite run.
        pytest.skip("the embedded default's first start is tested on the SQLite run")
    assert readme_commands()[0].endswith("askel serve")
    with serving(tmp_path) as served:
        yield served


@pytest.mark.slow
def test_askel_serve_answers_readyz_and_the_readme_walkthrough(
    served: tuple[str, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    base, process = served
    assert process.poll() is None, (tmp_path / LOG).read_text()
    assert httpx.get(f"{base}/readyz").json() == {"status": "ok", "database": "ok"}
    assert (tmp_path / "askel.db").exists()
    token = httpx.post(f"{base}/dev/token", json={"username": "nurse.laihia"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    response = httpx.post(
        f"{base}/api/v1/patients/lookup", json={"hetu": "131052-308T"}, headers=headers
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    # The walk-through as written, against this server: a patient registered and referred, a
    # free first-visit slot found in the demo's calendars and booked.
    script = readme_walkthrough().replace("http://127.0.0.1:8000", base)
    walked = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script.replace(".venv/bin/askel", askel_command())],
        cwd=tmp_path, env=askel_env(int(base.rsplit(":", 1)[1])), capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert walked.returncode == 0, walked.stdout + walked.stderr
    booked = json.loads(walked.stdout.splitlines()[-1])
    assert (booked["status"], booked["visit_type"]) == ("booked", "first_visit"), booked
    # With no worker running, the server itself makes the statistics facts of those writes.
    assert facts_caught_up(base), "the statistics facts did not follow the writes"
    process.send_signal(signal.SIGTERM)
    # uvicorn finishes in-flight work, then re-raises the signal it caught.
    assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    lines = [json.loads(line) for line in (tmp_path / LOG).read_text().splitlines()]
    messages = [line["message"] for line in lines]
    assert "Application shutdown complete." in messages
    assert all("131052" not in json.dumps(line) for line in lines)
    assert all("150377" not in json.dumps(line) for line in lines)


def facts_caught_up(base: str) -> bool:
    for _ in range(600):  # a guard against a hang, not a measure
        metrics = httpx.get(f"{base}/metrics").text
        if "\naskel_statistics_facts_pending 0.0\n" in metrics:
            return True
        time.sleep(0.1)
    return False


def test_production_on_development_defaults_refuses_to_start(tmp_path: Path) -> None:
    askel = shutil.which("askel", path=str(Path(sys.executable).parent))
    assert askel
    env = {key: value for key, value in os.environ.items() if not key.startswith("ASKEL_")}
    env["ASKEL_ENVIRONMENT"] = "production"
    result = subprocess.run(
        [askel, "serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "refusing to start in production" in result.stderr
    assert "ASKEL_HETU_KEY" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "askel.db").exists()


@pytest.mark.slow
@pytest.mark.parametrize("trusted", [True, False])
def test_forwarded_addresses_count_only_from_a_trusted_proxy(tmp_path: Path, trusted: bool) -> None:
    proxies = {"trusted_proxies": "127.0.0.1"} if trusted else {}
    settings = {"rate_limit_client_per_minute": "3", "seed_demo_history": "false", **proxies}
    with serving(tmp_path, **settings) as (base, _process):

        def status_from(address: str) -> int:
            headers = {"X-Forwarded-For": address, "Authorization": "Bearer guess"}
            return httpx.get(f"{base}/api/v1/services", headers=headers).status_code

        # Behind the proxy, each forwarded address is a client of its own; from anyone else
        # the header is a claim, and all four requests are one client's.
        statuses = [status_from(f"192.0.2.{n}") for n in range(1, 5)]
        assert statuses == ([401] * 4 if trusted else [401, 401, 401, 429])
