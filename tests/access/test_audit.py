"""The audit log: written in the business transaction, sealed into its Merkle tree under signed
heads, verified end to end; tampering with any of it is caught."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit import merkle, repository, sealing
from app.access.audit import service as audit
from app.access.audit.models import AuditAction, AuditEvent, AuditLeaf, AuditOutcome
from app.access.principal import Principal, Role
from app.kit.request_context import request_id_var
from app.patients.models import Patient
from tests.fixtures.databases import server_url

NURSE = Principal(
    subject="nurse.laihia", organisation="ts-laihia", roles=frozenset({Role.clinician}), issuer="t"
)


def seal(session: Session) -> sealing.SealResult:
    """What the sealer does after the commit; here the test's one transaction is the only
    writer, so every entry it sees is final."""
    session.flush()
    return sealing.seal(session, all_visible=True)


def newest(session: Session) -> AuditEvent:
    """The entry written last."""
    return session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()


def append(session: Session, count: int) -> list[int]:
    """Writes `count` entries and seals them; their numbers."""
    before = repository.newest_entry(session) or 0
    for _ in range(count):
        audit.record(
            session,
            actor=NURSE,
            action=AuditAction.read,
            resource_type="Patient",
            resource_id=str(uuid.uuid4()),
            patient_id=uuid.uuid4(),
        )
    seal(session)
    written = select(AuditEvent.seq).where(AuditEvent.seq > before).order_by(AuditEvent.seq)
    return list(session.scalars(written))


LOG_TABLES = ("audit_events", "audit_leaves", "audit_tree_nodes", "audit_tree_heads")


def drop_append_only_guard(connection: Connection) -> None:
    """What someone with the database owner's rights could do before tampering."""
    for table in LOG_TABLES:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_update"))
        else:
            connection.execute(text(f"DROP TRIGGER {table}_no_update"))
            connection.execute(text(f"DROP TRIGGER {table}_no_delete"))


def test_entries_are_sealed_in_order_under_a_signed_head(session: Session) -> None:
    before = sealing.seal(session, all_visible=True)  # the demo data's entries
    size = before.head.size if before.head else repository.tree_end(session)[0]
    seqs = append(session, 5)
    assert seqs == list(range(seqs[0], seqs[0] + 5))
    positions = repository.leaf_positions(session, seqs)
    assert [positions[seq] for seq in seqs] == list(range(size, size + 5))
    head = repository.newest_head(session)
    assert head is not None
    assert head.size == size + 5
    assert sealing.head_is_signed(head, sealing.public_key_bytes())
    assert not sealing.head_is_signed(head, bytes(32))
    assert seal(session).sealed == 0  # nothing new: no new head either
    report = audit.verify(session)
    assert report.ok
    assert report.checked == size + 5


def test_an_edited_row_is_caught(session: Session, connection: Connection) -> None:
    seqs = append(session, 5)
    drop_append_only_guard(connection)
    connection.execute(
        text("UPDATE audit_events SET actor = 'someone.else' WHERE seq = :seq"),
        {"seq": seqs[2]},
    )
    session.expire_all()
    report = audit.verify(session)
    assert not report.ok
    assert report.broken_at == seqs[2]
    assert report.reason == "the entry has been altered"


def test_an_entry_and_its_leaf_edited_together_are_caught_by_the_signed_head(
    session: Session, connection: Connection
) -> None:
    seqs = append(session, 5)
    drop_append_only_guard(connection)
    connection.execute(
        text("UPDATE audit_events SET actor = 'someone.else' WHERE seq = :seq"),
        {"seq": seqs[2]},
    )
    session.expire_all()
    edited = session.get_one(AuditEvent, seqs[2])
    position = repository.leaf_positions(session, [seqs[2]])[seqs[2]]
    connection.execute(
        text("UPDATE audit_tree_nodes SET hash = :hash WHERE level = 0 AND position = :position"),
        {"hash": merkle.leaf_hash(sealing.entry_bytes(edited)).hex(), "position": position},
    )
    report = audit.verify(session)
    assert not report.ok
    assert report.reason is not None
    assert report.reason.startswith("the tree differs from its signed head")


