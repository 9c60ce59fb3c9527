"""Schemathesis against the real server, over every operation of Askel's own OpenAPI document,
with a real token of each role: examples, boundary values, random data, and chains that follow
the documented links (create, then read, then move on). Every check is on: no server error, no
response outside its documented statuses, content types and schema, no schema-valid request
refused for its shape, nothing invalid accepted."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
import schemathesis
from starlette.testclient import TestClient

from app.demo.region import demo_patients
from app.kit.types import EARLIEST, LATEST
from tests.access.test_matrix import ACCESS, CLINICIAN, COUNSELLOR, RECORD, STATISTICIAN, SYSTEM
from tests.fixtures.databases import fresh_database_url
from tests.fixtures.serving import LOG, serving
from tests.test_openapi import operations

CONFIG = Path(__file__).with_name("schemathesis.toml")
HOOKS = Path(__file__).with_name("fuzzing_hooks.py")
ROOT = Path(__file__).resolve().parent.parent
ROLES = ["doctor.laihia", "counsellor1.laihia", "admin.region", "auditor.region",
         "statistician.laihia", "steward.region", "patient-system"]  # fmt: skip
# The roles whose own records a record's route can reach; to the others, every record route
# answers 404 whatever they send.
RECORD_HOLDERS = frozenset({CLINICIAN, COUNSELLOR, SYSTEM})
CHAINS = frozenset({CLINICIAN, COUNSELLOR})
LAIHIA = [patient.hetu for patient in demo_patients() if patient.home_municipality_code == "399"]


def config_with_known_records(base: str, token: str, directory: Path) -> Path:
    """The configuration, and values that name records which exist: random identity codes and
    patient ids find nobody, and a chain that cannot create a referral goes nowhere."""
    headers = {"Authorization": f"Bearer {token}"}
    found = [httpx.post(f"{base}/api/v1/patients/lookup", json={"hetu": hetu}, headers=headers)
             for hetu in LAIHIA[:5]]  # fmt: skip
    patients = [answer.json()["id"] for answer in found if answer.status_code == 200]
    known = {
        # Known patients (a look-up finds them) and new ones (registering them succeeds once).
        "hetus": LAIHIA[:5] + [_identity_code(number) for number in range(40)],
        "patients": patients or ["00000000-0000-4000-8000-000000000000"],
        "reasons": ["E11.9", "I10", "E66.0"],
        "code_systems": ["icd10"],
    }
    lines = [CONFIG.read_text()]
    for name, values in known.items():
        lines.append(f"[dictionaries.{name}]\nvalues = {json.dumps(values)}\n")
    lines.append("[parameters]")
    for path, name in (("body.hetu", "hetus"), ("body.patient_id", "patients"),
                       ("body.reason_codes[*].code", "reasons"),
                       ("body.reason_codes[*].system", "code_systems")):  # fmt: skip
        lines.append(f'"{path}" = {{ dictionary = "{name}", probability = 0.8 }}')
    config = directory / "schemathesis.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def operations_out_of_reach(username: str) -> list[str]:
    """The operations `username` cannot get past the door of, from the declared access matrix:
    routes whose role check refuses them (403 before anything they send is read) and, for a role
    that holds no records, the record routes (404). tests/access/test_matrix.py proves those
    answers for every role; fuzzing them again would send thousands of requests to learn the
    same thing, so each role's fuzzing is spent on what it can reach."""
    user = STATISTICIAN if username.startswith("statistician.") else username
    refused = []
    for (method, path), allowed in ACCESS.items():
        if allowed == RECORD:
            if user not in RECORD_HOLDERS:
                refused.append(f"{method} {path}")
        elif user not in allowed:
            refused.append(f"{method} {path}")
    return sorted(refused)


def _identity_code(number: int) -> str:
    """A valid identity code from the test range (individual numbers 900-999), born 1950-1989."""
    born = date(1950, 1, 1) + timedelta(days=number * 353)
    digits = f"{born:%d%m%y}{900 + number:03d}"
    return f"{digits[:6]}-{digits[6:]}{CHECK_CHARACTERS[int(digits) % 31]}"


CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


