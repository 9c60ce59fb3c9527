"""The service-chain funnel against referrals made by hand through the API."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.kit.clock import today_in_helsinki, utcnow
from app.referrals.models import Referral
from app.statistics import repository
from app.statistics.models import ReferralFact
from app.statistics.perturbation import protected
from app.statistics.repository import Scope
from app.statistics.schemas import FUNNEL
from tests.fixtures.factories import act, demo_patient, send_referral
from tests.fixtures.facts import facts_follow
from tests.fixtures.journeys import booked_referral, visit_body
from tests.statistics.published import keys_of

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
    facts_follow(session)


def funnel(client: TestClient, auth: Auth, user: str = "statistician.laihia", **params: Any) -> Any:
    year = today_in_helsinki().year
    query = {"sent_from": f"{year}-01-01", "sent_to": f"{year}-12-31", **params}
    response = client.get("/api/v1/stats/referrals", params=query, headers=auth(user))
    assert response.status_code == 200, response.text
    return response


def _this_year() -> tuple[date, date]:
    year = today_in_helsinki().year
    return date(year, 1, 1), date(year, 12, 31)


def test_the_funnel_counts_what_happened(session: Session, chain: None) -> None:
    total = repository.referral_funnel(session, [], *_this_year(), Scope("399")).total
    assert {step: getattr(total, step) for step in FUNNEL} == {
        "sent": 6, "accepted": 2, "rejected": 1, "returned": 0, "booked": 2, "first_visit": 1,
        "completed": 0, "cancelled": 1, "attended": 1, "no_show": 0,
    }  # fmt: skip
    assert (total.waiting_days_median, total.waiting_days_p90) == (10, 10)
    assert total.activity_change_median == 50
    assert (total.marked_patients, total.waited_patients, total.changed_patients) == (1, 1, 1)


def test_each_stage_is_published_perturbed_by_its_referrals_keys(
    client: TestClient, auth: Auth, session: Session, chain: None
) -> None:
    counts = funnel(client, auth).json()["total"]["counts"]
    facts = session.scalars(select(ReferralFact).where(ReferralFact.municipality == "399")).all()
    for step in FUNNEL:
        # Each referral once for its steps, each appointment once for attended and no_show.
        records = [(f.referral_id, 1 if step == "sent" else getattr(f, step)) for f in facts]
        keys = keys_of(session, [referral for referral, _ in records])
        expected = protected(sum(n for _, n in records),
                             sum(keys[referral] * n for referral, n in records))  # fmt: skip
        assert counts[step] == expected, step


def test_figures_of_fewer_than_five_patients_are_not_shown(
    client: TestClient, auth: Auth, chain: None
) -> None:
    total = funnel(client, auth).json()["total"]
    # One patient waited, changed and had an appointment marked: too few for any figure.
    assert total["waiting_days_median"] == total["waiting_days_p90"] == "not shown"
    assert total["activity_change_median"] == total["no_show_rate"] == "not shown"
    # Nor where nobody is behind it: that would tell the empty cells from the small ones.
    kaskinen = funnel(client, auth, "statistician.kaskinen").json()["total"]
    assert kaskinen["waiting_days_median"] == kaskinen["no_show_rate"] == "not shown"


def test_every_cell_is_listed_and_the_csv_says_the_same(
    client: TestClient, auth: Auth, chain: None
) -> None:
    by_sex = funnel(client, auth, group_by="sex").json()
    # The sex as recorded: other and unknown are listed as their own groups, empty or not.
    assert [cell["groups"]["sex"] for cell in by_sex["cells"]] == [
        "female",
        "male",
        "other",
        "unknown",
    ]
    body = funnel(client, auth).json()
    text = funnel(client, auth, format="csv").content.decode("utf-8-sig")
    note, *table = text.splitlines()
    assert note.startswith("# ")
    assert "<5" in note
    rows = list(csv.reader(io.StringIO("\n".join(table))))
    header, total = rows[0], rows[-1]
    assert header[:2] == ["sent", "accepted"]
    assert total[:2] == [str(body["total"]["counts"]["sent"]),
                         str(body["total"]["counts"]["accepted"])]  # fmt: skip


def test_another_municipality_sees_none_of_it(client: TestClient, auth: Auth, chain: None) -> None:
    counts = funnel(client, auth, "statistician.kaskinen").json()["total"]["counts"]
    assert set(counts.values()) == {"<5"}
