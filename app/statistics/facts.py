"""Making the statistics facts from the records: `refresh` makes those of some referrals again
(the worker, for the referrals that writes have noted: see `follow`), `rebuild` makes them all
(after a bulk load, or when their definition changes)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, get_args

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    case,
    cast,
    delete,
    extract,
    func,
    insert,
    literal,
    null,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import expression

from app.access.principal import Profession
from app.classifications.avohilmo import OCCUPATIONS
from app.classifications.codes import AMMATTILUOKITUS, YHTEYSTAPA, of_system
from app.classifications.contact_modes import CONTACT_MODES, yhteystapa
from app.counselling.models import Visit
from app.counselling.repository import VISIT_ORDER
from app.i18n import Language
from app.kit.clock import utcnow
from app.organisations.models import Organisation, OrganisationKind
from app.patients.ages import AGE_BANDS
from app.patients.models import Patient
from app.referrals import repository as referral_repository
from app.referrals.models import Referral, ReferralEvent
from app.scheduling.models import Appointment
from app.statistics.models import FactBuild, RecordKey, ReferralFact, VisitFact
from app.statistics.perturbation import KEYS

log = logging.getLogger("askel.statistics")

# Raise when what the facts hold, or how it is worked out, changes: the next `askel db upgrade`
# (or start) rebuilds them.
FACTS_VERSION = 6


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """A closed set of values stored as 1, 2, … (0 for one outside the set, NULL for none)."""

    labels: tuple[str, ...]

    def code(self, value: Any) -> ColumnElement[int]:
        known = case({label: number for number, label in enumerate(self.labels, 1)}, value=value)
        return case((value.is_(None), None), else_=func.coalesce(known, 0))

    def code_through(self, value: Any, labels: dict[str, str]) -> ColumnElement[int]:
        """The code of the label each value maps to (0 for a value the map lacks)."""
        numbers = {label: number for number, label in enumerate(self.labels, 1)}
        known = case({key: numbers[label] for key, label in labels.items()}, value=value)
        return case((value.is_(None), None), else_=func.coalesce(known, 0))

    def label(self, code: int | None) -> str | None:
        if code is None:
            return None
        return self.labels[code - 1] if 0 < code <= len(self.labels) else "other"


CONTACT_TYPES = Vocabulary(CONTACT_MODES)
# THL's classifications, labelled by their codes (`app.classifications`).
THL_CONTACT_TYPES = Vocabulary(tuple(entry.code for entry in of_system(YHTEYSTAPA)))
# Ensikäynti: the referral's first visit, or a follow-up.
VISIT_ORDERS = Vocabulary(("first", "follow_up"))
THL_OCCUPATIONS = Vocabulary(tuple(entry.code for entry in of_system(AMMATTILUOKITUS)))
PROFESSIONS = Vocabulary(tuple(profession.value for profession in Profession))
FAMILY_VISITS = Vocabulary(("individual", "family"))
# The sex as recorded (FHIR administrative gender): "other" and "unknown" are groups of their own,
# listed in every table like the rest, so that an empty one tells nothing, and protected as any.
SEXES = Vocabulary(("female", "male", "other", "unknown"))
AGE_BAND_LABELS = Vocabulary(tuple(band for _, band in reversed(AGE_BANDS)))


# What the statistics call a value outside a grouping's own (a language without its column, a
# municipality outside the region): such a value would show in a table only when someone has it.
OTHER = "other"
LANGUAGES: tuple[str, ...] = get_args(Language)


def _home_municipality() -> ColumnElement[str | None]:
    """The patient's home municipality if it is one of the region's, else OTHER; none (NULL) for
    a patient with a security prohibition, whom no municipality's cells may place."""
    of_the_region = (
        select(Organisation.id)
        .where(
            Organisation.kind == OrganisationKind.municipality,
            Organisation.municipality_code == Patient.home_municipality_code,
        )
        .exists()
    )
    return case(
        (Patient.security_prohibition, null()),
        (of_the_region, Patient.home_municipality_code),
        else_=literal(OTHER),
    )


