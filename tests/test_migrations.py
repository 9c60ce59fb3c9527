"""The migrations build the schema the models describe, and go down and up again cleanly."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from app import db
from app.models import Base
from tests.fixtures.databases import fresh_database_url


def table_names(url: str) -> set[str]:
    engine = db.make_engine(url)
    try:
        names = set(inspect(engine).get_table_names()) - {"alembic_version"}
        return {name for name in names if db.include_in_comparison(name, "table", {})}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(tmp_path: Path, worker_id_suffix: str) -> None:
    url = fresh_database_url(tmp_path, f"askel_migrations_{worker_id_suffix}")
    db.upgrade(url)
    assert table_names(url) == set(Base.metadata.tables)
    db.downgrade(url, "base")
    assert table_names(url) == set()
    db.upgrade(url)
    assert table_names(url) == set(Base.metadata.tables)
    engine = db.make_engine(url)
    try:
        assert db.schema_is_current(engine)
    finally:
        engine.dispose()


def test_models_and_migrations_do_not_drift(tmp_path: Path, worker_id_suffix: str) -> None:
    url = fresh_database_url(tmp_path, f"askel_drift_{worker_id_suffix}")
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            options = {"compare_type": True, "include_name": db.include_in_comparison}
            context = MigrationContext.configure(connection, opts=options)
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_migration_files_follow_the_naming_scheme() -> None:
    versions = Path(db.MIGRATIONS_DIR, "versions").glob("*.py")
    names = [path.name for path in versions]
    assert names
    assert all(len(name) > 16 and name[4] == "-" and name[15] == "_" for name in names)
