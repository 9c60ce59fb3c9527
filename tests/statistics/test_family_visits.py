"""Family visits counted as such: visits grouped by family or individual visit, the facts
holding it after a refresh and after a rebuild alike."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.counselling.models import Visit
from app.statistics import facts
from app.statistics.facts import FAMILY_VISITS
from app.statistics.models import VisitFact
from tests.fixtures.factories import demo_patient, send_referral
from tests.fixtures.facts import facts_follow
from tests.statistics.published import published

Auth = Callable[[str], dict[str, str]]


def test_family_visits_are_counted_apart(client: TestClient, auth: Auth, session: Session) -> None:
    held: dict[bool, list[uuid.UUID]] = {True: [], False: []}
    for index in range(8):
        referral = send_referral(client, auth, demo_patient(session, "399", index).id)
        family = index < 6
        visit = Visit(
            referral_id=uuid.UUID(referral["id"]), patient_id=uuid.UUID(referral["patient_id"]),
            service_id=uuid.UUID(referral["service_id"]), counsellor_subject="counsellor1.laihia",
            visited_on=date(2025, 5, 5 + index), contact_type="in_person", duration_minutes=60,
            family_visit=family, guardian_present=family,
        )  # fmt: skip
        session.add(visit)
        session.flush()
        held[family].append(visit.id)
    session.commit()
    facts_follow(session)
    response = client.get(
        "/api/v1/stats/visits",
        params={"visited_from": "2025-01-01", "visited_to": "2025-12-31",
                "group_by": "family_visit"},
        headers={**auth("statistician.region"), "Accept-Language": "sv"},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    cells = {cell["groups"]["family_visit"]: cell["visits"] for cell in response.json()["cells"]}
    assert set(cells) == set(FAMILY_VISITS.labels)
    assert cells["family"] == published(session, held[True])
    assert cells["individual"] == published(session, held[False])
    stored = dict(session.execute(select(VisitFact.visit_id, VisitFact.family_visit)).all())
    session.execute(delete(VisitFact))
    facts.rebuild(session)
    assert dict(session.execute(select(VisitFact.visit_id, VisitFact.family_visit)).all()) == (
        stored
    )
    assert {stored[visit] for visit in held[True]} == {2}
