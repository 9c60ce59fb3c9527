"""Alembic environment: the URL comes from the caller (`askel db ...`, the tests) or settings."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection

from app.config import get_settings
from app.db import include_in_comparison, make_engine
from app.kit.models import UTCDateTime
from app.models import Base

config = context.config
target_metadata = Base.metadata


def _render_item(kind: str, item: Any, autogen_context: Any) -> str | Literal[False]:
    # Revisions stay static: our column types are written as the plain SQLAlchemy ones.
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_item=_render_item,
        include_name=include_in_comparison,
        # SQLite alters tables by copying them; batch mode does that for us.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    if connection.dialect.name != "sqlite":
        with context.begin_transaction():
            context.run_migrations()
        return
    # SQLite changes a table by copying it (batch mode), and dropping the old copy would break
    # every reference to its rows. Its own procedure for altering tables is followed instead:
    # references are not enforced while the migrations run, then all are checked before commit.
    # The pragma must be set outside a transaction, so on the driver's connection.
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None
    dbapi_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        with context.begin_transaction():
            context.run_migrations()
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migrations leave broken references: {broken[:5]}")
    finally:
        dbapi_connection.execute("PRAGMA foreign_keys=ON")


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or get_settings().database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or get_settings().database_url)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