def _language() -> ColumnElement[str]:
    """The patient's language if Askel speaks it, else OTHER."""
    return case((Patient.language.in_(LANGUAGES), Patient.language), else_=literal(OTHER))


def _part(name: str, day: Any) -> ColumnElement[int]:
    return cast(extract(name, day), Integer)


def _age_band(day: Any, birth: Any) -> ColumnElement[int]:
    """The age band's code on `day`: whole years (one fewer before the birthday), banded."""
    before_birthday = (_part("month", day) * 100 + _part("day", day)) < (
        _part("month", birth) * 100 + _part("day", birth)
    )
    age = _part("year", day) - _part("year", birth) - case((before_birthday, 1), else_=0)
    youngest_first = [youngest for youngest, _ in reversed(AGE_BANDS)][1:]
    return case(
        *[(age < limit, code) for code, limit in enumerate(youngest_first, 1)],
        else_=len(youngest_first) + 1,
    )


def _calendar(day: Any) -> list[ColumnElement[int]]:
    month = _part("month", day)
    quarter = case((month <= 3, 1), (month <= 6, 2), (month <= 9, 3), else_=4)
    return [_part("year", day), quarter, month]


class days_between(expression.FunctionElement[int]):
    """Whole days from the second date to the first."""

    type = Integer()
    inherit_cache = True


@compiles(days_between, "postgresql")
def _days_between_postgresql(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)})"


@compiles(days_between)
def _days_between_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"CAST(julianday({compiler.process(later, **kw)})"
        f" - julianday({compiler.process(earlier, **kw)}) AS INTEGER)"
    )


class helsinki_date(expression.FunctionElement[date]):
    """The Helsinki calendar day of a stored UTC time."""

    type = Date()
    inherit_cache = True


@compiles(helsinki_date, "postgresql")
def _helsinki_date_postgresql(element: helsinki_date, compiler: Any, **kw: Any) -> str:
    return f"CAST(timezone('Europe/Helsinki', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(helsinki_date)
def _helsinki_date_sqlite(element: helsinki_date, compiler: Any, **kw: Any) -> str:
    # A function of Askel's own on each SQLite connection (app.db).
    return f"helsinki_date({compiler.process(element.clauses, **kw)})"


class random_record_key(expression.FunctionElement[int]):
    """A random whole number from 0 to KEYS - 1, drawn for each row."""

    type = Integer()
    inherit_cache = True


@compiles(random_record_key, "postgresql")
def _random_record_key_postgresql(element: random_record_key, compiler: Any, **kw: Any) -> str:
    return f"CAST(floor(random() * {KEYS}) AS INTEGER)"


@compiles(random_record_key)
def _random_record_key_sqlite(element: random_record_key, compiler: Any, **kw: Any) -> str:
    # The low bits of SQLite's 64-bit random integer (abs() of the smallest one overflows).
    return f"(random() & {KEYS - 1})"


def _give_keys(connection: Connection | Session, record_id: Any, *conditions: Any) -> None:
    """A record key for each of these records that has none yet (one given before, or
    concurrently by another transaction, stands)."""
    bind = connection.get_bind() if isinstance(connection, Session) else connection
    insert_ = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
    # No anti-join against the keys: it would read the keys this statement is adding, once
    # for every record (PostgreSQL plans it as a nested loop over a table it thinks empty).
    # Always a WHERE: SQLite would read the ON of ON CONFLICT as a join's.
    records = select(record_id, random_record_key()).where(true(), *conditions)
    connection.execute(
        insert_(RecordKey)
        .from_select(["record_id", "record_key"], records)
        .on_conflict_do_nothing(index_elements=["record_id"])
    )


def _give_keys_to_all(connection: Connection | Session, *referral_conditions: Any) -> None:
    """Keys for the referrals (all, or those meeting the conditions), their visits and their
    patients."""
    referrals = select(Referral.id).where(*referral_conditions)
    _give_keys(connection, Referral.id, *referral_conditions)
    _give_keys(connection, Visit.id, Visit.referral_id.in_(referrals))
    _give_keys(
        connection,
        Patient.id,
        Patient.id.in_(select(Referral.patient_id).where(*referral_conditions)),
    )


