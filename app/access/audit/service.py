"""Writing and verifying the audit log.

`record` is called explicitly inside the business transaction, so an entry exists exactly when
the change it describes was committed: it is an ordinary insert, and takes no lock any other
request needs. The sealer (`sealing.py`) later makes committed entries leaves of the log's
Merkle tree under signed heads; `verify` checks the tree against those heads and the entries'
stored form, and the HMAC chain of the entries written before the tree, which are its first
leaves.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.orm import Session

from app.access.audit import merkle, repository, sealing
from app.access.audit.models import AuditAction, AuditEvent, AuditOutcome, AuditTreeHead
from app.access.principal import Principal
from app.config import get_settings
from app.kit.clock import utcnow
from app.kit.crypto import derive_key
from app.kit.request_context import current_request_id

GENESIS = "0" * 64
# Entries wait for the sealer about a second; one unsealed longer than this is reported.
SEALING_DELAY = timedelta(minutes=1)


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
) -> None:
    """Write one entry in the caller's transaction."""
    record_many(
        session,
        actor=actor,
        action=action,
        resource_type=resource_type,
        accesses=[(resource_id, patient_id)],
        outcome=outcome,
        recipient=recipient,
    )


def record_on_patient(
    session: Session,
    actor: Principal | None,
    action: AuditAction,
    resource_type: str,
    patient_id: uuid.UUID,
    *,
    recipient: str | None = None,
) -> None:
    """One entry on a record the patient's own id names (the patient, their guardians, their
    protected details, their access report), in the caller's transaction."""
    record(
        session,
        actor=actor,
        action=action,
        resource_type=resource_type,
        resource_id=patient_id,
        patient_id=patient_id,
        recipient=recipient,
    )


def record_many(
    session: Session,
    *,
    actor: Principal | None,
    action: AuditAction,
    resource_type: str,
    accesses: Sequence[tuple[str | uuid.UUID | None, uuid.UUID | None]],
    outcome: AuditOutcome = AuditOutcome.success,
    recipient: str | None = None,
) -> None:
    """One entry per (resource id, patient id), e.g. for each row of a list shown, written at
    once in one statement in the caller's transaction (a rollback takes them back with
    everything else)."""
    if not accesses:
        return
    # Microseconds are what both databases keep; the leaf must survive a round trip.
    now = utcnow()
    who = {
        "actor": actor.subject if actor else None,
        "actor_roles": actor.role_names if actor else None,
        "actor_organisation": actor.organisation if actor else None,
        "actor_issuer": actor.issuer if actor else None,
        "purpose": actor.purpose if actor else None,
    }
    repository.insert_entries(
        session,
        [
            {
                **who,
                "occurred_at": now,
                "request_id": current_request_id(),
                "patient_id": patient_id,
                "action": str(action),
                "resource_type": resource_type,
                "resource_id": str(resource_id) if resource_id else None,
                "outcome": str(outcome),
                "recipient": recipient,
            }
            for resource_id, patient_id in accesses
        ],
    )


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str | None = None
    # Entries written but not sealed after the sealing delay (the sealer is behind or down).
    overdue: int = 0


def verify(
    session: Session,
    progress: Callable[[int], None] | None = None,
    anchors: Sequence[AuditTreeHead] = (),
) -> ChainReport:
    """Walk the log in tree order: each entry's stored form, the hash chain of the entries
    written before the tree, and the tree rebuilt from the entries against every signed head
    (each signed with Askel's key, each consistent with the one before) and against `anchors`,
    heads kept outside the database. The first thing that does not fit is reported by the
    entry's number (`broken_at`)."""
    dialect = session.get_bind().dialect
    public = sealing.public_key_bytes()
    signed = repository.heads(session)
    for head in [*signed, *anchors]:
        if not sealing.head_is_signed(head, public):
            return ChainReport(
                False, 0, None, f"the tree head of size {head.size} is not signed by Askel's key"
            )
    in_order = sorted([*signed, *anchors], key=lambda head: head.size)
    with closing(repository.stream_leaves(session)) as leaves:
        report = _walk(leaves, dialect, progress, in_order)
    if not report.ok:
        return report
    # Not in the tree yet, but still what Askel wrote: no other form of a value it would hide.
    with closing(repository.stream_unsealed(session)) as waiting:
        for event, stored in waiting:
            if not _as_written(event, stored, dialect):
                return ChainReport(
                    False, report.checked, event.seq, "the entry's stored form is altered"
                )
    count, oldest = repository.unsealed(session)
    overdue = count if oldest is not None and utcnow() - oldest > SEALING_DELAY else 0
    return ChainReport(True, report.checked, overdue=overdue)


