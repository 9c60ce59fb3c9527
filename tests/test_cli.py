"""The `askel` command against a database of its own."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import Connection, make_url, select, text
from typer.testing import CliRunner

from app import db
from app.cli import cli
from app.config import get_settings
from app.demo.region import GIVEN_NAMES
from tests.fixtures.databases import fresh_database_url, server_url
from tests.fixtures.peers import MedplumPeer

runner = CliRunner()


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """`worker` and `sync poll` send the logs to the standard output of their invocation, which
    the runner closes after it: later invocations' logs must not go there."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def cli_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, worker_id_suffix: str
) -> Iterator[str]:
    url = fresh_database_url(tmp_path, f"askel_cli_{worker_id_suffix}")
    monkeypatch.setenv("ASKEL_DATABASE_URL", url)
    monkeypatch.setenv("ASKEL_DEV_ISSUER_KEY_FILE", str(tmp_path / "key.jwk"))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.output


def test_demo_data_is_added_once(cli_env: str) -> None:
    code, output = run("demo-data", "--no-history")
    assert code == 0, output
    assert "Demo data added." in output
    code, output = run("demo-data", "--no-history")
    assert (code, "Demo data is already there." in output) == (0, True)


def test_dev_token_signs_for_a_demo_user(cli_env: str, tmp_path: Path) -> None:
    run("demo-data", "--no-history")
    result = runner.invoke(cli, ["dev-token", "doctor.isokyro"])
    assert result.exit_code == 0, result.output
    # A key made now is said on stderr: only a service started with it accepts the token.
    assert f"new development issuer key, {tmp_path / 'key.jwk'}" in result.stderr
    key = RSAKey.import_key(json.loads((tmp_path / "key.jwk").read_text()))
    claims = jwt.decode(result.stdout.strip(), key, algorithms=["RS256"]).claims
    assert (claims["sub"], claims["profession"]) == ("doctor.isokyro", "doctor")
    code, _output = run("dev-token", "nobody")
    assert code == 1


def test_dev_token_lists_the_demo_users(cli_env: str) -> None:
    run("demo-data", "--no-history")
    code, output = run("dev-token", "--list")
    assert code == 0
    users = [json.loads(line) for line in output.splitlines()]
    assert any(u["username"] == "counsellor2.kaskinen" and u["service_id"] for u in users)


LOG_TABLES = ("audit_events", "audit_leaves", "audit_tree_nodes", "audit_tree_heads")


def _without_append_only_guard(connection: Connection) -> None:
    for table in LOG_TABLES:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            connection.execute(text(f"DROP TRIGGER {table}_no_update"))
            connection.execute(text(f"DROP TRIGGER {table}_no_delete"))


def test_audit_verify_passes_then_catches_an_edit(cli_env: str) -> None:
    run("demo-data", "--no-history")  # its entries sealed
    code, output = run("audit", "verify")
    assert code == 0, output
    assert "intact: 50 sealed entries" in output
    assert run("audit", "seal") == (0, "0 entries sealed.\n")
    engine = db.make_engine(cli_env)
    with engine.begin() as connection:
        _without_append_only_guard(connection)
        connection.execute(text("UPDATE audit_events SET action = 'read' WHERE seq = 7"))
    engine.dispose()
    code, output = run("audit", "verify")
    assert code == 1
    assert "broken at entry 7" in output


def test_db_downgrade_and_upgrade(cli_env: str) -> None:
    assert run("db", "upgrade")[0] == 0
    assert run("db", "downgrade", "base")[0] == 0
    engine = db.make_engine(cli_env)
    assert not db.schema_is_current(engine)
    assert run("db", "upgrade")[0] == 0
    assert db.schema_is_current(engine)
    engine.dispose()


def test_demo_patients_can_be_listed_without_a_database() -> None:
    code, output = run("demo-data", "--list-patients")
    patients = [json.loads(line) for line in output.splitlines()]
    assert code == 0
    assert len(patients) == 50
    assert all(900 <= int(p["hetu"][7:10]) <= 999 for p in patients)
    # Each has a recorded sex, and a name given to people of that sex.
    for patient in patients:
        assert patient["given_name"] in GIVEN_NAMES[patient["language"], patient["sex"]], patient
    assert {p["sex"] for p in patients} == {"female", "male"}


