from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.access.models import User
from app.config import get_settings
from app.counselling import repository as counselling
from app.counselling.models import Visit
from app.counselling.service import outcome_of
from app.fhir_sync.models import FhirLink, FhirRefusal, SyncCursor
from app.fhir_sync.resources import Booking, RecordedVisit, ReferralRecords
from app.kit.clock import utcnow
from app.kit.pagination import beyond
from app.organisations import service as organisations
from app.organisations.models import CounsellingService
from app.patients import protection
from app.patients.models import Patient
from app.referrals.models import Referral
from app.referrals.states import Status
from app.scheduling.models import Appointment, Slot


def lock_referral(session: Session, referral_id: uuid.UUID) -> None:
    """One publisher per referral at a time, so the region sees its states in commit order.
    (SQLite has one writer anyway.)"""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"fhir-sync:{referral_id}"},
        )


def records(session: Session, referral_id: uuid.UUID) -> ReferralRecords | None:
    """Everything published about a referral, as it is now."""
    referral = session.get(Referral, referral_id)
    if referral is None:
        return None
    patient = session.get(Patient, referral.patient_id)
    service = session.get(CounsellingService, referral.service_id)
    assert patient is not None
    assert service is not None
    region = organisations.region_code(session)
    bookings = session.execute(
        select(Appointment, Slot, User)
        .join(Slot, Slot.id == Appointment.slot_id)
        .join(User, User.id == Appointment.counsellor_id)
        .where(Appointment.referral_id == referral_id)
        .order_by(Appointment.start_at, Appointment.id)
    ).all()
    every_visit = counselling.visits(session, referral_id)
    by_id = {visit.id: visit for visit in every_visit}

    def recorded(current: Visit) -> RecordedVisit:
        """The visit named by its first version, with the versions it corrected."""
        earlier: list[Visit] = []
        version = current
        while version.supersedes_id in by_id:
            version = by_id[version.supersedes_id]
            earlier.insert(0, version)
        return RecordedVisit(current, version.id, tuple(earlier))

    completed = referral.status == Status.completed
    plan = counselling.plan(session, referral_id, None)
    named = {referral.referrer_subject, *(visit.counsellor_subject for visit in every_visit)}
    named |= {row.User.username for row in bookings}
    if plan is not None:
        named.add(plan.author_subject)
    return ReferralRecords(
        referral=referral,
        patient=patient,
        hetu=(
            protection.unseal(patient.hetu_ciphertext, patient.id)
            if patient.hetu_ciphertext is not None
            else None
        ),
        temporary_id=(
            protection.unseal_temporary(patient.temporary_id_ciphertext, patient.id)
            if patient.temporary_id_ciphertext is not None
            else None
        ),
        service=service,
        region_code=region,
        bookings=[Booking(*row) for row in bookings],
        visits=[recorded(v) for v in every_visit if not v.corrected],
        plan=plan,
        outcome=outcome_of(session, referral) if completed else None,
        custodian_id=get_settings().fhir_custodian_id,
        referrer_organisation_oid=organisations.oid_of(session, referral.referrer_organisation),
        **_directory(session, named),
    )


def _directory(session: Session, usernames: set[str]) -> dict[str, dict[str, str]]:
    """The Terhikki numbers and the professions of the named users who have them, as their
    accounts hold them (the same for every referral that names them)."""
    statement = select(User.username, User.register_number, User.profession).where(
        User.username.in_(usernames)
    )
    numbers: dict[str, str] = {}
    professions: dict[str, str] = {}
    for username, number, profession in session.execute(statement):
        if number:
            numbers[username] = number
        if profession:
            professions[username] = profession
    return {"register_numbers": numbers, "professions": professions}


def links(session: Session, referral_id: uuid.UUID) -> dict[tuple[str, uuid.UUID], FhirLink]:
    statement = select(FhirLink).where(FhirLink.referral_id == referral_id)
    return {(link.resource_type, link.askel_key): link for link in session.scalars(statement)}


def link_for(session: Session, resource_type: str, key: uuid.UUID) -> FhirLink | None:
    """A link another referral may have made: the patient, a counsellor's schedule, a slot."""
    statement = select(FhirLink).where(
        FhirLink.resource_type == resource_type, FhirLink.askel_key == key
    )
    return session.scalars(statement).first()


def add_link(session: Session, link: FhirLink) -> FhirLink:
    """Keep a new link; when another worker kept one for the same resource meanwhile (a patient
    or a schedule shared by two referrals), theirs stands and is returned."""
    try:
        with session.begin_nested():
            session.add(link)
    except IntegrityError:
        existing = link_for(session, link.resource_type, link.askel_key)
        assert existing is not None
        return existing
    return link


def is_ours(session: Session, resource_type: str, peer_id: str) -> bool:
    """Whether Askel wrote the resource (a poll must not take Askel's own Tasks for new)."""
    statement = select(FhirLink.id).where(
        FhirLink.resource_type == resource_type, FhirLink.peer_id == peer_id
    )
    return session.scalars(statement.limit(1)).first() is not None


def cursor(session: Session, name: str) -> str | None:
    found = session.get(SyncCursor, name)
    return found.value if found else None


def move_cursor(session: Session, name: str, value: str) -> None:
    found = session.get(SyncCursor, name)
    if found is None:
        session.add(SyncCursor(name=name, value=value))
    else:
        found.value = value
    session.flush()


def record_refusal(session: Session, task_reference: str, code: str, reason: str | None) -> None:
    """Keep why a region Task was not taken; a Task refused again (the region changed it, and
    it still cannot be taken) updates its row."""
    found = session.scalars(
        select(FhirRefusal).where(FhirRefusal.task_reference == task_reference)
    ).first()
    if found is None:
        session.add(FhirRefusal(task_reference=task_reference, code=code, reason=reason))
    else:
        found.code, found.reason, found.times = code, reason, found.times + 1
        found.last_refused_at = utcnow()
    session.flush()


def refusals(
    session: Session, limit: int, after: tuple[datetime, int] | None = None
) -> list[FhirRefusal]:
    """The refused region Tasks, last refused first (after `after`: last refused at, id)."""
    statement = select(FhirRefusal)
    if after is not None:
        refused_at, refusal_id = after
        statement = statement.where(
            beyond(
                (FhirRefusal.last_refused_at, refused_at, True), (FhirRefusal.id, refusal_id, True)
            )
        )
    statement = statement.order_by(FhirRefusal.last_refused_at.desc(), FhirRefusal.id.desc())
    return list(session.scalars(statement.limit(limit)))
