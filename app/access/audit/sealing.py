"""Sealing the audit log: committed entries become leaves of its Merkle tree, under a signed
tree head, the way transparency logs work (RFC 9162; AUDIT-LOG.md in the design notes).

A request only inserts its entries, in its own transaction, and takes no lock that other
requests need. The sealer — one at a time, from `askel worker` (and from `askel serve` on the
embedded default) — takes the entries that are final, in a stable order, gives each the next
leaf position, adds them to the tree and signs the new head:

- on PostgreSQL, in the order of the transactions that wrote them (`xact`), and only those
  written by transactions older than the oldest one still running: no entry that would come
  before them can still appear;
- on SQLite, whose writers take turns, in the order they were written (the sealer writes too,
  so it runs between writers and sees every committed entry).

The entries of the hash chain that came before the tree are its first leaves, in chain order.
A leaf is the entry's canonical form (`entry_bytes`): every column, as Askel writes it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy.orm import Session

from app.access.audit import merkle, repository
from app.access.audit.models import AuditEvent, AuditTreeHead
from app.config import get_settings
from app.kit.clock import utcnow
from app.kit.crypto import derive_key

if TYPE_CHECKING:
    from app.db import Database

log = logging.getLogger(__name__)
# Every column of an entry, by name, in the leaf.
ENTRY_FIELDS = tuple(column.key for column in AuditEvent.__table__.columns)
# At most this many entries per sealing transaction; the next pass takes the rest.
BATCH = 5000


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def entry_bytes(event: AuditEvent) -> bytes:
    """The entry as its leaf hashes it: a JSON object of every column, keys sorted, no spaces.
    The patient's access report gives it with each entry, so anyone can hash it again."""
    values = {name: _plain(getattr(event, name)) for name in ENTRY_FIELDS}
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@cache
def signing_key() -> Ed25519PrivateKey:
    """Derived from the audit secret, which is kept outside the database: whoever can write
    the database cannot sign a head."""
    secret = get_settings().audit_key.get_secret_value()
    return Ed25519PrivateKey.from_private_bytes(derive_key(secret, "askel audit tree heads v1"))


def public_key_bytes(key: Ed25519PublicKey | None = None) -> bytes:
    public = key or signing_key().public_key()
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


def head_message(size: int, root: str, signed_at: datetime) -> bytes:
    """What a head's signature covers."""
    return f"askel audit tree head v1\n{size}\n{root}\n{signed_at.isoformat()}\n".encode()


def sign_head(size: int, root: bytes, signed_at: datetime) -> AuditTreeHead:
    message = head_message(size, root.hex(), signed_at)
    return AuditTreeHead(
        size=size,
        root=root.hex(),
        signed_at=signed_at,
        key_id=key_id(public_key_bytes()),
        signature=signing_key().sign(message).hex(),
    )


def head_is_signed(head: AuditTreeHead, public: bytes) -> bool:
    """Whether the head's signature is the key's, over its size, root and time."""
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(
            bytes.fromhex(head.signature), head_message(head.size, head.root, head.signed_at)
        )
    except (InvalidSignature, ValueError):  # a wrong signature, or not one at all
        return False
    return True


def head_as_json(head: AuditTreeHead) -> dict[str, object]:
    """A signed head as exported (an anchor) and shown in access reports."""
    return {
        "size": head.size,
        "root": head.root,
        "signed_at": head.signed_at.isoformat(),
        "key_id": head.key_id,
        "signature": head.signature,
    }


def head_from_json(exported: dict[str, object]) -> AuditTreeHead:
    return AuditTreeHead(
        size=int(str(exported["size"])),
        root=str(exported["root"]),
        signed_at=datetime.fromisoformat(str(exported["signed_at"])),
        key_id=str(exported["key_id"]),
        signature=str(exported["signature"]),
    )


@dataclass(frozen=True, slots=True)
class SealResult:
    sealed: int
    head: AuditTreeHead | None


def _append(nodes: repository.TreeNodes, size: int, entries: Iterable[AuditEvent]) -> int:
    for entry in entries:
        leaf = merkle.leaf_hash(entry_bytes(entry))
        for level, index, value in merkle.new_nodes(size, leaf, nodes.read):
            nodes.keep(level, index, value)
        size += 1
    return size


def seal(session: Session, limit: int = BATCH, *, all_visible: bool = False) -> SealResult:
    """One pass, in the caller's transaction: the final entries not yet sealed (at most
    `limit`) become leaves, and a new signed head covers them. Another sealer at work (on
    PostgreSQL) makes this one a no-op. `all_visible` seals every entry the transaction sees,
    its own included: only where it is the one writer (the tests' single transaction)."""
    if not repository.take_sealing_turn(session):
        return SealResult(0, None)
    size, last = repository.tree_end(session)
    entries = repository.final_unsealed(session, last, limit, all_visible=all_visible)
    if not entries:
        return SealResult(0, None)
    nodes = repository.TreeNodes(session)
    new_size = _append(nodes, size, entries)
    repository.add_leaves(session, size, [entry.seq for entry in entries])
    nodes.write()
    head = sign_head(new_size, merkle.root(new_size, nodes.read), utcnow())
    repository.add_head(session, head)
    return SealResult(len(entries), head)


def seal_all(database: Database, wait: float = 0.0) -> int:
    """Seal everything final now, batch after batch, each in its own transaction; how many.
    With `wait`, keep at it (for at most that many seconds) until every entry written before
    the call is sealed: on PostgreSQL, one in the same cluster that began earlier and is still
    running holds them back until it ends."""
    with database.read_sessions() as session:
        newest = repository.newest_entry(session)
    deadline = time.monotonic() + wait
    total = 0
    while True:
        with database.write_sessions() as session, session.begin():
            sealed = seal(session).sealed
        total += sealed
        if sealed == BATCH:
            continue
        with database.read_sessions() as session:
            behind = newest is not None and repository.unsealed(session, up_to=newest)[0] > 0
        if not behind or time.monotonic() > deadline:
            return total
        time.sleep(0.05)


def seal_continuously(database: Database, stop: threading.Event, every: float = 1.0) -> None:
    """Seal what is final every `every` seconds until `stop` is set. One sealer works at a time
    however many run."""
    while not stop.is_set():
        try:
            seal_all(database)
        except Exception:
            log.exception("sealing the audit log failed")
        stop.wait(every)


@dataclass(frozen=True, slots=True)
class Inclusion:
    """Where an entry is in the tree of a signed head, and the proof of it."""

    position: int
    leaf: str
    path: list[str]


def inclusions(
    session: Session, events: Sequence[AuditEvent], head: AuditTreeHead
) -> dict[int, Inclusion]:
    """The inclusion proof of each of the events sealed under `head`, by entry number. The
    nodes every proof needs are read in one go: the proofs are first traced to learn which."""
    positions = repository.leaf_positions(session, [event.seq for event in events])
    under_head = {seq: pos for seq, pos in positions.items() if pos < head.size}
    wanted: set[tuple[int, int]] = set()

    def trace(level: int, index: int) -> bytes:
        wanted.add((level, index))
        return bytes(32)

    for position in under_head.values():
        merkle.inclusion_proof(position, head.size, trace)
    nodes = repository.TreeNodes(session)
    nodes.prefetch(wanted)
    return {
        event.seq: Inclusion(
            position=under_head[event.seq],
            leaf=entry_bytes(event).decode(),
            path=[
                h.hex()
                for h in merkle.inclusion_proof(under_head[event.seq], head.size, nodes.read)
            ],
        )
        for event in events
        if event.seq in under_head
    }