def test_slots_materialise_extends_every_counsellors_horizon(cli_env: str) -> None:
    from datetime import date, datetime, time, timedelta

    from app.access import repository as accounts
    from app.access.principal import LOCAL_ISSUER
    from app.kit.clock import HELSINKI
    from app.kit.public_holidays import is_working_day
    from app.scheduling.models import AvailabilityRule, Slot

    def to_helsinki_day(moment: datetime) -> date:
        return moment.astimezone(HELSINKI).date()

    run("demo-data", "--no-history")
    database = db.Database.from_url(cli_env)
    with database.write_sessions() as session, session.begin():
        found = accounts.active_user_with_organisation(session, LOCAL_ISSUER, "counsellor1.laihia")
        assert found is not None
        session.add(
            AvailabilityRule(
                counsellor_id=found[0].id, weekday=2, start_time=time(9), end_time=time(10),
                location="Halli", modes=["in_person"], visit_types=["first_visit"],
                languages=["fi"], valid_from=date(2026, 1, 1),
            )
        )  # fmt: skip
    code, output = run("slots", "materialise")
    assert code == 0, output
    # A Wednesday a week for the 16 weeks ahead, but for one that is a public holiday.
    created = re.search(r"(\d+) slots created", output)
    assert created is not None, output
    code, output = run("slots", "materialise")
    assert "0 slots created" in output
    with database.read_sessions() as session:
        days = [to_helsinki_day(slot.start_at) for slot in session.scalars(select(Slot))]
    database.dispose()
    assert len(days) == int(created.group(1))
    assert all(is_working_day(day) for day in days)
    first = min(days)
    wednesdays = [first + timedelta(weeks=week) for week in range(16)]
    assert sorted(days) == [day for day in wednesdays if is_working_day(day)]


def test_an_anchor_catches_a_cut_off_tail(cli_env: str, tmp_path: Path) -> None:
    run("demo-data", "--no-history")
    anchors = tmp_path / "anchors.jsonl"
    code, output = run("audit", "anchor", "--out", str(anchors))
    assert (code, "Anchored the tree head of size 50." in output) == (0, True)
    assert run("audit", "verify", "--anchor", str(anchors))[0] == 0
    engine = db.make_engine(cli_env)
    with engine.begin() as connection:
        _without_append_only_guard(connection)
        # The last three entries cut off, with every leaf, node and head that names them.
        for statement in (
            "DELETE FROM audit_tree_heads WHERE size > 47",
            "DELETE FROM audit_tree_nodes WHERE (position + 1) * (1 << level) > 47",
            "DELETE FROM audit_leaves WHERE position >= 47",
            "DELETE FROM audit_events WHERE seq > 47",
        ):
            connection.execute(text(statement))
    engine.dispose()
    # Without the anchor the shortened log looks whole; with it, the cut shows.
    assert run("audit", "verify")[0] == 0
    code, output = run("audit", "verify", "--anchor", str(anchors))
    assert code == 1
    assert "entries up to the signed head of size 50 are missing" in output


def test_sync_poll_and_replay(
    cli_env: str, monkeypatch: pytest.MonkeyPatch, medplum: MedplumPeer
) -> None:
    assert run("demo-data", "--no-history")[0] == 0
    code, output = run("sync", "poll")
    assert code != 0  # no server configured: says so
    monkeypatch.setenv("ASKEL_FHIR_BASE_URL", medplum.base_url)
    get_settings.cache_clear()
    code, output = run("sync", "poll")
    assert (code, output.strip()) == (0, "0 new referrals from the region's server."), output
    database = db.Database.from_url(cli_env)
    with database.write_sessions() as session, session.begin():
        session.execute(text(
            "INSERT INTO outbox_events (aggregate_type, aggregate_id, event_type, payload,"
            " created_at, attempts, next_attempt_at, dead_lettered_at, last_error) VALUES"
            " ('referral', '00000000-0000-4000-8000-000000000001', 'referral.send', '{}',"
            " CURRENT_TIMESTAMP, 8, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'PeerError: 503')"
        ))  # fmt: skip
    database.dispose()
    code, output = run("sync", "replay")
    assert (code, output.strip()) == (0, "1 dead-lettered events will be sent again."), output
    # Nothing has reached the region yet: nothing to send again.
    code, output = run("sync", "republish")
    assert (code, output.strip()) == (0, "0 referrals will be sent to the region again."), output