def _as_written(event: AuditEvent, stored: Sequence[Any], dialect: Dialect) -> bool:
    """Whether every column holds exactly what Askel writes for the value the leaf hashes.
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


class _Tree:
    """The tree rebuilt from the entries, leaf by leaf, in memory."""

    def __init__(self) -> None:
        self.size = 0
        self._nodes: dict[tuple[int, int], bytes] = {}

    def read(self, level: int, index: int) -> bytes:
        return self._nodes[(level, index)]

    def add(self, event: AuditEvent) -> None:
        leaf = merkle.leaf_hash(sealing.entry_bytes(event))
        for level, index, value in merkle.new_nodes(self.size, leaf, self.read):
            self._nodes[(level, index)] = value
        self.size += 1

    def root(self) -> str:
        return merkle.root(self.size, self.read).hex()


def _walk(
    leaves: Iterator[repository.StoredLeaf],
    dialect: Dialect,
    progress: Callable[[int], None] | None,
    heads: list[AuditTreeHead],
) -> ChainReport:
    tree, prev_hash, chain_seq, checked = _Tree(), GENESIS, 0, 0
    pending = iter(heads)
    head = next(pending, None)
    previous: AuditTreeHead | None = None

    def fail(seq: int | None, reason: str) -> ChainReport:
        return ChainReport(False, checked, seq, reason)

    for leaf in leaves:
        event = leaf.event
        if event is None:
            return fail(leaf.entry_seq, "an entry is missing")
        if leaf.position != tree.size:
            return fail(event.seq, "a leaf of the tree is missing")
        if not _as_written(event, leaf.stored, dialect):
            return fail(event.seq, "the entry's stored form is altered")
        if leaf.leaf_hash != merkle.leaf_hash(sealing.entry_bytes(event)).hex():
            return fail(event.seq, "the entry has been altered")
        if event.hash is not None:
            chain_seq += 1
            if event.seq != chain_seq:
                return fail(chain_seq, "an entry is missing")
            if event.prev_hash != prev_hash:
                return fail(event.seq, "the link to the previous entry is broken")
            if not hmac.compare_digest(event.hash, _chain_hash(prev_hash, event)):
                return fail(event.seq, "the entry has been altered")
            prev_hash = event.hash
        tree.add(event)
        while head is not None and head.size == tree.size:
            if head.root != tree.root():
                return fail(event.seq, f"the tree differs from its signed head of size {head.size}")
            if previous is not None and not _consistent(previous, head, tree):
                return fail(
                    event.seq, f"the head of size {head.size} does not extend the one before"
                )
            previous, head = head, next(pending, None)
        checked += 1
        if progress is not None:
            progress(1)
    if head is not None:
        return fail(None, f"entries up to the signed head of size {head.size} are missing")
    return ChainReport(True, checked)


def _consistent(older: AuditTreeHead, newer: AuditTreeHead, tree: _Tree) -> bool:
    proof = merkle.consistency_proof(older.size, newer.size, tree.read)
    return merkle.verify_consistency(
        older.size, newer.size, bytes.fromhex(older.root), bytes.fromhex(newer.root), proof
    )