def test_a_deleted_row_is_caught(session: Session, connection: Connection) -> None:
    seqs = append(session, 5)
    drop_append_only_guard(connection)
    connection.execute(text("DELETE FROM audit_events WHERE seq = :seq"), {"seq": seqs[1]})
    session.expire_all()
    report = audit.verify(session)
    assert not report.ok
    assert report.broken_at == seqs[1]
    assert report.reason == "an entry is missing"


def test_a_cut_tail_is_caught_against_an_anchor(session: Session, connection: Connection) -> None:
    append(session, 3)
    seqs = append(session, 3)
    newest = repository.newest_head(session)
    assert newest is not None
    anchor = sealing.head_from_json(sealing.head_as_json(newest))  # kept outside the database
    assert audit.verify(session, anchors=[anchor]).ok
    # The newest entries cut off with every leaf, node and head that names them.
    drop_append_only_guard(connection)
    first = min(repository.leaf_positions(session, seqs).values())
    cuts = [
        ("DELETE FROM audit_tree_heads WHERE size > :first", {"first": first}),
        ("DELETE FROM audit_tree_nodes WHERE (position + 1) * (1 << level) > :first",
         {"first": first}),
        ("DELETE FROM audit_leaves WHERE position >= :first", {"first": first}),
        ("DELETE FROM audit_events WHERE seq >= :seq", {"seq": seqs[0]}),
    ]  # fmt: skip
    for statement, values in cuts:
        connection.execute(text(statement), values)
    session.expire_all()
    assert audit.verify(session).ok  # the log alone looks whole
    report = audit.verify(session, anchors=[anchor])
    assert (report.ok, report.reason) == (
        False,
        f"entries up to the signed head of size {anchor.size} are missing",
    )


def test_a_head_not_signed_by_askel_is_refused(session: Session) -> None:
    append(session, 2)
    head = repository.newest_head(session)
    assert head is not None
    forged = sealing.head_from_json({**sealing.head_as_json(head), "size": head.size + 1})
    report = audit.verify(session, anchors=[forged])
    assert not report.ok
    assert report.reason == f"the tree head of size {head.size + 1} is not signed by Askel's key"


def test_a_deleted_and_renumbered_row_is_caught(session: Session, connection: Connection) -> None:
    seqs = append(session, 4)
    drop_append_only_guard(connection)
    connection.execute(text("DELETE FROM audit_events WHERE seq = :seq"), {"seq": seqs[1]})
    for seq in seqs[2:]:
        connection.execute(
            text("UPDATE audit_events SET seq = seq - 1 WHERE seq = :seq"), {"seq": seq}
        )
    session.expire_all()
    report = audit.verify(session)
    assert not report.ok
    assert report.broken_at == seqs[1]


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET outcome = 'success'", "DELETE FROM audit_events"],
)
def test_the_database_refuses_to_rewrite_the_log(session: Session, statement: str) -> None:
    append(session, 1)
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(text(statement))


