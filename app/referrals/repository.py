from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, false, or_, select, union
from sqlalchemy.orm import Session, SessionTransaction, load_only

from app.access.permissions import Permission, has_permission
from app.access.principal import Principal
from app.kit.clock import HELSINKI
from app.kit.pagination import beyond
from app.patients.models import Patient
from app.referrals.models import ReasonCode, Referral, ReferralEvent


def get(session: Session, referral_id: uuid.UUID) -> Referral | None:
    return session.get(Referral, referral_id)


def lock_for_change(executor: Session | Connection, referral_ids: Iterable[uuid.UUID]) -> None:
    """Lock referrals for a change to them or to their records (events, appointments, visits,
    statistics facts): their patients' rows shared, so that the patient's details cannot change
    while the change is made, then the referrals' rows, so that changes to one referral follow
    each other. Every writer takes these first and in this order (patients, then referrals,
    each in id order; counsellors' booking locks after; the audit log takes none), so that
    no two writers wait for each other. PostgreSQL only: SQLite has one writer at a time."""
    ids = sorted(set(referral_ids))
    if not ids or not _locks_rows(executor):
        return
    patients = select(Referral.patient_id).where(Referral.id.in_(ids))
    executor.execute(
        select(Patient.id)
        .where(Patient.id.in_(patients))
        .order_by(Patient.id)
        .with_for_update(read=True)
    )
    # Not a key lock: appointments and visits can still reference the referral meanwhile.
    executor.execute(
        select(Referral.id).where(Referral.id.in_(ids)).order_by(Referral.id)
        .with_for_update(key_share=True)
    )  # fmt: skip


def _locks_rows(executor: Session | Connection) -> bool:
    dialect = executor.get_bind().dialect if isinstance(executor, Session) else executor.dialect
    return dialect.name == "postgresql"


# The referrals a session's transactions have locked for a change, each with the (sub)transaction
# that locked it: a savepoint rolled back lets go of the locks taken in it.
_LOCKED = "askel.referrals.locked"


