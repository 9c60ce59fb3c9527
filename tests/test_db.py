"""Engine and session settings that keep the service alive under load."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import db
from app.access.models import User


def test_sessions_admitted_never_outnumber_connections() -> None:
    assert db.WRITE_CONCURRENCY + db.READ_CONCURRENCY <= db.POOL_SIZE + db.MAX_OVERFLOW
    assert db.READ_CONCURRENCY > 0


def test_engines_get_the_pool_size(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        assert engine.pool.size() == db.POOL_SIZE  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def test_a_read_session_cannot_write(session: Session) -> None:
    session.info["read_only"] = True
    user = session.scalars(select(User).limit(1)).one()
    user.display_name = "changed"
    try:
        with pytest.raises(RuntimeError, match="a read session tried to write"):
            session.flush()
    finally:
        session.info.pop("read_only")
        session.rollback()