VisitKey, PatientKey, ReferralKey = (aliased(RecordKey) for _ in range(3))
EarlierVisit = aliased(Visit)


def _visit_order() -> ColumnElement[int]:
    """First visit (THL's ensikäynti) if no standing visit of the referral comes before
    this one in the tab's order, else a follow-up."""
    first = (
        select(EarlierVisit.id)
        .where(EarlierVisit.referral_id == Visit.referral_id, EarlierVisit.corrected.is_(False))
        .order_by(EarlierVisit.visited_on, EarlierVisit.first_recorded_at, EarlierVisit.created_at)
        .limit(1)
        .scalar_subquery()
    )
    # Positions in VISIT_ORDERS: 1 the first visit, 2 a follow-up.
    return case((Visit.id == first, 1), else_=2)


def _visit_rows() -> Select[*tuple[Any, ...]]:
    return (
        select(
            Visit.id,
            Visit.referral_id,
            Visit.patient_id,
            Visit.visited_on,
            *_calendar(Visit.visited_on),
            _home_municipality(),
            Visit.service_id,
            CONTACT_TYPES.code(Visit.contact_type),
            PROFESSIONS.code(Visit.counsellor_profession),
            PROFESSIONS.code(Referral.referrer_profession),
            THL_CONTACT_TYPES.code_through(
                Visit.contact_type, {mode: yhteystapa(mode).code for mode in CONTACT_MODES}
            ),
            _visit_order(),
            THL_OCCUPATIONS.code_through(Visit.counsellor_profession, OCCUPATIONS),
            # Positions in FAMILY_VISITS: 1 an individual visit, 2 a family visit.
            case((Visit.family_visit.is_(True), 2), else_=1),
            _age_band(Visit.visited_on, Patient.birth_date),
            SEXES.code(Patient.sex),
            _language(),
            VisitKey.record_key,
            PatientKey.record_key,
        )
        .join(Patient, Patient.id == Visit.patient_id)
        .join(Referral, Referral.id == Visit.referral_id)
        .join(VisitKey, VisitKey.record_id == Visit.id)
        .join(PatientKey, PatientKey.record_id == Visit.patient_id)
        .where(Visit.corrected.is_(False))
    )


VISIT_COLUMNS = [
    "visit_id", "referral_id", "patient_id", "visited_on", "year", "quarter", "month",
    "municipality", "service_id", "contact_type", "counsellor_profession",
    "referrer_profession", "thl_contact_type", "visit_order", "thl_occupation", "family_visit",
    "age_band",
    "sex", "language", "visit_key", "patient_key",
]  # fmt: skip


def _flag(condition: Any) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _count(*conditions: Any) -> ColumnElement[int]:
    return select(func.count()).where(*conditions).scalar_subquery()


def _assessment(referral_id: Any, latest: bool) -> ColumnElement[int]:
    """Minutes of activity a week at the referral's first (or last) assessment."""
    return (
        select(Visit.minutes_per_week)
        .where(_assessed(referral_id))
        .order_by(*[column.desc() if latest else column for column in VISIT_ORDER])
        .limit(1)
        .scalar_subquery()
    )


def _assessed(referral_id: Any) -> ColumnElement[bool]:
    stands: ColumnElement[bool] = (
        (Visit.referral_id == referral_id)
        & Visit.corrected.is_(False)
        & Visit.minutes_per_week.is_not(None)
    )
    return stands