def test_the_national_dataset_needs_postgresql(cli_env: str) -> None:
    if not cli_env.startswith("sqlite"):
        pytest.skip("the refusal is SQLite's")
    code, output = run("demo-data", "--scale", "national")
    assert code == 2
    assert "PostgreSQL" in output
    assert not Path(cli_env.removeprefix("sqlite:///")).exists()


# The database a command needs ---------------------------------------------------------------

# Every command that works on the service's database as it is; none may make one.
ON_THE_SERVICES_DATABASE = [
    ["dev-token", "nurse.laihia"],
    ["dev-token", "--list"],
    ["audit", "verify"],
    ["audit", "anchor", "--out", "anchors.jsonl"],
    ["stats", "rebuild"],
    ["sync", "poll"],
    ["sync", "replay"],
    ["sync", "republish"],
    ["slots", "materialise"],
    ["worker"],
]


def refused(args: list[str]) -> str:
    """What the command says on refusing: exit status 2, a message, no traceback."""
    result = runner.invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    message: str = result.stderr
    assert message.startswith("askel: "), message
    return " ".join(message.split())


def use_database(monkeypatch: pytest.MonkeyPatch, url: str | None) -> None:
    if url is None:
        monkeypatch.delenv("ASKEL_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("ASKEL_DATABASE_URL", url)
    get_settings.cache_clear()


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty directory to run commands in, with nothing configured."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASKEL_DEV_ISSUER_KEY_FILE", raising=False)
    use_database(monkeypatch, None)
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def unmigrated_url(tmp_path_factory: pytest.TempPathFactory, worker_id_suffix: str) -> str:
    """A database that exists and has no tables."""
    url = fresh_database_url(tmp_path_factory.mktemp("db"), f"askel_unmigrated_{worker_id_suffix}")
    engine = db.make_engine(url)
    engine.connect().close()  # SQLite makes the file
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def older_url(tmp_path_factory: pytest.TempPathFactory, worker_id_suffix: str) -> str:
    """A database one migration behind this version."""
    url = fresh_database_url(tmp_path_factory.mktemp("db"), f"askel_older_{worker_id_suffix}")
    db.upgrade(url)
    db.downgrade(url, "-1")
    return url


@pytest.mark.parametrize("args", ON_THE_SERVICES_DATABASE, ids=" ".join)
def test_without_a_database_a_command_says_where_it_looked_and_makes_none(
    args: list[str], elsewhere: Path
) -> None:
    message = refused(args)
    assert message.startswith(
        f"askel: there is no database at sqlite:///askel.db ({elsewhere / 'askel.db'} does "
        "not exist)."
    )
    assert "`askel serve`" in message
    assert "ASKEL_DATABASE_URL" in message
    assert list(elsewhere.iterdir()) == []


# A database there, but not at this version's schema: what is said of it, and what to do.
NOT_READY = {
    "unmigrated_url": ("has no tables of Askel's", "Create them with `askel db upgrade`"),
    "older_url": ("is at an older revision", "Migrate it with `askel db upgrade`"),
}


