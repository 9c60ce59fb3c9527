"""Engines, sessions and the request transaction; Alembic's entry points.

One session per request. The write session's dependency commits when the endpoint returns and
rolls back when it raises, so services and repositories only ever `flush()`. It ends before the
response is sent (`scope="function"`): a commit that fails is an error answer, never a 201 for
data that was not saved.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi import Depends, Request
from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.session import JoinTransactionMode
from starlette.concurrency import run_in_threadpool

from app.kit.clock import HELSINKI
from app.statistics.models import is_partition

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
VERSION_TABLE = "alembic_version"  # Alembic's default, which migrations/env.py keeps


# Connections per process, and how many requests may hold one at a time. Requests hold their
# connection across several hops through the worker-thread pool; if more of them wanted one
# than the pool has, threads blocked waiting for a connection could starve the very requests
# that hold one of the thread they need to finish (a deadlock, seen under load). So the
# session dependencies admit at most as many requests as there are connections, and the rest
# wait without taking a thread.
POOL_SIZE = 20
MAX_OVERFLOW = 10
WRITE_CONCURRENCY = 24
READ_CONCURRENCY = POOL_SIZE + MAX_OVERFLOW - WRITE_CONCURRENCY


def make_engine(url: str, **kwargs: Any) -> Engine:
    # hide_parameters: a database error's message must not carry the row's personal data.
    pool = {"pool_size": POOL_SIZE, "max_overflow": MAX_OVERFLOW, "hide_parameters": True, **kwargs}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **pool)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **pool)


class _PercentileCont:
    """PostgreSQL's `percentile_cont(share) WITHIN GROUP (ORDER BY value)` for SQLite, called
    as `percentile_cont(value, share)`: linear between the two nearest values, NULLs skipped."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.share = 0.5

    def step(self, value: float | None, share: float) -> None:
        self.share = share
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        if not self.values:
            return None
        ordered = sorted(self.values)
        place = self.share * (len(ordered) - 1)
        low = int(place)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (place - low)


def _helsinki_date(stored: str | None) -> str | None:
    """The Helsinki calendar day of a UTC time as SQLite stores it: SQLite has no time zone
    database of its own, and a day counted in UTC would move the two hours after Helsinki's
    midnight to the day before."""
    if stored is None:
        return None
    moment = datetime.fromisoformat(stored).replace(tzinfo=UTC)
    return moment.astimezone(HELSINKI).date().isoformat()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy say BEGIN itself, so that writes can say BEGIN IMMEDIATE: a deferred
        # transaction that later upgrades to a write lock fails with "database is locked".
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
        dbapi_connection.create_aggregate("percentile_cont", 2, _PercentileCont)
        dbapi_connection.create_function("helsinki_date", 1, _helsinki_date, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """The engine and the two session factories of one running app."""

    def __init__(self, bind: Engine | Connection) -> None:
        # Every table mapped. (What a commit does besides is the commit pipeline, which the app
        # factory and the command line install: nothing here imports a domain's services.)
        import app.models  # noqa: F401

        self.bind = bind
        if isinstance(bind, Engine):
            writer: Engine | Connection = bind.execution_options(sqlite_begin="IMMEDIATE")
            reader: Engine | Connection = bind.execution_options(postgresql_readonly=True)
            mode: JoinTransactionMode = "conditional_savepoint"
        else:
            # Tests hand in one connection whose outer transaction is rolled back at the end.
            writer = reader = bind
            mode = "create_savepoint"
        self.write_sessions = sessionmaker(
            bind=writer, expire_on_commit=False, join_transaction_mode=mode
        )
        self.read_sessions = sessionmaker(bind=reader, join_transaction_mode=mode)

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @property
    def is_sqlite(self) -> bool:
        return self.bind.dialect.name == "sqlite"

    def ping(self) -> None:
        with self.read_sessions() as session:
            session.execute(text("SELECT 1"))

    def dispose(self) -> None:
        if isinstance(self.bind, Engine):
            self.bind.dispose()


def _database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


# The session dependencies make their session in the event loop (making one does not touch the
# database: its connection is taken by its first statement, in the endpoint's worker thread)
# and end it in one more hop through the pool: commit or roll back, then close.


async def write_session(request: Request) -> AsyncIterator[Session]:
    session = _database(request).write_sessions()
    try:
        yield session
    except BaseException:
        await run_in_threadpool(_end, session, commit=False)
        raise
    await run_in_threadpool(_end, session, commit=True)


async def read_session(request: Request) -> AsyncIterator[Session]:
    session = _database(request).read_sessions()
    session.info["read_only"] = True
    try:
        yield session
    finally:
        await run_in_threadpool(_end, session, commit=False)


def _end(session: Session, *, commit: bool) -> None:
    with session:
        if commit:
            session.commit()
        else:
            session.rollback()


def refuse_writes_in_read_sessions(session: Session, *_args: Any) -> None:
    """A read session that would write fails its flush (a step of the commit pipeline,
    `app.flows.commit`)."""
    if session.info.get("read_only") and (session.new or session.dirty or session.deleted):
        raise RuntimeError("a read session tried to write")


WriteSession = Annotated[
    Session, Depends(write_session, scope="function", max_concurrency=WRITE_CONCURRENCY)
]
ReadSession = Annotated[
    Session, Depends(read_session, scope="function", max_concurrency=READ_CONCURRENCY)
]


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option(
        "file_template", "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s"
    )
    return config


def include_in_comparison(name: str | None, kind: str, _parents: object) -> bool:
    """What autogenerate compares with the models: not the partitions PostgreSQL keeps of a
    partitioned table (the migrations make those; the models describe the table)."""
    return not (kind == "table" and name is not None and is_partition(name))


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def migration_heads() -> frozenset[str]:
    return frozenset(_scripts().get_heads())


def known_revision(revision: str) -> bool:
    """True when this version's migrations include `revision` (a newer version's do not)."""
    return revision in {script.revision for script in _scripts().walk_revisions()}


def current_revisions(bind: Engine | Connection) -> frozenset[str]:
    """The revisions the database stands at; empty when it has no schema of Askel's.

    Read from Alembic's table directly: a MigrationContext logs two lines each time, and this
    runs on every readiness probe and before every command."""
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return current_revisions(connection)
    if not inspect(bind).has_table(VERSION_TABLE):
        return frozenset()
    return frozenset(bind.scalars(text(f"SELECT version_num FROM {VERSION_TABLE}")))


def schema_is_current(bind: Engine | Connection) -> bool:
    """True when the database stands at the newest migration."""
    return current_revisions(bind) == migration_heads()


def shown(url: str) -> str:
    """The URL as it may be shown to a person: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_file(url: str) -> Path | None:
    """The file an SQLite URL names, made absolute (None for other databases, or in memory):
    connecting would create it."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).resolve()
