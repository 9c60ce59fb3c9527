"""Schemathesis against the real server, over every operation of Askel's own OpenAPI document,
with a real token of each role: examples, boundary values, random data, and chains that follow
the documented links (create, then read, then move on). Every check is on: no server error, no
response outside its documented statuses, content types and schema, no schema-valid request
refused for its shape, nothing invalid accepted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.fixtures.databases import fresh_database_url
from tests.fixtures.serving import LOG, serving

CONFIG = Path(__file__).with_name("schemathesis.toml")
ROLES = ["doctor.laihia", "counsellor1.laihia", "admin.region", "auditor.region",
         "statistician.laihia", "steward.region", "patient-system"]  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("username", ROLES)
def test_the_api_holds_to_its_document_under_fuzzing(
    tmp_path: Path, worker_id_suffix: str, username: str
) -> None:
    url = fresh_database_url(tmp_path, f"askel_fuzz_{worker_id_suffix}")
    # A flood is what this is: the rate limits would only answer it with 429.
    with serving(tmp_path, database_url=url, rate_limits_enabled="false") as (base, process):
        assert process.poll() is None, (tmp_path / LOG).read_text()
        answer = httpx.post(f"{base}/dev/token", json={"username": username})
        token = answer.json()["access_token"]
        run = subprocess.run(
            [str(Path(sys.executable).parent / "schemathesis"),
             "--config-file", str(CONFIG), "run", f"{base}/openapi.json",
             "--checks", "all", "--max-examples", "5", "--seed", "1",
             "--phases", "examples,coverage,fuzzing,stateful",
             "--header", f"Authorization: Bearer {token}",
             "--report", "junit", "--report-dir", str(tmp_path / "report"),
             "--no-color"],
            capture_output=True, text=True, timeout=540, cwd=tmp_path,
        )  # fmt: skip
    errors = [line for line in (tmp_path / LOG).read_text().splitlines() if "unhandled" in line]
    assert run.returncode == 0, run.stdout[-8000:] + "\n".join(errors[:5])
    assert "Tested: " in run.stdout
