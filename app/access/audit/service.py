"""Writing and verifying the audit log.

`record` is called explicitly inside the business transaction, so an entry exists exactly when
the change it describes was committed. The entries wait in the session until it commits, and
are linked into the chain then: the chain's lock, which every writer needs, is the last lock a
transaction takes and is held only while it commits, so it neither orders nor delays the
transaction's other locks. Each entry's `hash` is an HMAC, under a key kept outside
the database, over its predecessor's hash and its own fields: editing, deleting or reordering
rows breaks the chain. (Cutting off the newest rows is caught only against an exported anchor.)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session, SessionTransaction

from app.access.audit import repository
from app.access.audit.models import AuditAction, AuditEvent, AuditOutcome
from app.access.principal import Principal
from app.config import get_settings
from app.kit.clock import utcnow
from app.kit.crypto import derive_key
from app.kit.request_context import current_request_id

GENESIS = "0" * 64


@cache
def _chain_key() -> bytes:
    return derive_key(get_settings().audit_key.get_secret_value(), "askel audit chain v1")


def _chain_hash(prev_hash: str, event: AuditEvent) -> str:
    fields = [
        event.seq,
        event.occurred_at.isoformat(),
        event.request_id,
        event.actor,
        event.actor_roles,
        event.actor_organisation,
        str(event.patient_id) if event.patient_id else None,
        event.action,
        event.resource_type,
        event.resource_id,
        event.outcome,
    ]
    if event.purpose is not None:
        # Entries from before purposes were recorded keep their original hash.
        fields.append(event.purpose)
    if event.recipient is not None:
        # Tagged, so that a recipient can never pass for a purpose or the other way round.
        fields.append({"recipient": event.recipient})
    if event.actor_issuer is not None:
        fields.append({"issuer": event.actor_issuer})
    message = prev_hash + json.dumps(fields, separators=(",", ":"))
    return hmac.new(_chain_key(), message.encode(), hashlib.sha256).hexdigest()


def record(
    session: Session,
    *,
    actor: Principal | None,
    action: AuditAction,
    resource_type: str,
    resource_id: str | uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    outcome: AuditOutcome = AuditOutcome.success,
    recipient: str | None = None,
) -> AuditEvent:
    """Append one entry to the chain in the caller's transaction."""
    return record_many(
        session,
        actor=actor,
        action=action,
        resource_type=resource_type,
        accesses=[(resource_id, patient_id)],
        outcome=outcome,
        recipient=recipient,
    )[0]


def record_many(
    session: Session,
    *,
    actor: Principal | None,
    action: AuditAction,
    resource_type: str,
    accesses: Sequence[tuple[str | uuid.UUID | None, uuid.UUID | None]],
    outcome: AuditOutcome = AuditOutcome.success,
    recipient: str | None = None,
) -> list[AuditEvent]:
    """One entry per (resource id, patient id), e.g. for each row of a list shown. They join
    the chain when the transaction commits (or at `append_pending`), all with one look-up of
    the chain's end and one insert."""
    # Microseconds are what both databases keep; the hash must survive a round trip.
    now = utcnow()
    events = [
        AuditEvent(
            occurred_at=now,
            request_id=current_request_id(),
            actor=actor.subject if actor else None,
            actor_roles=actor.role_names if actor else None,
            actor_organisation=actor.organisation if actor else None,
            actor_issuer=actor.issuer if actor else None,
            purpose=actor.purpose if actor else None,
            patient_id=patient_id,
            action=action,
            resource_type=resource_type,
            resource_id=str(resource_id) if resource_id else None,
            outcome=outcome,
            recipient=recipient,
        )
        for resource_id, patient_id in accesses
    ]
    if events:
        if not session.in_transaction():
            # Begun now, so that its rollback forgets them even if nothing reached the database.
            session.begin()
        pending: list[_Pending] = session.info.setdefault(_PENDING, [])
        pending.append(_Pending(session.get_nested_transaction(), events))
    return events


@dataclass(frozen=True, slots=True)
class _Pending:
    """Entries waiting for the commit, with the savepoint they were recorded in (None: the
    transaction itself): rolling that savepoint back forgets them."""

    savepoint: SessionTransaction | None
    events: list[AuditEvent]


