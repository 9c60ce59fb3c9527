"""The migrations build the schema the models describe, and go down and up again cleanly."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, MetaData, Table, inspect, select, text
from sqlalchemy.orm import Session

from app import db
from app.counselling.models import Visit
from app.demo.region import seed
from app.kit.clock import utcnow
from app.models import Base
from app.patients.models import Patient
from app.referrals import service as referral_service
from app.referrals.schemas import ReferralCreate
from app.statistics.models import FactBuild, StaleReferral
from tests.fixtures.databases import fresh_database_url
from tests.fixtures.factories import demo_patient, referral_body
from tests.fixtures.principals import principal_for


def table_names(url: str) -> set[str]:
    engine = db.make_engine(url)
    try:
        names = set(inspect(engine).get_table_names()) - {"alembic_version"}
        return {name for name in names if db.include_in_comparison(name, "table", {})}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(tmp_path: Path, worker_id_suffix: str) -> None:
    url = fresh_database_url(tmp_path, f"askel_migrations_{worker_id_suffix}")
    db.upgrade(url)
    assert table_names(url) == set(Base.metadata.tables)
    db.downgrade(url, "base")
    assert table_names(url) == set()
    db.upgrade(url)
    assert table_names(url) == set(Base.metadata.tables)
    engine = db.make_engine(url)
    try:
        assert db.schema_is_current(engine)
    finally:
        engine.dispose()


def test_models_and_migrations_do_not_drift(tmp_path: Path, worker_id_suffix: str) -> None:
    url = fresh_database_url(tmp_path, f"askel_drift_{worker_id_suffix}")
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            options = {"compare_type": True, "include_name": db.include_in_comparison}
            context = MigrationContext.configure(connection, opts=options)
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_migration_files_follow_the_naming_scheme() -> None:
    versions = Path(db.MIGRATIONS_DIR, "versions").glob("*.py")
    names = [path.name for path in versions]
    assert names
    assert all(len(name) > 16 and name[4] == "-" and name[15] == "_" for name in names)


def test_corrections_take_their_originals_first_recording_time(
    tmp_path: Path, worker_id_suffix: str
) -> None:
    url = fresh_database_url(tmp_path, f"askel_visit_order_{worker_id_suffix}")
    db.upgrade(url)
    database = db.Database.from_url(url)
    created = [datetime(2026, 3, day, 9, tzinfo=UTC) for day in (2, 3, 4, 5)]
    try:
        with database.write_sessions() as session, session.begin():
            seed(session)
            doctor = principal_for(session, "doctor.laihia")
            patient = demo_patient(session, "399")
            referral = referral_service.send(
                session, doctor, ReferralCreate.model_validate(referral_body(patient.id))
            )
            # An original, its correction and the correction's correction; and a visit of its
            # own. Their recording times are wrong on purpose: the migration makes them again.
            visits: list[Visit] = []
            for index, at in enumerate(created):
                original = visits[-1] if index in (1, 2) else None
                visit = Visit(
                    referral_id=referral.id, patient_id=patient.id,
                    service_id=referral.service_id, counsellor_subject="c",
                    visited_on=date(2026, 3, 1), contact_type="phone", duration_minutes=30,
                    supersedes_id=original.id if original else None, corrected=index < 2,
                    created_at=at, first_recorded_at=datetime(2000, 1, 1, tzinfo=UTC),
                )  # fmt: skip
                session.add(visit)
                session.flush()
                visits.append(visit)
            ids = [visit.id for visit in visits]
        db.downgrade(url, "7c41d0b9e2a3")
        db.upgrade(url)
        with database.write_sessions() as session:
            first_recorded = {v.id: v.first_recorded_at for v in session.scalars(select(Visit))}
    finally:
        database.dispose()
    assert first_recorded == {ids[0]: created[0], ids[1]: created[0], ids[2]: created[0],
                              ids[3]: created[3]}  # fmt: skip


def test_patients_known_before_the_security_prohibition_have_none(
    tmp_path: Path, worker_id_suffix: str
) -> None:
    """Down, the column goes and the patients stay; up again, every patient has none (the
    database's default fills the rows it finds)."""
    url = fresh_database_url(tmp_path, f"askel_prohibition_{worker_id_suffix}")
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            for individual, prohibited in ((961, True), (962, False)):
                session.add(Patient(
                    hetu_hash=f"{individual:064d}", hetu_ciphertext=b"sealed",
                    birth_date=date(1980, 1, 1), sex="male", given_name="Ennen",
                    family_name="Kieltoa", home_municipality_code="399", language="fi",
                    security_prohibition=prohibited, created_by="test",
                ))  # fmt: skip
        db.downgrade(url, "5f2d8a6c1e37")
        columns = {column["name"] for column in inspect(engine).get_columns("patients")}
        assert "security_prohibition" not in columns
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM patients")) == 2
        db.upgrade(url)
        with Session(engine) as session:
            assert session.scalars(select(Patient.security_prohibition)).all() == [False, False]
    finally:
        engine.dispose()


def test_notes_waiting_at_a_downgrade_make_the_older_version_rebuild_the_facts(
    tmp_path: Path, worker_id_suffix: str
) -> None:
    """Below the notes, writes keep the facts current themselves: facts still waiting for a
    refresh are forgotten as built, so that the older version's upgrade rebuilds them."""
    url = fresh_database_url(tmp_path, f"askel_stale_{worker_id_suffix}")
    before_the_notes = "5b2e8d0c7f13"
    engine = db.make_engine(url)
    try:
        for waiting, kept in ((False, 1), (True, 0)):
            db.upgrade(url)
            with Session(engine) as session, session.begin():
                session.merge(FactBuild(version=1, built_at=datetime(2026, 1, 1, tzinfo=UTC)))
                if waiting:
                    session.add(StaleReferral(referral_id=uuid.uuid4(), touched_at=utcnow()))
            db.downgrade(url, before_the_notes)
            with engine.connect() as connection:
                builds = connection.scalar(text("SELECT count(*) FROM statistics_fact_builds"))
            assert builds == kept
    finally:
        engine.dispose()


def test_patients_keep_their_sex_and_a_new_one_without_a_recorded_sex_is_unknown(
    tmp_path: Path, worker_id_suffix: str
) -> None:
    """Up, the sex each patient has stays and a patient stored without one is unknown; down, the
    column takes no default again and the values stay."""
    url = fresh_database_url(tmp_path, f"askel_sex_{worker_id_suffix}")
    before = "6b1d4e8a2f90"

    def insert(connection: Connection, number: int, sex: str | None) -> uuid.UUID:
        # The table as the database has it: neither the model's columns nor its defaults.
        patients = Table("patients", MetaData(), autoload_with=connection)
        patient_id = uuid.UUID(int=number)
        row = {
            "id": patient_id.hex if connection.dialect.name == "sqlite" else patient_id,
            "hetu_hash": f"{number:064d}", "hetu_ciphertext": b"sealed",
            "birth_date": date(1980, 1, 1), "given_name": "Ennen", "family_name": "Uudistusta",
            "home_municipality_code": "399", "language": "fi", "created_by": "test",
            "created_at": datetime(2026, 1, 1, tzinfo=UTC),
        }  # fmt: skip
        connection.execute(patients.insert().values(row if sex is None else {**row, "sex": sex}))
        return patient_id

    db.upgrade(url, before)
    engine = db.make_engine(url)
    try:
        with engine.begin() as connection:
            women, men = insert(connection, 1, "female"), insert(connection, 2, "male")
        db.upgrade(url)
        with engine.begin() as connection:
            unrecorded = insert(connection, 3, None)
        with Session(engine) as session:
            sexes = {row.id: row.sex for row in session.execute(select(Patient.id, Patient.sex))}
        assert sexes == {women: "female", men: "male", unrecorded: "unknown"}
        db.downgrade(url, before)
        (sex,) = [c for c in inspect(engine).get_columns("patients") if c["name"] == "sex"]
        assert sex["default"] is None
        assert not sex["nullable"]
        with engine.connect() as connection:
            kept = connection.scalars(text("SELECT sex FROM patients ORDER BY hetu_hash")).all()
        assert kept == ["female", "male", "unknown"]
    finally:
        engine.dispose()