def read_for_change(session: Session, referral_id: uuid.UUID) -> Referral | None:
    """The referral locked for a change to it or its records (`lock_for_change`'s order: its
    patient's row, then its own) and read by the statement that locks its row, which PostgreSQL
    answers with the row's newest committed version once the lock is taken; None if there is
    none. The patient is found from the referral in the statement that locks the patient (a
    referral never changes patients), so no read comes first. Once per transaction: a referral
    it has locked stays locked until it ends. On SQLite a plain read: the one writer's reads
    are current."""
    if not _locks_rows(session):
        return get(session, referral_id)
    locked: dict[uuid.UUID, SessionTransaction] = session.info.setdefault(_LOCKED, {})
    holder = locked.get(referral_id)
    if holder is not None and holder.is_active:
        return get(session, referral_id)
    patient = select(Referral.patient_id).where(Referral.id == referral_id).scalar_subquery()
    session.execute(select(Patient.id).where(Patient.id == patient).with_for_update(read=True))
    statement = (
        select(Referral)
        .where(Referral.id == referral_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    current = session.scalars(statement).one_or_none()
    transaction = session.get_nested_transaction() or session.get_transaction()
    if current is not None and transaction is not None:
        locked[referral_id] = transaction
    return current


def by_source_identifier(session: Session, source: str) -> Referral | None:
    statement = select(Referral).where(Referral.source_identifier == source)
    return session.scalars(statement).first()


def add(session: Session, referral: Referral) -> Referral:
    session.add(referral)
    session.flush()
    return referral


def add_event(session: Session, event: ReferralEvent) -> None:
    session.add(event)
    session.flush()


def events(session: Session, referral_id: uuid.UUID) -> Sequence[ReferralEvent]:
    statement = (
        select(ReferralEvent)
        .where(ReferralEvent.referral_id == referral_id)
        .order_by(ReferralEvent.occurred_at, ReferralEvent.id)
    )
    return session.scalars(statement).all()


def _ways_to_see(principal: Principal) -> list[ColumnElement[bool]]:
    """Each way the caller may see a referral (the same rule as `policies.can_read`)."""
    ways: list[ColumnElement[bool]] = []
    if has_permission(principal, Permission.referral_triage) and principal.service_id:
        ways.append(Referral.service_id == principal.service_id)
    if has_permission(principal, Permission.referral_send):
        ways.append(Referral.referrer_id == principal.user_id)
        ways.append(Referral.referrer_organisation == principal.organisation)
    return ways


def readable(principal: Principal) -> ColumnElement[bool]:
    """The referrals the caller may see, as one condition: every list starts from it."""
    ways = _ways_to_see(principal)
    return or_(*ways) if ways else false()


def of_patient(session: Session, patient_id: uuid.UUID) -> list[Referral]:
    statement = select(Referral).where(Referral.patient_id == patient_id).order_by(Referral.id)
    return list(session.scalars(statement))


def in_care_of(session: Session, principal: Principal, patient_id: uuid.UUID) -> bool:
    """Whether the caller may see a referral of the patient: their care relationship."""
    statement = select(Referral.id).where(Referral.patient_id == patient_id, readable(principal))
    return session.scalars(statement.limit(1)).first() is not None


@dataclass(frozen=True, slots=True)
class WorklistFilter:
    statuses: list[str] | None = None
    urgency: str | None = None
    created_from: date | None = None
    created_to: date | None = None
    booking_by_service: bool | None = None
    patient_id: uuid.UUID | None = None
    # Newest first, whatever the urgency (a referrer's list of what they sent).
    newest_first: bool = False
    # The last row's sort key (its priority left out of the newest-first order).
    after: tuple[int, datetime, uuid.UUID] | None = None


def worklist(
    session: Session, principal: Principal, where: WorklistFilter, limit: int
) -> Sequence[Row[Referral, Patient]]:
    """One page, urgent first and newest first, with each referral's patient: one query."""
    conditions: list[ColumnElement[bool]] = []
    if where.statuses:
        conditions.append(Referral.status.in_(where.statuses))
    if where.urgency:
        conditions.append(Referral.urgency == where.urgency)
    if where.created_from:
        conditions.append(Referral.created_at >= _start_of(where.created_from))
    if where.created_to:
        conditions.append(Referral.created_at < _start_of(where.created_to, days=1))
    if where.booking_by_service is not None:
        conditions.append(Referral.booking_by_service.is_(where.booking_by_service))
    if where.patient_id is not None:
        conditions.append(Referral.patient_id == where.patient_id)
    if where.after:
        priority, created_at, referral_id = where.after
        key = [(Referral.created_at, created_at, True), (Referral.id, referral_id, True)]
        if not where.newest_first:
            key.insert(0, (Referral.priority, priority, False))
        conditions.append(beyond(*key))
    order: tuple[ColumnElement[Any], ...] = (Referral.created_at.desc(), Referral.id.desc())
    if not where.newest_first:
        order = (Referral.priority.asc(), *order)
    # Each way of seeing referrals walks its own index in the list's order and stops after a
    # page; the page is the first of their union. (One OR over them would sort every referral
    # of a busy health station for each page.)
    pages = [
        select(Referral.id).where(way, *conditions).order_by(*order).limit(limit).subquery()
        for way in _ways_to_see(principal)
    ]
    if not pages:
        return []
    candidates = union(*(select(page.c.id) for page in pages)).subquery()
    statement = (
        select(Referral, Patient)
        .join(Patient, Referral.patient_id == Patient.id)
        # Only what the worklist shows: not the identity code's hash or ciphertext.
        .options(
            load_only(
                Patient.id,
                Patient.given_name,
                Patient.family_name,
                Patient.birth_date,
                Patient.language,
            )
        )
        .where(Referral.id.in_(select(candidates.c.id)))
        .order_by(*order)
        .limit(limit)
    )
    return session.execute(statement).all()


def _start_of(day: date, days: int = 0) -> datetime:
    """Midnight in Helsinki: dates in filters are the users' local dates."""
    return datetime.combine(day + timedelta(days=days), datetime.min.time(), HELSINKI)


def valid_reason(session: Session, kind: str, code: str, on: date) -> ReasonCode | None:
    statement = select(ReasonCode).where(
        ReasonCode.kind == kind,
        ReasonCode.code == code,
        ReasonCode.valid_from <= on,
        or_(ReasonCode.valid_until.is_(None), ReasonCode.valid_until >= on),
    )
    return session.scalars(statement).first()


def valid_reasons(session: Session, kind: str | None, on: date) -> Sequence[ReasonCode]:
    statement = select(ReasonCode).where(
        ReasonCode.valid_from <= on,
        or_(ReasonCode.valid_until.is_(None), ReasonCode.valid_until >= on),
    )
    if kind:
        statement = statement.where(ReasonCode.kind == kind)
    return session.scalars(statement.order_by(ReasonCode.kind, ReasonCode.code)).all()
