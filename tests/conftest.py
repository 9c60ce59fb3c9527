"""Test fixtures: one database per test worker built by the migrations (SQLite by default,
PostgreSQL when ASKEL_TEST_DATABASE_URL names one), demo data committed once, and every test
inside a transaction that is rolled back at its end."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app import db
from app.config import Settings
from app.demo.region import seed
from app.flows import commit as commit_pipeline
from app.main import create_app
from app.statistics import follow
from tests.fixtures.databases import fresh_database_url
from tests.fixtures.facts import current_facts_only

TEST_ISSUER = "http://testserver/dev"
pytest_plugins = [
    "tests.fixtures.peers",
    "tests.fixtures.demo_history",
    "tests.fixtures.round_trips",
]
# As the app factory and the command line do: every commit goes through the commit pipeline
# (it notes the referrals whose statistics facts it changed), in tests that make no app as well.
commit_pipeline.install()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("ASKEL_TEST_DATABASE_URL", "").startswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set ASKEL_TEST_DATABASE_URL)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def worker_id_suffix(request: pytest.FixtureRequest) -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, worker_id_suffix: str) -> str:
    url = fresh_database_url(tmp_path_factory.mktemp("db"), f"askel_test_{worker_id_suffix}")
    db.upgrade(url)
    database = db.Database.from_url(url)
    with database.write_sessions() as session, session.begin():
        seed(session)
    follow.catch_up(database)
    database.dispose()
    return url


@pytest.fixture(autouse=True)
def _current_facts_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from current_facts_only(monkeypatch)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        yield session


@pytest.fixture(scope="session")
def dev_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys") / "dev-issuer.jwk"


@pytest.fixture
def settings(database_url: str, dev_key_file: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        dev_issuer_url=TEST_ISSUER,
        dev_issuer_key_file=dev_key_file,
        dev_issuer_enabled=True,
    )


@pytest.fixture
def app(settings: Settings, connection: Connection) -> FastAPI:
    return create_app(settings, database=db.Database(connection))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def token_for(client: TestClient) -> Callable[[str], str]:
    """A development-issuer token for a demo user."""

    def issue(username: str) -> str:
        response = client.post("/dev/token", json={"username": username})
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    return issue


@pytest.fixture
def auth(token_for: Callable[[str], str]) -> Callable[[str], dict[str, str]]:
    """Authorization headers for a demo user."""
    return lambda username: {"Authorization": f"Bearer {token_for(username)}"}