@pytest.mark.parametrize("table", LOG_TABLES[1:])
def test_the_database_refuses_to_rewrite_the_tree(session: Session, table: str) -> None:
    append(session, 2)
    for statement in (f"UPDATE {table} SET {_ANY_COLUMN[table]}", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(text(statement))


_ANY_COLUMN = {
    "audit_leaves": "entry_seq = entry_seq",
    "audit_tree_nodes": "hash = hash",
    "audit_tree_heads": "root = root",
}


def test_a_refusal_is_recorded_with_its_outcome(session: Session) -> None:
    audit.record(
        session,
        actor=NURSE,
        action=AuditAction.read,
        resource_type="Referral",
        outcome=AuditOutcome.refused,
    )
    event = newest(session)
    assert (event.outcome, event.actor_roles, event.actor_organisation) == (
        "refused",
        "clinician",
        "ts-laihia",
    )


def test_no_data_without_its_log_entry(
    client: TestClient,
    auth: Callable[[str], dict[str, str]],
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failed audit write fails the request closed: nothing it would have saved is kept."""
    headers = auth("nurse.laihia")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr("app.access.audit.repository.insert_entries", broken)
    body = {
        "hetu": "150377-9985",
        "given_name": "Ei",
        "family_name": "Tallennu",
        "home_municipality_code": "399",
    }
    response = client.post("/api/v1/patients", json=body, headers=headers)
    assert response.status_code == 500
    assert session.scalar(select(Patient).where(Patient.family_name == "Tallennu")) is None


def test_each_entry_records_the_purpose_of_the_access(session: Session) -> None:
    counsellor = Principal(
        subject="c", organisation="kunta-399", roles=frozenset({Role.counsellor}), issuer="t"
    )
    statistician = Principal(
        subject="s", organisation="hva", roles=frozenset({Role.statistician}), issuer="t"
    )
    purposes = []
    for who in (NURSE, counsellor, statistician, None):
        audit.record(session, actor=who, action=AuditAction.read, resource_type="Referral")
        purposes.append(newest(session).purpose)
    assert purposes == ["care", "counselling", "statistics", None]
    assert audit.verify(session).ok


def test_entries_from_before_purposes_still_verify(
    session: Session, connection: Connection
) -> None:
    seqs = append(session, 3)
    # The demo data's entries were written by the system, without a purpose: the log mixes
    # both kinds and still verifies.
    assert session.get_one(AuditEvent, 1).purpose is None
    assert session.get_one(AuditEvent, seqs[-1]).purpose == "care"
    assert audit.verify(session).ok


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE audit_events SET recipient = 'someone else' WHERE seq = :seq",
        # A recipient moved into the purpose column (or back) is an edit too.
        "UPDATE audit_events SET purpose = 'region', recipient = NULL WHERE seq = :seq",
    ],
)
def test_an_edited_recipient_is_caught(session: Session, connection: Connection, edit: str) -> None:
    audit.record(
        session, actor=None, action=AuditAction.disclose, resource_type="FHIR", recipient="region"
    )
    event = newest(session)
    seal(session)
    drop_append_only_guard(connection)
    connection.execute(text(edit), {"seq": event.seq})
    session.expire_all()
    report = audit.verify(session)
    assert (report.ok, report.broken_at) == (False, event.seq)


def recorded(session: Session, *resource_types: str) -> list[str]:
    statement = select(AuditEvent.resource_type).where(AuditEvent.resource_type.in_(resource_types))
    return list(session.scalars(statement.order_by(AuditEvent.seq)))


def test_entries_are_written_with_the_transaction_and_sealed_after(session: Session) -> None:
    audit.record(session, actor=NURSE, action=AuditAction.read, resource_type="Pending")
    session.commit()
    assert recorded(session, "Pending") == ["Pending"]
    [entry] = session.scalars(select(AuditEvent).where(AuditEvent.resource_type == "Pending"))
    assert session.scalar(select(AuditLeaf).where(AuditLeaf.entry_seq == entry.seq)) is None
    assert repository.unsealed(session)[0] >= 1
    seal(session)
    assert session.scalar(select(AuditLeaf).where(AuditLeaf.entry_seq == entry.seq)) is not None
    assert repository.unsealed(session) == (0, None)
    assert audit.verify(session).ok


def test_entries_of_a_savepoint_rolled_back_are_forgotten(session: Session) -> None:
    with session.begin_nested():
        audit.record(session, actor=NURSE, action=AuditAction.read, resource_type="Kept")
    undone = session.begin_nested()
    audit.record(session, actor=NURSE, action=AuditAction.read, resource_type="Undone")
    undone.rollback()
    session.commit()
    assert recorded(session, "Kept", "Undone") == ["Kept"]


def test_a_failed_flush_in_a_savepoint_forgets_only_that_savepoint(session: Session) -> None:
    audit.record(session, actor=NURSE, action=AuditAction.read, resource_type="Kept")
    savepoint = session.begin_nested()
    audit.record(session, actor=NURSE, action=AuditAction.read, resource_type="Undone")
    session.add(Patient(hetu_hash="incomplete"))  # the other columns may not be null
    with pytest.raises(IntegrityError):
        session.flush()
    savepoint.rollback()
    session.commit()
    assert recorded(session, "Kept", "Undone") == ["Kept"]


def test_a_commit_with_a_savepoint_still_open_keeps_its_entries(session: Session) -> None:
    audit.record(session, actor=NURSE, action=AuditAction.read, resource_type="Outer")
    session.begin_nested()
    audit.record(session, actor=NURSE, action=AuditAction.read, resource_type="Inner")
    session.commit()
    assert recorded(session, "Outer", "Inner") == ["Outer", "Inner"]


def test_a_transaction_rolled_back_leaves_no_entries(session: Session) -> None:
    audit.record(session, actor=NURSE, action=AuditAction.read, resource_type="Undone")
    session.rollback()
    session.commit()
    assert recorded(session, "Undone") == []


def every_column_filled(session: Session) -> AuditEvent:
    """An entry in which every column holds a value, sealed."""
    token = request_id_var.set(uuid.uuid4().hex)
    try:
        audit.record(
            session,
            actor=NURSE,
            action=AuditAction.disclose,
            resource_type="Notice",
            resource_id="notice-1",
            patient_id=uuid.uuid4(),
            recipient="SMS gateway sms.example",
        )
    finally:
        request_id_var.reset(token)
    seal(session)
    return newest(session)


_TEXT = ["upper({c})", "{c} || ' '", "'x'"]
_TEXT_COLUMNS = (
    "request_id",
    "actor",
    "actor_roles",
    "actor_organisation",
    "actor_issuer",
    "action",
    "resource_type",
    "resource_id",
    "outcome",
    "purpose",
    "recipient",
)
# The old chain's columns, empty in entries written since: any value there is an edit.
_HASH = ["'x'", "'" + "0" * 64 + "'"]
_ON_POSTGRES = server_url() is not None
# How each column can be edited where it is stored: its value, its form, its letter case, the
# way a time is written. PostgreSQL's own types leave a uuid or a time only their value.
EDITS: dict[str, list[str]] = {
    **dict.fromkeys(_TEXT_COLUMNS, _TEXT),
    **dict.fromkeys(("prev_hash", "hash"), _HASH),
    "seq": ["seq + 1000"],
    "xact": ["12345"],
    "patient_id": ["'00000000-0000-0000-0000-000000000000'"] if _ON_POSTGRES else [
        "upper(patient_id)", "'00000000000000000000000000000000'",
        "substr(patient_id, 1, 8) || '-' || substr(patient_id, 9, 4) || '-' || "
        "substr(patient_id, 13, 4) || '-' || substr(patient_id, 17, 4) || '-' || "
        "substr(patient_id, 21)"],
    "occurred_at": ["occurred_at + interval '1 microsecond'"] if _ON_POSTGRES else [
        "replace(occurred_at, ' ', 'T')", "occurred_at || '+00:00'",
        "replace(occurred_at, ' ', 'T') || 'Z'", "datetime(occurred_at)",
        "'2020-01-01 00:00:00.000000'"],
}  # fmt: skip


def test_every_column_has_its_edits() -> None:
    assert set(EDITS) == set(AuditEvent.__table__.columns.keys())


@pytest.mark.parametrize(
    ("column", "edit"), [(column, edit) for column, edits in EDITS.items() for edit in edits]
)
def test_an_edit_of_any_column_in_any_form_is_caught(
    session: Session, connection: Connection, column: str, edit: str
) -> None:
    seq = every_column_filled(session).seq
    assert audit.verify(session).ok
    drop_append_only_guard(connection)
    connection.execute(
        text(f"UPDATE audit_events SET {column} = {edit.format(c=column)} WHERE seq = :seq"),
        {"seq": seq},
    )
    session.expire_all()
    report = audit.verify(session)
    assert (report.ok, report.broken_at) == (False, seq), report


@pytest.mark.skipif(_ON_POSTGRES, reason="PostgreSQL's uuid type has no letter case to edit")
def test_an_identifier_in_upper_case_cannot_empty_an_access_report(
    client: TestClient,
    auth: Callable[[str], dict[str, str]],
    session: Session,
    connection: Connection,
) -> None:
    patient = session.scalars(select(Patient).limit(1)).one()
    url = f"/api/v1/audit/patients/{patient.id}/access-report"
    assert client.get(url, headers=auth("auditor.region")).json()["accesses"]
    drop_append_only_guard(connection)
    connection.execute(
        text("UPDATE audit_events SET patient_id = upper(patient_id) WHERE patient_id = :id"),
        {"id": patient.id.hex},
    )
    session.expire_all()
    # The report no longer finds the patient's entries: the verification must say why.
    assert client.get(url, headers=auth("auditor.region")).json()["accesses"] == []
    assert not audit.verify(session).ok
