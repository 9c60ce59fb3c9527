"""Visits grouped by THL's classifications: contact type (phone and video both real-time
remote contact, kept apart by Askel's own contact type), first visit or follow-up, and the
counsellor's occupational class; the facts hold them after a refresh and after a rebuild
alike."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.counselling.models import Visit
from app.statistics import facts
from app.statistics.facts import THL_CONTACT_TYPES, THL_OCCUPATIONS, VISIT_ORDERS
from app.statistics.models import VisitFact
from tests.fixtures.factories import demo_patient, send_referral
from tests.fixtures.facts import facts_follow
from tests.statistics.published import published

Auth = Callable[[str], dict[str, str]]
YEAR_2025 = {"visited_from": "2025-01-01", "visited_to": "2025-12-31"}


def _visit(
    session: Session, referral: dict[str, Any], on: date, contact: str, profession: str | None
) -> Visit:
    visit = Visit(
        referral_id=uuid.UUID(referral["id"]), patient_id=uuid.UUID(referral["patient_id"]),
        service_id=uuid.UUID(referral["service_id"]), counsellor_subject="counsellor1.laihia",
        counsellor_profession=profession, visited_on=on, contact_type=contact,
        duration_minutes=45,
    )  # fmt: skip
    session.add(visit)
    return visit


@pytest.fixture
def visits(client: TestClient, auth: Auth, session: Session) -> dict[str, list[Visit]]:
    """Seven Laihia residents: each seen first in person in March 2025 by a physiotherapist,
    then three again by phone and four by video in April by a counsellor."""
    held: dict[str, list[Visit]] = {"first": [], "phone": [], "video": []}
    for index in range(7):
        referral = send_referral(client, auth, demo_patient(session, "399", index).id)
        held["first"].append(
            _visit(session, referral, date(2025, 3, 3 + index), "in_person", "physiotherapist")
        )
        again = "phone" if index < 3 else "video"
        held[again].append(_visit(session, referral, date(2025, 4, 7), again, "counsellor"))
    session.commit()
    facts_follow(session)
    return held


def _cells(client: TestClient, auth: Auth, group: str) -> dict[str | None, Any]:
    response = client.get(
        "/api/v1/stats/visits",
        params={**YEAR_2025, "group_by": group},
        headers=auth("statistician.region"),
    )
    assert response.status_code == 200, response.text
    return {cell["groups"][group]: cell["visits"] for cell in response.json()["cells"]}


def test_visits_grouped_by_thl_contact_type_count_phone_and_video_as_remote_contact(
    client: TestClient, auth: Auth, session: Session, visits: dict[str, list[Visit]]
) -> None:
    cells = _cells(client, auth, "thl_contact_type")
    # Every contact type listed, the empty ones too.
    assert set(cells) == set(THL_CONTACT_TYPES.labels)
    assert cells["R10"] == published(session, [v.id for v in visits["first"]])
    remote = [v.id for v in visits["phone"] + visits["video"]]
    assert cells["R52"] == published(session, remote)
    assert cells["R20"] == "<5"
    assert cells["R56"] == "<5"
    # Askel's own contact type keeps them apart.
    modes = _cells(client, auth, "contact_type")
    assert modes["phone"] == published(session, [v.id for v in visits["phone"]])
    assert modes["video"] == published(session, [v.id for v in visits["video"]])


def test_visits_grouped_by_first_visit_or_follow_up(
    client: TestClient, auth: Auth, session: Session, visits: dict[str, list[Visit]]
) -> None:
    cells = _cells(client, auth, "visit_order")
    follow_ups = [v.id for v in visits["phone"] + visits["video"]]
    assert cells == {
        "first": published(session, [v.id for v in visits["first"]]),
        "follow_up": published(session, follow_ups),
    }


def test_visits_grouped_by_occupational_class(
    client: TestClient, auth: Auth, session: Session, visits: dict[str, list[Visit]]
) -> None:
    cells = _cells(client, auth, "thl_occupation")
    assert set(cells) == set(THL_OCCUPATIONS.labels)
    assert cells["32261"] == published(session, [v.id for v in visits["first"]])
    assert cells["34752"] == published(session, [v.id for v in visits["phone"] + visits["video"]])


def _stored(session: Session) -> dict[uuid.UUID, tuple[str | None, str | None, str | None]]:
    rows = session.execute(
        select(
            VisitFact.visit_id,
            VisitFact.thl_contact_type,
            VisitFact.visit_order,
            VisitFact.thl_occupation,
        )
    )
    return {
        visit_id: (
            THL_CONTACT_TYPES.label(contact),
            VISIT_ORDERS.label(order),
            THL_OCCUPATIONS.label(occupation),
        )
        for visit_id, contact, order, occupation in rows
    }


def test_a_rebuild_fills_the_classifications_as_a_refresh_does(
    session: Session, visits: dict[str, list[Visit]]
) -> None:
    refreshed = _stored(session)
    assert refreshed[visits["first"][0].id] == ("R10", "first", "32261")
    assert refreshed[visits["phone"][0].id] == ("R52", "follow_up", "34752")
    assert refreshed[visits["video"][0].id] == ("R52", "follow_up", "34752")
    session.execute(delete(VisitFact))
    facts.rebuild(session)
    assert _stored(session) == refreshed


def test_a_corrected_first_visit_leaves_its_correction_first(
    client: TestClient, auth: Auth, session: Session
) -> None:
    referral = send_referral(client, auth, demo_patient(session, "399").id)
    original = _visit(session, referral, date(2025, 3, 3), "in_person", None)
    later = _visit(session, referral, date(2025, 3, 20), "video", None)
    session.flush()
    original.corrected = True
    correction = _visit(session, referral, date(2025, 3, 4), "phone", None)
    correction.supersedes_id = original.id
    session.commit()
    facts_follow(session)
    stored = _stored(session)
    assert original.id not in stored
    assert stored[correction.id] == ("R52", "first", None)
    assert stored[later.id] == ("R52", "follow_up", None)


def test_every_visit_is_of_the_one_thl_service_class(
    client: TestClient, auth: Auth, session: Session, visits: dict[str, list[Visit]]
) -> None:
    every = [v.id for held in visits.values() for v in held]
    assert _cells(client, auth, "thl_service_class") == {"T29": published(session, every)}
    response = client.get(
        "/api/v1/stats/visits",
        params={**YEAR_2025, "group_by": ["thl_service_class", "thl_contact_type"]},
        headers=auth("statistician.region"),
    )
    pairs = {(c["groups"]["thl_service_class"], c["groups"]["thl_contact_type"])
             for c in response.json()["cells"]}  # fmt: skip
    assert pairs == {("T29", code) for code in THL_CONTACT_TYPES.labels}
