from __future__ import annotations

import uuid
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, func, insert, or_, select, text, tuple_, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType

from app.access.audit.models import AuditEvent, AuditLeaf, AuditTreeHead, AuditTreeNode
from app.access.models import User
from app.organisations.models import Organisation

# The PostgreSQL advisory lock that lets one sealer at a time work ("askel" + 1). Requests
# never take it.
SEALING_LOCK_KEY = 0x61736B656C + 1
# Every transaction older than this one has ended: entries they wrote are final.
HORIZON = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"


def take_sealing_turn(session: Session) -> bool:
    """Whether this transaction is the one sealer at work (SQLite: writers take turns)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    taken = session.scalar(select(func.pg_try_advisory_xact_lock(SEALING_LOCK_KEY)))
    return bool(taken)


def insert_entries(session: Session, rows: list[dict[str, Any]]) -> None:
    """The entries, in one statement (the table's own insert: nothing else is flushed first,
    and no row is read back)."""
    table = cast(Table, AuditEvent.__table__)
    session.execute(insert(table), rows)


def tree_end(session: Session) -> tuple[int, AuditEvent | None]:
    """The tree's size, and the entry of its last leaf."""
    last = session.execute(
        select(AuditLeaf.position, AuditEvent)
        .join(AuditEvent, AuditEvent.seq == AuditLeaf.entry_seq)
        .order_by(AuditLeaf.position.desc())
        .limit(1)
    ).first()
    return (0, None) if last is None else (last[0] + 1, last[1])


def _after(last: AuditEvent | None) -> list[ColumnElement[bool]]:
    """Entries after `last` in sealing order: the chain's (no `xact`) by number, then the
    others by writing transaction and number."""
    if last is None:
        return []
    if last.xact is None:
        return [or_(AuditEvent.xact.is_not(None), AuditEvent.seq > last.seq)]
    return [
        AuditEvent.xact.is_not(None),
        tuple_(AuditEvent.xact, AuditEvent.seq) > tuple_(last.xact, last.seq),
    ]


def final_unsealed(
    session: Session, last: AuditEvent | None, limit: int, *, all_visible: bool = False
) -> list[AuditEvent]:
    """The entries after `last` in sealing order that are final, at most `limit`; on
    PostgreSQL only those of transactions older than every one still running, unless
    `all_visible` (one writer only: the tests' single transaction)."""
    conditions = _after(last)
    if session.get_bind().dialect.name == "postgresql" and not all_visible:
        conditions.append(or_(AuditEvent.xact.is_(None), AuditEvent.xact < text(HORIZON)))
    order = (AuditEvent.xact.is_not(None), AuditEvent.xact, AuditEvent.seq)
    statement = select(AuditEvent).where(*conditions).order_by(*order).limit(limit)
    return list(session.scalars(statement))


def unsealed(session: Session, up_to: int | None = None) -> tuple[int, datetime | None]:
    """How many entries wait for the sealer (of those numbered `up_to` or lower), and when the
    oldest of them was written."""
    _, last = tree_end(session)
    conditions = _after(last)
    if up_to is not None:
        conditions.append(AuditEvent.seq <= up_to)
    row = session.execute(
        select(func.count(), func.min(AuditEvent.occurred_at)).where(*conditions)
    ).one()
    return int(row[0]), row[1]


def newest_entry(session: Session) -> int | None:
    """The number of the newest entry written so far."""
    return session.scalar(select(func.max(AuditEvent.seq)))


def add_leaves(session: Session, first_position: int, entry_seqs: Sequence[int]) -> None:
    session.execute(
        insert(AuditLeaf),
        [{"position": first_position + i, "entry_seq": seq} for i, seq in enumerate(entry_seqs)],
    )