# On the production database: what a value does at the database's edges is proven on both by
# tests/test_bounds.py and tests/test_hardening.py; this is the API's behaviour under a flood.
@pytest.mark.slow
@pytest.mark.postgres_only
@pytest.mark.parametrize("username", ROLES)
def test_the_api_holds_to_its_document_under_fuzzing(
    tmp_path: Path, worker_id_suffix: str, username: str
) -> None:
    url = fresh_database_url(tmp_path, f"askel_fuzz_{worker_id_suffix}")
    # A flood is what this is: the rate limits would only answer it with 429.
    settings = {"database_url": url, "rate_limits_enabled": "false", "seed_demo_history": "false"}
    with serving(tmp_path, **settings) as (base, process):
        assert process.poll() is None, (tmp_path / LOG).read_text()
        answer = httpx.post(f"{base}/dev/token", json={"username": username})
        token = answer.json()["access_token"]
        doctor = httpx.post(f"{base}/dev/token", json={"username": "doctor.laihia"})
        config = config_with_known_records(base, doctor.json()["access_token"], tmp_path)
        excluded = [option for name in operations_out_of_reach(username)
                    for option in ("--exclude-name", name)]  # fmt: skip
        # The documented links chain a referral's work: only the roles doing it can follow them.
        phases = "examples,coverage,fuzzing" + (",stateful" if username in CHAINS else "")
        run = subprocess.run(
            [str(Path(sys.executable).parent / "schemathesis"),
             "--config-file", str(config), "run", f"{base}/openapi.json",
             "--checks", "all", "--max-examples", "5", "--seed", "1",
             "--phases", phases,
             "--header", f"Authorization: Bearer {token}", *excluded,
             "--report", "junit", "--report-dir", str(tmp_path / "report"),
             "--no-color"],
            capture_output=True, text=True, timeout=540, cwd=tmp_path,
            env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS), "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    errors = [line for line in (tmp_path / LOG).read_text().splitlines() if "unhandled" in line]
    assert run.returncode == 0, run.stdout[-8000:] + "\n".join(errors[:5])
    assert "Tested: " in run.stdout
    if username == "doctor.laihia":
        # A clinician's chains register a patient, refer them, and read and move the referral.
        covered = re.search(r"API Links:\s+(\d+) covered", run.stdout)
        assert covered is not None
        assert int(covered.group(1)) >= 3, run.stdout[-3000:]


def test_the_coverage_phase_sends_every_query_bound_and_one_past_it(client: TestClient) -> None:
    """What the fuzzing's coverage phase sends, read from schemathesis without a server: each
    integer at its bounds and one past them (2**63 past a sequence number), each date at the
    ends of its range. A 500 at any of them fails the fuzzing test above."""
    document = client.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    edges = {f"{EARLIEST}T00:00:00+02:00", f"{LATEST}T23:59:59+02:00", str(EARLIEST), str(LATEST)}
    checked = set()
    for path, method, operation in operations(document):
        bounded = {}
        for parameter in operation.get("parameters", []):
            found = parameter["schema"]
            found = next((s for s in found.get("anyOf", []) if s.get("type") != "null"), found)
            if parameter["in"] == "query" and (
                found.get("type") == "integer" or found.get("format") in ("date", "date-time")
            ):
                bounded[parameter["name"]] = found
        if not bounded:
            continue
        api_operation = schema[path][method.upper()]
        sent: dict[str, set[str]] = {name: set() for name in bounded}
        for case in schema.iter_coverage_cases(
            api_operation,
            generation_modes=list(schemathesis.GenerationMode),
            generation_config=schema.config.generation_for(operation=api_operation),
        ):
            for name in bounded:
                if isinstance((case.query or {}).get(name), str):
                    sent[name].add(case.query[name])
        for name, found in bounded.items():
            if found["type"] == "integer":
                low, high = found["minimum"], found["maximum"]
                wanted = {str(low), str(high), str(low - 1), str(high + 1)}
            elif found["format"] == "date-time":
                wanted = {edge for edge in edges if "T" in edge}
            else:
                wanted = {edge for edge in edges if "T" not in edge}
            assert wanted <= sent[name], (method, path, name, wanted - sent[name])
            checked.add(f"{method} {path} {name}")
    assert {"get /api/v1/audit/events start", "get /api/v1/slots start",
            "get /api/v1/referrals/{referral_id}/plan version"} <= checked  # fmt: skip
