"""The service-chain funnel against referrals made by hand through the API."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.kit.clock import today_in_helsinki, utcnow
from app.referrals.models import Referral
from tests.fixtures.factories import act, demo_patient, send_referral
from tests.fixtures.journeys import booked_referral, visit_body

Auth = Callable[[str], dict[str, str]]
COUNSELLOR = "counsellor1.laihia"


@pytest.fixture
def chain(client: TestClient, auth: Auth, session: Session) -> None:
    """Laihia, this year: six referrals. Two booked (one seen: its appointment attended), one
    rejected, one cancelled by the patient, two only sent."""
    seen, attended = booked_referral(client, auth, session, patient_index=0)
    response = client.post(f"/api/v1/appointments/{attended['id']}/attended",
                           headers=auth(COUNSELLOR))  # fmt: skip
    assert response.status_code == 200, response.text
    # Sent twenty days ago, seen ten days later and today: a 10-day wait, +50 min a week.
    session.execute(update(Referral).where(Referral.id == uuid.UUID(seen["id"]))
                    .values(created_at=utcnow() - timedelta(days=20)))  # fmt: skip
    session.commit()
    today = today_in_helsinki()
    for days_ago, per_day in ((10, 20), (0, 45)):
        body = visit_body(visited_on=str(today - timedelta(days=days_ago)),
                          mvpa_minutes_per_day=per_day)  # fmt: skip
        recorded = client.post(f"/api/v1/referrals/{seen['id']}/visits", json=body,
                               headers=auth(COUNSELLOR))  # fmt: skip
        assert recorded.status_code == 201, recorded.text
    later = act(
        client,
        auth,
        COUNSELLOR,
        send_referral(client, auth, demo_patient(session, "399", 1).id),
        "accept",
    ).json()
    slots = client.get("/api/v1/slots", params={"service_id": later["service_id"]},
                       headers=auth(COUNSELLOR)).json()["items"]  # fmt: skip
    booking = {"slot_id": slots[-1]["id"], "referral_id": later["id"]}
    assert client.post("/api/v1/appointments", json=booking,
                       headers=auth(COUNSELLOR)).status_code == 201  # fmt: skip
    rejected = send_referral(client, auth, demo_patient(session, "399", 2).id)
    act(client, auth, COUNSELLOR, rejected, "reject",
        {"reason_code": "not_eligible", "reason_text": "Ei kriteerejä."})  # fmt: skip
    cancelled = send_referral(client, auth, demo_patient(session, "399", 3).id)
    act(client, auth, "doctor.laihia", cancelled, "cancel",
        {"cancelled_by": "patient", "reason_code": "other", "reason_text": "Muutti."})  # fmt: skip
    for index in (4, 5):
        send_referral(client, auth, demo_patient(session, "399", index).id)


def funnel(client: TestClient, auth: Auth, user: str = "statistician.laihia", **params: Any) -> Any:
    today = today_in_helsinki()
    query = {"sent_from": str(today.replace(month=1, day=1)), "sent_to": str(today), **params}
    response = client.get("/api/v1/stats/referrals", params=query, headers=auth(user))
    assert response.status_code == 200, response.text
    return response


def test_the_funnel_counts_what_happened(client: TestClient, auth: Auth, chain: None) -> None:
    total = funnel(client, auth).json()["total"]
    assert total["counts"] == {
        "sent": 6, "accepted": 2, "rejected": 1, "returned": 0, "booked": 2, "first_visit": 1,
        "completed": 0, "cancelled": 1, "attended": 1, "no_show": 0,
    }  # fmt: skip
    assert total["no_show_rate"] == 0.0
    assert (total["waiting_days_median"], total["waiting_days_p90"]) == (10, 10)
    assert total["activity_change_median"] == 50


def test_small_groups_are_hidden_with_their_complement(
    client: TestClient, auth: Auth, chain: None
) -> None:
    by_sex = funnel(client, auth, group_by="sex").json()
    for cell in by_sex["cells"]:
        shown = [value for value in cell["counts"].values() if value != "<5"]
        assert shown == [] or cell["counts"]["sent"] >= 5, cell


def test_the_csv_says_the_same(client: TestClient, auth: Auth, chain: None) -> None:
    body = funnel(client, auth).json()
    text = funnel(client, auth, format="csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header, total = rows[0], rows[-1]
    assert header[:2] == ["sent", "accepted"]
    assert total[:2] == [str(body["total"]["counts"]["sent"]),
                         str(body["total"]["counts"]["accepted"])]  # fmt: skip


def test_another_municipality_sees_none_of_it(client: TestClient, auth: Auth, chain: None) -> None:
    assert funnel(client, auth, "statistician.kaskinen").json()["total"]["counts"]["sent"] == 0
