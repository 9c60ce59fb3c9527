"""The statistics facts: one narrow row per visit and per referral, every grouping's value worked
out in advance, so that a statistics query reads one table in one pass and no join.

They are derived data, never the record: a write notes the referrals whose facts it changed
(`StaleReferral`, `follow.py`), the worker makes those facts again within seconds (`facts.py`),
and `askel stats rebuild` makes them all again from the records.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.models import Base, UTCDateTime

# Byte-wise collation on PostgreSQL: grouping by short codes needs no linguistic ordering, and
# the C collation sorts them several times faster.
Code = String(8).with_variant(String(8, collation="C"), "postgresql")


class _Dimensions:
    """The groupings shared by both facts. Closed vocabularies are small integers (see
    `facts.Vocabulary`): grouping and sorting those is cheaper than text."""

    patient_id: Mapped[uuid.UUID]
    year: Mapped[int] = mapped_column(SmallInteger)
    quarter: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int] = mapped_column(SmallInteger)
    municipality: Mapped[str | None] = mapped_column(Code)
    service_id: Mapped[uuid.UUID]
    referrer_profession: Mapped[int | None] = mapped_column(SmallInteger)
    age_band: Mapped[int] = mapped_column(SmallInteger)
    sex: Mapped[int | None] = mapped_column(SmallInteger)
    language: Mapped[str | None] = mapped_column(Code)


# On PostgreSQL the visit facts are split by patient into this many partitions: a distinct count
# of patients then hashes each partition apart, in parallel and in tables small enough for the
# processor's cache, and adds the counts up (a patient lies in one partition only).
VISIT_FACT_PARTITIONS = 32


def is_partition(table_name: str) -> bool:
    """Whether a table is one of the visit facts' partitions (made by the migrations, not the
    models)."""
    return re.fullmatch(r"visit_facts_p\d+", table_name) is not None


class VisitFact(_Dimensions, Base):
    """A visit that stands (not corrected), as the statistics count it."""

    __tablename__ = "visit_facts"
    __table_args__ = (
        Index("ix_visit_facts_visited_on", "visited_on"),
        {"postgresql_partition_by": "HASH (patient_id)"},
    )

    visit_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # In the key because PostgreSQL partitions by it.
    patient_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    referral_id: Mapped[uuid.UUID] = mapped_column(index=True)
    visited_on: Mapped[date]
    contact_type: Mapped[int | None] = mapped_column(SmallInteger)
    counsellor_profession: Mapped[int | None] = mapped_column(SmallInteger)
    # THL's classifications of the visit (`app.classifications.avohilmo`): its contact type, first
    # visit or follow-up, and the counsellor's occupational class.
    thl_contact_type: Mapped[int | None] = mapped_column(SmallInteger)
    visit_order: Mapped[int | None] = mapped_column(SmallInteger)
    thl_occupation: Mapped[int | None] = mapped_column(SmallInteger)
    # A family visit (the family took part) or an individual one.
    family_visit: Mapped[int | None] = mapped_column(SmallInteger)
    # The visit's and the patient's record keys (`RecordKey`), for counting visits and patients.
    visit_key: Mapped[int] = mapped_column(SmallInteger)
    patient_key: Mapped[int] = mapped_column(SmallInteger)


class ReferralFact(_Dimensions, Base):
    """A referral's way through the service chain, as the statistics count it (0 or 1 for each
    step, so that a sum counts them)."""

    __tablename__ = "referral_facts"
    __table_args__ = (Index("ix_referral_facts_sent_at", "sent_at"),)

    referral_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted: Mapped[int] = mapped_column(SmallInteger)
    rejected: Mapped[int] = mapped_column(SmallInteger)
    returned: Mapped[int] = mapped_column(SmallInteger)
    booked: Mapped[int] = mapped_column(SmallInteger)
    first_visit: Mapped[int] = mapped_column(SmallInteger)
    completed: Mapped[int] = mapped_column(SmallInteger)
    cancelled: Mapped[int] = mapped_column(SmallInteger)
    attended: Mapped[int]
    no_show: Mapped[int]
    wait_days: Mapped[int | None]
    minutes_change: Mapped[int | None]
    referral_key: Mapped[int] = mapped_column(SmallInteger)


class RecordKey(Base):
    """A visit's, referral's or patient's random key for the cell key method (see
    `perturbation`): given when the record is first counted and never changed, so that the same
    records are perturbed the same way in every table, however often the facts are rebuilt.
    Never shown to anyone: with the keys, the noise could be taken off."""

    __tablename__ = "statistics_record_keys"

    record_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    record_key: Mapped[int] = mapped_column(SmallInteger)


class FactBuild(Base):
    """Which definition of the facts the tables were last built with: a newer one rebuilds."""

    __tablename__ = "statistics_fact_builds"

    version: Mapped[int] = mapped_column(primary_key=True)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaleReferral(Base):
    """A note that a referral's facts may be behind its records: written in the transaction that
    changed them (so it exists exactly when the change does), removed by the refresh that makes
    them again. A referral changed in several transactions has several notes, refreshed once."""

    __tablename__ = "statistics_stale_referrals"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    referral_id: Mapped[uuid.UUID] = mapped_column(index=True)
    touched_at: Mapped[datetime] = mapped_column(UTCDateTime)
