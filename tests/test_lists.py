"""Every list answers one envelope, `{"items": [...], "next_cursor": ...}`; one that can grow is
read a page at a time with `limit` and `cursor`, each row once, and only the rows shown are
audited as accessed."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.access.models import User
from app.kit.clock import today_in_helsinki
from tests.access.test_matrix import caller
from tests.fixtures.factories import act, demo_patient, send_referral
from tests.fixtures.journeys import COUNSELLOR
from tests.test_openapi import operations

Auth = Callable[[str], dict[str, str]]
PAGED = ["/api/v1/referrals", "/api/v1/slots", "/api/v1/appointments",
         "/api/v1/admin/access-grants", "/api/v1/admin/outbox/dead-letters",
         "/api/v1/admin/fhir/refusals"]  # fmt: skip


def _schema(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return _schema(document, document["components"]["schemas"][schema["$ref"].split("/")[-1]])
    return schema


def test_no_list_answers_a_bare_array(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    lists = []
    for path, method, operation in operations(document):
        answer = operation["responses"].get("200", {}).get("content", {}).get("application/json")
        # Lists are read; what a write answers is its own result.
        if not path.startswith("/api/") or method != "get" or answer is None:
            continue
        schema = _schema(document, answer["schema"])
        assert schema.get("type") != "array", f"{method} {path}"
        if "items" in schema.get("properties", {}) and "next_cursor" in schema["properties"]:
            lists.append(path)
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        if "cursor" in names:
            assert "limit" in names, path
            assert "invalid_cursor" in operation["responses"]["422"]["description"], path
    assert set(PAGED) <= set(lists)
    single = {"/api/v1/services", "/api/v1/referrals/{referral_id}/events",
              "/api/v1/referral-reasons", "/api/v1/referrals/{referral_id}/visits"}  # fmt: skip
    assert single <= set(lists)


def _every_page(client: TestClient, url: str, headers: dict[str, str], **params: Any) -> list[Any]:
    pages, cursor = [], None
    while True:
        answer = client.get(url, params={**params, **({"cursor": cursor} if cursor else {})},
                            headers=headers)  # fmt: skip
        assert answer.status_code == 200, answer.text
        pages.append(answer.json()["items"])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return pages


def _open_week(client: TestClient, auth: Auth, session: Session) -> None:
    counsellor = session.scalars(select(User.id).where(User.username == COUNSELLOR)).one()
    rules = [{"weekday": day, "start_time": "09:00", "end_time": "12:00", "location": "Halli",
              "modes": ["in_person"], "visit_types": ["first_visit"], "languages": ["fi"],
              "valid_from": str(today_in_helsinki())} for day in range(7)]  # fmt: skip
    answer = client.put(f"/api/v1/counsellors/{counsellor}/availability",
                        json={"rules": rules}, headers=auth(COUNSELLOR))  # fmt: skip
    assert answer.status_code == 200, answer.text


def test_slot_search_pages_through_every_free_slot_once_soonest_first(
    client: TestClient, auth: Auth, session: Session
) -> None:
    _open_week(client, auth, session)
    service_id = client.get("/api/v1/services", headers=auth(COUNSELLOR)).json()["items"]
    laihia = next(s["id"] for s in service_id if s["municipality_code"] == "399")
    headers = auth("doctor.laihia")
    whole = client.get("/api/v1/slots", params={"service_id": laihia, "limit": 200},
                       headers=headers).json()  # fmt: skip
    assert whole["next_cursor"] is None
    assert len(whole["items"]) > 7
    pages = _every_page(client, "/api/v1/slots", headers, service_id=laihia, limit=3)
    assert all(len(page) == 3 for page in pages[:-1])
    assert [slot["id"] for page in pages for slot in page] == [s["id"] for s in whole["items"]]


def _accesses(session: Session, resource_type: str) -> list[str | None]:
    statement = select(AuditEvent.resource_id).where(
        AuditEvent.resource_type == resource_type, AuditEvent.action == "query"
    )
    return list(session.scalars(statement.order_by(AuditEvent.seq)))


def test_a_page_of_appointments_audits_the_appointments_it_shows(
    client: TestClient, auth: Auth, session: Session
) -> None:
    _open_week(client, auth, session)
    booked = []
    for index in range(3):
        referral = act(client, auth, COUNSELLOR,
                       send_referral(client, auth, demo_patient(session, "399", index).id),
                       "accept").json()  # fmt: skip
        slots = client.get("/api/v1/slots", params={"service_id": referral["service_id"]},
                           headers=auth(COUNSELLOR)).json()["items"]  # fmt: skip
        body = {"slot_id": slots[0]["id"], "referral_id": referral["id"]}
        answer = client.post("/api/v1/appointments", json=body, headers=auth(COUNSELLOR))
        assert answer.status_code == 201, answer.text
        booked.append(answer.json()["id"])
    before = _accesses(session, "Appointment")
    pages = _every_page(client, "/api/v1/appointments", auth(COUNSELLOR), limit=2)
    shown = [appointment["id"] for page in pages for appointment in page]
    assert set(booked) <= set(shown)
    assert len(shown) == len(set(shown))
    # One access per appointment shown, none for the row read only to know more follow.
    assert _accesses(session, "Appointment")[len(before) :] == shown


def test_a_page_of_the_worklist_audits_the_referrals_it_shows(
    client: TestClient, auth: Auth, session: Session
) -> None:
    for index in range(3):
        send_referral(client, auth, demo_patient(session, "399", index).id)
    before = _accesses(session, "Referral")
    page = client.get("/api/v1/referrals", params={"limit": 2}, headers=auth(COUNSELLOR)).json()
    assert page["next_cursor"] is not None
    assert _accesses(session, "Referral")[len(before) :] == [r["id"] for r in page["items"]]


def _cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


@pytest.mark.parametrize("path", PAGED)
@pytest.mark.parametrize(
    "cursor",
    ["not a cursor", _cursor({"x": 1}),
     # A well-formed key whose time is out of any range: refused, not carried to the database.
     _cursor({"p": 0, "c": "9999-12-31T23:59:59-12:00", "i": str(uuid.uuid4())}),
     _cursor({"t": "0001-01-01T00:00:00+14:00", "i": str(uuid.uuid4())}),
     _cursor({"t": "9999-12-31T23:59:59-12:00", "i": 1}),
     _cursor({"t": "2026-03-30T09:00:00+03:00", "i": 2**64})],
)  # fmt: skip
def test_a_cursor_this_service_did_not_give_is_422(
    client: TestClient, auth: Auth, path: str, cursor: str
) -> None:
    params = {"cursor": cursor, **({"service_id": str(uuid.uuid4())} if "slots" in path else {})}
    answer = client.get(path, params=params, headers=auth(caller("GET", path)))
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "invalid_cursor"