_PENDING = "askel.audit.pending"


def append_pending(session: Session) -> None:
    """Link the entries recorded in this transaction into the chain and write them."""
    pending: list[_Pending] = session.info.pop(_PENDING, [])
    events = [event for batch in pending for event in batch.events]
    if not events:
        return
    # Everything else is written first, so its locks are taken before the chain's.
    session.flush()
    repository.lock_chain(session)
    last = repository.last_link(session)
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    for event in events:
        event.seq, event.prev_hash = seq, prev_hash
        event.hash = prev_hash = _chain_hash(prev_hash, event)
        seq += 1
    repository.add_all(session, events)


@orm_event.listens_for(Session, "before_commit")
def _append_on_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's release is not the commit
        append_pending(session)


@orm_event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, rolled_back: SessionTransaction) -> None:
    # A failed flush rolls back its own inner transaction, which undoes the savepoint or
    # transaction around it: what is forgotten is what that one undid.
    undone = rolled_back
    while undone.parent is not None and not undone.nested:
        undone = undone.parent
    pending: list[_Pending] = session.info.get(_PENDING, [])
    if undone.nested:
        pending[:] = [batch for batch in pending if not _inside(batch.savepoint, undone)]
    else:
        pending.clear()


@orm_event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, ended: SessionTransaction) -> None:
    if ended.parent is None:  # the transaction is over, however it ended
        session.info.pop(_PENDING, None)


def _inside(savepoint: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while savepoint is not None:
        if savepoint is outer:
            return True
        savepoint = savepoint.parent
    return False


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Anchor:
    """The chain's head at some moment, kept outside the database: with it, even cutting off
    the newest entries is caught."""

    seq: int
    hash: str


def anchor(session: Session) -> Anchor | None:
    last = repository.last_link(session)
    return Anchor(*last) if last else None


def verify(
    session: Session,
    progress: Callable[[int], None] | None = None,
    anchored: Anchor | None = None,
) -> ChainReport:
    """Walk the chain from the first entry; report the first entry that does not fit, or,
    against an anchor, a chain that no longer reaches it."""
    dialect = session.get_bind().dialect
    with closing(repository.stream_in_order(session)) as entries:
        report = _walk(entries, dialect, progress, anchored)
    if report.ok and anchored is not None and report.checked < anchored.seq:
        return ChainReport(
            False, report.checked, report.checked + 1, "entries up to the anchor are missing"
        )
    return report


def _as_written(event: AuditEvent, stored: Sequence[Any], dialect: Dialect) -> bool:
    """Whether every column holds exactly what Askel writes for the value the chain hashed.
    Each value is hashed as read back, and reading forgives forms the database compares as
    different: an identifier in upper case, a time written another way, would fall out of a
    patient's access report while hashing the same."""
    for column, found in zip(repository.COLUMNS, stored, strict=True):
        value = getattr(event, column.key)
        write = column.type.dialect_impl(dialect).bind_processor(dialect)
        written = value if write is None or value is None else write(value)
        if isinstance(written, str):
            written = str(written)  # an enum member written is its text
        if type(found) is not type(written) or found != written:
            return False
    return True


def _walk(
    entries: Iterator[tuple[AuditEvent, Sequence[Any]]],
    dialect: Dialect,
    progress: Callable[[int], None] | None,
    anchored: Anchor | None,
) -> ChainReport:
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    for event, stored in entries:
        if event.seq != expected_seq:
            return ChainReport(False, checked, expected_seq, "an entry is missing")
        if event.prev_hash != prev_hash:
            return ChainReport(
                False, checked, event.seq, "the link to the previous entry is broken"
            )
        if not hmac.compare_digest(event.hash, _chain_hash(prev_hash, event)):
            return ChainReport(False, checked, event.seq, "the entry has been altered")
        if not _as_written(event, stored, dialect):
            return ChainReport(False, checked, event.seq, "the entry's stored form is altered")
        if anchored is not None and event.seq == anchored.seq and event.hash != anchored.hash:
            return ChainReport(False, checked, event.seq, "the entry differs from the anchor")
        checked += 1
        expected_seq, prev_hash = event.seq + 1, event.hash
        if progress is not None:
            progress(1)
    return ChainReport(True, checked)