@pytest.mark.parametrize("database", sorted(NOT_READY))
@pytest.mark.parametrize("args", ON_THE_SERVICES_DATABASE, ids=" ".join)
def test_a_database_not_at_this_versions_schema_is_not_used(
    args: list[str],
    database: str,
    elsewhere: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = request.getfixturevalue(database)
    use_database(monkeypatch, url)
    message = refused(args)
    said, advice = NOT_READY[database]
    assert f"the database at {db.shown(url)} {said}" in message
    assert advice in message
    assert list(elsewhere.iterdir()) == []


def test_downgrade_needs_a_migrated_database(
    elsewhere: Path, unmigrated_url: str, older_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "there is no database at sqlite:///askel.db" in refused(["db", "downgrade", "base"])
    assert list(elsewhere.iterdir()) == []
    use_database(monkeypatch, unmigrated_url)
    assert "has no tables of Askel's" in refused(["db", "downgrade", "-1"])
    use_database(monkeypatch, older_url)
    assert "cannot migrate the database" in refused(["db", "downgrade", "nonesuch"])


def test_commands_that_make_the_database_refuse_one_a_newer_version_migrated(
    cli_env: str,
) -> None:
    assert run("db", "upgrade")[0] == 0
    engine = db.make_engine(cli_env)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfeedbeef'"))
    engine.dispose()
    for args in (["db", "upgrade"], ["demo-data"], ["stats", "rebuild"]):
        assert "at revision f00dfeedbeef, which this version of Askel does not know" in refused(
            args
        )


def test_a_database_that_cannot_be_opened_is_named_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = server_url()
    url = (
        make_url(base).set(database="askel_nonesuch", password="s3cret").render_as_string(False)
        if base
        else f"sqlite:///{tmp_path / 'nowhere' / 'askel.db'}"
    )
    use_database(monkeypatch, url)
    # A missing SQLite file is "no database" to the other commands (above); a missing
    # PostgreSQL database is a server's refusal to all.
    for args in (["db", "upgrade"], ["audit", "verify"]) if base else (["db", "upgrade"],):
        message = refused(args)
        assert f"cannot open the database at {db.shown(url)}: " in message
        assert "s3cret" not in message
    assert list(tmp_path.iterdir()) == []
    get_settings.cache_clear()


def test_dev_token_elsewhere_says_what_to_do(tmp_path: Path) -> None:
    """As a person would run it: the installed command, in a directory without the service."""
    askel = Path(sys.executable).parent / "askel"
    env = {key: value for key, value in os.environ.items() if not key.startswith("ASKEL_")}
    result = subprocess.run(
        [askel, "dev-token", "nurse.laihia"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.startswith("askel: there is no database at sqlite:///askel.db")
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("history", [True, False])
def test_serve_seeds_the_demo_data_with_its_history_unless_told_not_to(
    cli_env: str, monkeypatch: pytest.MonkeyPatch, history: bool
) -> None:
    import uvicorn

    from app.demo import history as demo_history
    from app.referrals.models import Referral
    from app.scheduling.models import Slot

    monkeypatch.setattr(demo_history, "WEEKS", 1)  # a short history will do
    monkeypatch.setattr(uvicorn, "run", lambda *_args, **_kwargs: None)
    monkeypatch.setenv("ASKEL_SEED_DEMO_HISTORY", str(history).lower())
    get_settings.cache_clear()
    code, output = run("serve")
    assert code == 0, output
    database = db.Database.from_url(cli_env)
    with database.read_sessions() as session:
        referrals = len(session.scalars(select(Referral.id)).all())
        slots = len(session.scalars(select(Slot.id)).all())
    database.dispose()
    assert (referrals > 0, slots > 0) == (history, history)


def test_demo_data_adds_its_history_unless_told_not_to(
    cli_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.demo import history as demo_history
    from app.referrals.models import Referral

    monkeypatch.setattr(demo_history, "WEEKS", 1)
    code, output = run("demo-data")
    assert (code, "Demo data added." in output) == (0, True), output
    database = db.Database.from_url(cli_env)
    with database.read_sessions() as session:
        assert session.scalars(select(Referral.id)).first() is not None
    database.dispose()


def _facts_follow_a_write(url: str) -> bool:
    """A referral's facts taken away and the referral noted, as a write notes it: True once
    they are made again (by whatever keeps them current), False if not within a minute."""
    from app.statistics.models import ReferralFact, StaleReferral

    database = db.Database.from_url(url)
    try:
        with database.write_sessions() as session, session.begin():
            fact = session.scalars(select(ReferralFact).limit(1)).one()
            referral_id = fact.referral_id
            session.delete(fact)
            session.add(StaleReferral(referral_id=referral_id, touched_at=fact.sent_at))
        for _ in range(600):  # a guard against a hang, not a measure
            with database.read_sessions() as session:
                if session.get(ReferralFact, referral_id) is not None:
                    return session.scalars(select(StaleReferral.id)).first() is None
            time.sleep(0.1)
        return False
    finally:
        database.dispose()


def test_serve_keeps_the_statistics_facts_current_without_a_worker(
    cli_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from app.demo import history as demo_history

    monkeypatch.setattr(demo_history, "WEEKS", 1)
    followed: list[bool] = []
    monkeypatch.setattr(
        uvicorn, "run", lambda *_a, **_k: followed.append(_facts_follow_a_write(cli_env))
    )
    code, output = run("serve")
    assert (code, followed) == (0, [True]), output


def test_the_worker_keeps_the_statistics_facts_current(
    cli_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.demo import history as demo_history
    from app.jobs import worker

    monkeypatch.setattr(demo_history, "WEEKS", 1)
    assert run("demo-data")[0] == 0
    followed: list[bool] = []
    monkeypatch.setattr(
        worker, "run_forever", lambda *_a, **_k: followed.append(_facts_follow_a_write(cli_env))
    )
    code, output = run("worker")
    assert (code, followed) == (0, [True]), output
