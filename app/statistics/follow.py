"""The statistics facts follow the writes, after commit. A transaction that adds or changes a
referral, its events, appointments or visits, or a patient (all of the patient's referrals)
notes those referrals as it commits, one row each in `statistics_stale_referrals`: cheap, and in
the same transaction, so the note exists exactly when the change does. `askel worker` and
`askel serve` make the noted referrals' facts again within seconds (`run_forever`), many
referrals in one transaction, and remove their notes.

The notes are a table of their own rather than outbox events: the outbox publishes each
aggregate's events in order, one at a time, and keeps them; a note holds nothing back and waits
for nothing (a referral's dead-lettered FHIR event never delays its statistics), and however many
transactions noted a referral, one refresh answers them all.

Writers only ever add notes, never lock one. A refresh claims notes first (`FOR UPDATE SKIP
LOCKED`, so several workers share the work), then locks the referrals as every writer does
(`facts.refresh`). A note is visible to the claim only once its transaction has committed, and
each later statement of the refresh reads what had committed by its start: the facts made are
never older than the changes whose notes are removed.

The note-taking is three steps of the commit pipeline (`app.flows.commit`): `note_touched` after
each flush, `note_on_commit` before the commit, `forget_at_end` at the transaction's end. The app
factory and the command line install the pipeline (the ground floor, `app.db` and the tables it
maps, imports none of it)."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from app.counselling.models import Visit
from app.db import Database
from app.kit.clock import utcnow
from app.patients.models import Patient
from app.referrals.models import Referral, ReferralEvent
from app.scheduling.models import Appointment
from app.statistics import facts
from app.statistics.models import StaleReferral

log = logging.getLogger("askel.statistics")

# Notes claimed by one refresh (the referrals are fewer when some have several): large enough
# to make a burst of writes cheap, small enough that the referrals' locks (on SQLite the
# database's write lock) are held briefly: about 0.1 s for 100 referrals.
BATCH = 100
_TOUCHED = "askel.statistics.touched"


def note_touched(session: Session, _flush: UOWTransaction) -> None:
    """The referrals whose facts this flush may change, and the patients whose may."""
    referrals: set[uuid.UUID] = set()
    patients: set[uuid.UUID] = set()
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Referral):
            referrals.add(instance.id)
        elif isinstance(instance, Visit | Appointment | ReferralEvent):
            referrals.add(instance.referral_id)
        elif isinstance(instance, Patient) and instance not in session.new:
            patients.add(instance.id)
    if referrals or patients:
        touched = session.info.setdefault(_TOUCHED, (set(), set()))
        touched[0].update(referrals)
        touched[1].update(patients)


def note(executor: Session | Connection, referral_ids: Iterable[uuid.UUID]) -> None:
    """Note these referrals' facts as behind their records, in the caller's transaction (for a
    write the listeners do not see: a Core statement on their records)."""
    now = utcnow()
    rows = [{"referral_id": referral, "touched_at": now} for referral in sorted(set(referral_ids))]
    if rows:
        executor.execute(insert(StaleReferral), rows)


def _note_touched_at_commit(session: Session) -> None:
    """Note the referrals this transaction has touched, once each. (One touched in a savepoint
    later rolled back is refreshed unchanged.)"""
    session.flush()
    referrals, patients = session.info.pop(_TOUCHED, (set(), set()))
    if not referrals and not patients:
        return
    # Core statements on the session's connection: they see what was flushed and start no flush.
    connection = session.connection()
    if patients:
        # A referral of theirs sent meanwhile is noted by its own transaction, and its refresh
        # waits for the patient's row: it reads the patient as this transaction leaves them.
        referrals |= set(
            connection.scalars(select(Referral.id).where(Referral.patient_id.in_(patients)))
        )
    note(connection, referrals)


def note_on_commit(session: Session) -> None:
    """Note what the transaction's flushes touched, as it commits."""
    if not session.in_nested_transaction():  # a savepoint's release is not the commit
        _note_touched_at_commit(session)


def forget_at_end(session: Session, ended: SessionTransaction) -> None:
    """What a transaction touched goes with it (noted if it committed, else forgotten)."""
    if ended.parent is None:
        session.info.pop(_TOUCHED, None)


def refresh_due(executor: Session | Connection, limit: int = BATCH) -> int:
    """Make again the facts of the referrals of up to `limit` notes, the oldest first, with the
    other notes of those referrals, in the caller's transaction; remove the notes. The number
    of referrals refreshed (0: none was waiting, or every waiting one is another's)."""
    claimed = executor.execute(
        select(StaleReferral.id, StaleReferral.referral_id)
        .order_by(StaleReferral.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not claimed:
        return 0
    referrals = {row.referral_id for row in claimed}
    notes = {row.id for row in claimed}
    # Their later notes too: one refresh answers them all.
    notes.update(
        executor.scalars(
            select(StaleReferral.id)
            .where(StaleReferral.referral_id.in_(referrals), StaleReferral.id.not_in(notes))
            .with_for_update(skip_locked=True)
        )
    )
    executor.execute(delete(StaleReferral).where(StaleReferral.id.in_(notes)))
    facts.refresh(executor, referrals)
    return len(referrals)


def catch_up(database: Database, *, batch: int = BATCH) -> int:
    """Refresh every noted referral, `batch` notes at a time, each batch in a transaction of its
    own; the number of referrals refreshed."""
    refreshed = 0
    # Looked at first in a read session: on SQLite a write transaction locks out every writer.
    while _waiting(database):
        with database.write_sessions() as session, session.begin():
            done = refresh_due(session, batch)
        if not done:  # what waits is being refreshed by another worker
            break
        refreshed += done
    return refreshed


def _waiting(database: Database) -> bool:
    with database.read_sessions() as session:
        return session.scalar(select(StaleReferral.id).limit(1)) is not None


def run_forever(database: Database, stop: threading.Event, *, poll_seconds: float = 1.0) -> None:
    """Keep the facts current until `stop` is set: every noted referral refreshed, then a look
    again after `poll_seconds`."""
    while not stop.is_set():
        try:
            catch_up(database)
        except Exception:
            log.exception("refreshing the statistics facts failed")
        stop.wait(poll_seconds)


def start(
    database: Database, stop: threading.Event, *, poll_seconds: float = 1.0
) -> threading.Thread:
    """`run_forever` in a thread of its own, until `stop` is set."""
    thread = threading.Thread(
        target=run_forever,
        args=(database, stop),
        kwargs={"poll_seconds": poll_seconds},
        name="statistics-facts",
        daemon=True,
    )
    thread.start()
    return thread


@dataclass(frozen=True, slots=True)
class Lag:
    """How far the facts are behind the records."""

    referrals: int
    oldest_at: datetime | None

    def seconds(self, now: datetime) -> float:
        """Age of the oldest note; 0 when none waits."""
        return max((now - self.oldest_at).total_seconds(), 0.0) if self.oldest_at else 0.0


def lag(session: Session) -> Lag:
    """The referrals waiting for a refresh, and when the oldest note was written."""
    referrals, oldest = session.execute(
        select(func.count(StaleReferral.referral_id.distinct()), func.min(StaleReferral.touched_at))
    ).one()
    return Lag(referrals=int(referrals), oldest_at=oldest)
