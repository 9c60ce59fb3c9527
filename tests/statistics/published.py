"""What a statistics table must publish for a set of records, worked out apart from the
statistics code: the true count, and the record keys read from `statistics_record_keys`."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.statistics.models import RecordKey
from app.statistics.perturbation import Published, protected


def keys_of(session: Session, records: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    ids = list(records)
    rows = session.execute(
        select(RecordKey.record_id, RecordKey.record_key).where(RecordKey.record_id.in_(ids))
    )
    keys: dict[uuid.UUID, int] = dict(rows.all())
    assert set(keys) == set(ids), "every record counted has a key"
    return keys


def published(session: Session, records: Iterable[uuid.UUID]) -> Published:
    """A count of these records (each counted once), as the cell key method publishes it."""
    keys = keys_of(session, records)
    return protected(len(keys), sum(keys.values()))


def key_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(RecordKey)) or 0