def _referral_rows() -> Select[*tuple[Any, ...]]:
    stands = (Visit.referral_id == Referral.id) & Visit.corrected.is_(False)
    first_on = select(func.min(Visit.visited_on)).where(stands).scalar_subquery()
    sent_on = helsinki_date(Referral.created_at)
    change = _assessment(Referral.id, latest=True) - _assessment(Referral.id, latest=False)
    return select(
        Referral.id, Referral.patient_id, Referral.created_at, *_calendar(sent_on),
        _home_municipality(), Referral.service_id,
        PROFESSIONS.code(Referral.referrer_profession), _age_band(sent_on, Patient.birth_date),
        SEXES.code(Patient.sex), _language(),
        _flag(select(ReferralEvent.id).where(
            ReferralEvent.referral_id == Referral.id, ReferralEvent.action == "accept"
        ).exists()),
        _flag(Referral.status == "rejected"), _flag(Referral.status == "returned"),
        _flag(select(Appointment.id).where(Appointment.referral_id == Referral.id).exists()),
        _flag(select(Visit.id).where(stands).exists()),
        _flag(Referral.status == "completed"), _flag(Referral.status == "cancelled"),
        _count(Appointment.referral_id == Referral.id, Appointment.status == "attended"),
        _count(Appointment.referral_id == Referral.id, Appointment.status == "no_show"),
        days_between(first_on, sent_on),
        case((_count(_assessed(Referral.id)) >= 2, change), else_=None),
        ReferralKey.record_key,
    ).join(Patient, Patient.id == Referral.patient_id).join(
        ReferralKey, ReferralKey.record_id == Referral.id
    )  # fmt: skip


REFERRAL_COLUMNS = [
    "referral_id", "patient_id", "sent_at", "year", "quarter", "month", "municipality",
    "service_id", "referrer_profession", "age_band", "sex", "language", "accepted", "rejected",
    "returned", "booked", "first_visit", "completed", "cancelled", "attended", "no_show",
    "wait_days", "minutes_change", "referral_key",
]  # fmt: skip


def refresh(connection: Connection | Session, referral_ids: Iterable[uuid.UUID]) -> None:
    """Make the facts of these referrals (and their visits) again from the records."""
    ids = sorted(set(referral_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        # One refresh of a referral at a time: the second waits for the first to commit, then
        # reads what it wrote; and none while the patient's details change.
        referral_repository.lock_for_change(connection, chunk)
        # The patients named as well, so that PostgreSQL opens only their partitions.
        patients = list(
            connection.scalars(select(Referral.patient_id).where(Referral.id.in_(chunk)))
        )
        connection.execute(
            delete(VisitFact).where(
                VisitFact.patient_id.in_(patients), VisitFact.referral_id.in_(chunk)
            )
        )
        connection.execute(delete(ReferralFact).where(ReferralFact.referral_id.in_(chunk)))
        _give_keys_to_all(connection, Referral.id.in_(chunk))
        connection.execute(
            insert(VisitFact).from_select(
                VISIT_COLUMNS, _visit_rows().where(Visit.referral_id.in_(chunk))
            )
        )
        connection.execute(
            insert(ReferralFact).from_select(
                REFERRAL_COLUMNS, _referral_rows().where(Referral.id.in_(chunk))
            )
        )


def rebuild(session: Session) -> None:
    """Make every fact again from the records, and note the definition they were built with."""
    if session.get_bind().dialect.name == "postgresql":
        # Refreshes wait until the new facts are committed, rather than race them.
        session.execute(text("LOCK TABLE visit_facts, referral_facts IN EXCLUSIVE MODE"))
    session.execute(delete(VisitFact))
    session.execute(delete(ReferralFact))
    _give_keys_to_all(session)
    session.execute(insert(VisitFact).from_select(VISIT_COLUMNS, _visit_rows()))
    session.execute(insert(ReferralFact).from_select(REFERRAL_COLUMNS, _referral_rows()))
    session.execute(delete(FactBuild))
    session.add(FactBuild(version=FACTS_VERSION, built_at=utcnow()))
    session.flush()


def ensure_built(session: Session) -> bool:
    """Rebuild the facts if they were built with another definition, or never. True if so."""
    if session.get(FactBuild, FACTS_VERSION) is not None:
        return False
    log.info("rebuilding statistics facts", extra={"version": FACTS_VERSION})
    rebuild(session)
    return True