class TreeNodes:
    """The tree's kept nodes, read as needed and remembered; new ones written together."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._known: dict[tuple[int, int], bytes] = {}
        self._new: dict[tuple[int, int], bytes] = {}

    def prefetch(self, keys: Iterable[tuple[int, int]]) -> None:
        wanted = [key for key in set(keys) if key not in self._known]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self._session.execute(
                select(AuditTreeNode.level, AuditTreeNode.position, AuditTreeNode.hash).where(
                    tuple_(AuditTreeNode.level, AuditTreeNode.position).in_(chunk)
                )
            )
            self._known.update(
                {(level, index): bytes.fromhex(value) for level, index, value in rows}
            )

    def read(self, level: int, index: int) -> bytes:
        if (level, index) not in self._known:
            self.prefetch([(level, index)])
        return self._known[(level, index)]

    def keep(self, level: int, index: int, value: bytes) -> None:
        self._known[(level, index)] = self._new[(level, index)] = value

    def write(self) -> None:
        if self._new:
            rows = [
                {"level": level, "position": index, "hash": value.hex()}
                for (level, index), value in self._new.items()
            ]
            self._session.execute(insert(AuditTreeNode), rows)
            self._new.clear()


def add_head(session: Session, head: AuditTreeHead) -> None:
    session.add(head)
    session.flush()


def newest_head(session: Session) -> AuditTreeHead | None:
    return session.scalars(select(AuditTreeHead).order_by(AuditTreeHead.size.desc())).first()


def heads(session: Session) -> list[AuditTreeHead]:
    """Every signed head, oldest first."""
    return list(session.scalars(select(AuditTreeHead).order_by(AuditTreeHead.size)))


def leaf_positions(session: Session, entry_seqs: Iterable[int]) -> dict[int, int]:
    """The leaf position of each of the entries that are sealed."""
    seqs = list(entry_seqs)
    found: dict[int, int] = {}
    for start in range(0, len(seqs), 1000):
        rows = session.execute(
            select(AuditLeaf.entry_seq, AuditLeaf.position).where(
                AuditLeaf.entry_seq.in_(seqs[start : start + 1000])
            )
        )
        found.update({row.entry_seq: row.position for row in rows})
    return found


# Every column of an entry, in the table's order.
COLUMNS = tuple(AuditEvent.__table__.columns)


@dataclass(frozen=True, slots=True)
class StoredLeaf:
    """A leaf as kept: its position, the entry it names and the hash kept for it; the entry
    (None: deleted) with its columns as stored (the driver's values, before any type of ours
    reads them)."""

    position: int
    entry_seq: int
    leaf_hash: str | None
    event: AuditEvent | None
    stored: Sequence[Any]


def _as_stored() -> list[Any]:
    """Every column of an entry as the driver reads it, none of our types in between."""
    return [type_coerce(column, NullType()).label(f"stored_{column.key}") for column in COLUMNS]


def stream_leaves(session: Session, batch: int = 2000) -> Generator[StoredLeaf]:
    """Every leaf in tree order, fetched in batches; close the iterator when stopping early."""
    stored = _as_stored()
    statement = (
        select(AuditLeaf.position, AuditLeaf.entry_seq, AuditTreeNode.hash, AuditEvent, *stored)
        .select_from(AuditLeaf)
        .outerjoin(AuditEvent, AuditEvent.seq == AuditLeaf.entry_seq)
        .outerjoin(
            AuditTreeNode,
            and_(AuditTreeNode.level == 0, AuditTreeNode.position == AuditLeaf.position),
        )
        .order_by(AuditLeaf.position)
        .execution_options(yield_per=batch)
    )
    result = session.execute(statement)
    try:
        for row in result:
            yield StoredLeaf(row[0], row[1], row[2], row[3], tuple(row[4:]))
    finally:
        result.close()


def stream_unsealed(
    session: Session, batch: int = 2000
) -> Generator[tuple[AuditEvent, Sequence[Any]]]:
    """The entries waiting for the sealer, each with its columns as stored."""
    _, last = tree_end(session)
    statement = (
        select(AuditEvent, *_as_stored())
        .where(*_after(last))
        .order_by(AuditEvent.seq)
        .execution_options(yield_per=batch)
    )
    result = session.execute(statement)
    try:
        for row in result:
            yield row[0], tuple(row[1:])
    finally:
        result.close()


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def search(
    session: Session,
    *,
    patient_id: uuid.UUID | None = None,
    merged_ids: Sequence[uuid.UUID] = (),
    actor: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    purpose: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> Sequence[AuditEvent]:
    """Entries, newest first, filtered; `before_seq` pages backwards. A patient's entries are
    those of the records merged into theirs (`merged_ids`) too."""
    conditions: list[ColumnElement[bool]] = []
    if patient_id is not None:
        conditions.append(AuditEvent.patient_id.in_([patient_id, *merged_ids]))
    if actor:
        conditions.append(AuditEvent.actor == actor)
    if action:
        conditions.append(AuditEvent.action == action)
    if outcome:
        conditions.append(AuditEvent.outcome == outcome)
    if purpose:
        conditions.append(AuditEvent.purpose == purpose)
    if start:
        conditions.append(AuditEvent.occurred_at >= start)
    if end:
        conditions.append(AuditEvent.occurred_at < end)
    if before_seq is not None:
        conditions.append(AuditEvent.seq < before_seq)
    statement = select(AuditEvent).where(*conditions).order_by(AuditEvent.seq.desc()).limit(limit)
    return session.scalars(statement).all()


def accounts_named(session: Session, usernames: Iterable[str]) -> list[User]:
    """The accounts, active or not, of any issuer, that have one of the usernames."""
    names = sorted(set(usernames))
    found: list[User] = []
    for start in range(0, len(names), 1000):
        statement = select(User).where(User.username.in_(names[start : start + 1000]))
        found.extend(session.scalars(statement))
    return found


def organisations_by_code(session: Session, codes: Iterable[str]) -> dict[str, Organisation]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    statement = select(Organisation).where(Organisation.code.in_(wanted))
    return {organisation.code: organisation for organisation in session.scalars(statement)}
