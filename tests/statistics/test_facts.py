"""The statistics facts follow the records: what the refreshes after the writes make is what a
rebuild from the records makes, a correction or a move shows in the next refresh, and the build
happens once per definition."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import delete, literal, select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.counselling.models import Visit
from app.kit.models import UTCDateTime
from app.referrals.models import Referral
from app.statistics import facts
from app.statistics.facts import CONTACT_TYPES, SEXES
from app.statistics.models import FactBuild, RecordKey, ReferralFact, VisitFact
from tests.fixtures.factories import demo_patient, send_referral
from tests.fixtures.facts import facts_follow
from tests.fixtures.journeys import booked_referral, completed_referral

Auth = Callable[[str], dict[str, str]]
COUNSELLOR = "counsellor1.laihia"


def _facts(session: Session) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    visits = session.execute(select(*VisitFact.__table__.c)).all()
    referrals = session.execute(select(*ReferralFact.__table__.c)).all()
    return {tuple(row) for row in visits}, {tuple(row) for row in referrals}


def _record_keys(session: Session) -> dict[uuid.UUID, int]:
    return dict(session.execute(select(RecordKey.record_id, RecordKey.record_key)).all())


def test_the_facts_made_after_the_writes_are_those_a_rebuild_makes(
    client: TestClient, auth: Auth, session: Session
) -> None:
    # Sent, accepted, booked, seen, the visit corrected, a plan, completed; another referral
    # booked and missed; a third only sent.
    completed = completed_referral(client, auth, session, patient_index=0)
    missed, appointment = booked_referral(client, auth, session, patient_index=1)
    marked = client.post(f"/api/v1/appointments/{appointment['id']}/no-show",
                         headers=auth(COUNSELLOR))  # fmt: skip
    assert marked.status_code == 200, marked.text
    send_referral(client, auth, demo_patient(session, "152", 2).id, sender="doctor.isokyro")
    assert facts_follow(session) == 3
    kept = _facts(session)
    keys = _record_keys(session)

    facts.rebuild(session)

    # The record keys with them: given once, never changed.
    assert _facts(session) == kept
    assert _record_keys(session) == keys
    counted = {row.visit_id for row in session.execute(select(VisitFact.visit_id))}
    assert counted <= set(keys)
    fact = session.get(ReferralFact, uuid.UUID(completed["id"]))
    assert fact is not None
    steps = ("accepted", "booked", "first_visit", "completed", "attended", "no_show")
    # The visit recorded against the appointment marked it attended.
    assert [getattr(fact, step) for step in steps] == [1, 1, 1, 1, 1, 0]
    missed_fact = session.get(ReferralFact, uuid.UUID(missed["id"]))
    assert missed_fact is not None
    assert [getattr(missed_fact, step) for step in steps] == [1, 1, 0, 0, 0, 1]
    # The corrected visit is not counted; its correction is.
    standing = session.scalars(
        select(Visit.id).where(
            Visit.referral_id == uuid.UUID(completed["id"]), Visit.corrected.is_(False)
        )
    ).all()
    counted = session.scalars(
        select(VisitFact.visit_id).where(VisitFact.referral_id == uuid.UUID(completed["id"]))
    ).all()
    assert len(counted) == 1
    assert counted == standing


def test_a_patient_who_moves_is_counted_in_the_new_municipality_after_the_move_commits(
    client: TestClient, auth: Auth, session: Session
) -> None:
    patient = demo_patient(session, "399", 3)
    referral = send_referral(client, auth, patient.id)
    session.add(Visit(
        referral_id=uuid.UUID(referral["id"]), patient_id=patient.id,
        service_id=uuid.UUID(referral["service_id"]), counsellor_subject=COUNSELLOR,
        counsellor_profession="counsellor", visited_on=date(2025, 3, 10), contact_type="phone",
        duration_minutes=30,
    ))  # fmt: skip
    session.commit()
    facts_follow(session)
    patient.home_municipality_code = "152"
    session.commit()
    assert facts_follow(session) == 1
    visit_fact = session.scalars(select(VisitFact).where(VisitFact.patient_id == patient.id)).one()
    referral_fact = session.get(ReferralFact, uuid.UUID(referral["id"]))
    assert referral_fact is not None
    assert (visit_fact.municipality, referral_fact.municipality) == ("152", "152")
    assert CONTACT_TYPES.label(visit_fact.contact_type) == "phone"
    assert SEXES.label(visit_fact.sex) == patient.sex
    # Moved out of the region, and speaking a language Askel does not: both "other", which is
    # always listed, rather than a value that shows only when someone has it.
    patient.home_municipality_code, patient.language = "091", "so"
    session.commit()
    facts_follow(session)
    session.refresh(visit_fact)
    assert (visit_fact.municipality, visit_fact.language) == ("other", "other")


def test_the_facts_are_built_once_for_their_definition(session: Session) -> None:
    session.execute(delete(FactBuild))
    assert facts.ensure_built(session) is True
    assert session.scalars(select(FactBuild.version)).all() == [facts.FACTS_VERSION]
    assert facts.ensure_built(session) is False


def test_a_value_outside_a_vocabulary_is_other_and_none_stays_none() -> None:
    assert (CONTACT_TYPES.label(0), CONTACT_TYPES.label(None)) == ("other", None)
    assert CONTACT_TYPES.label(CONTACT_TYPES.labels.index("video") + 1) == "video"


@pytest.mark.postgres_only
def test_a_referral_sent_after_midnight_in_helsinki_counts_in_that_month(
    client: TestClient, auth: Auth, session: Session
) -> None:
    referral = send_referral(client, auth, demo_patient(session, "399", 4).id)
    # 22:30 UTC on 31 March is 01:30 on 1 April in Helsinki (summer time).
    sent = datetime(2025, 3, 31, 22, 30, tzinfo=UTC)
    session.execute(
        update(Referral).where(Referral.id == uuid.UUID(referral["id"])).values(created_at=sent)
    )
    facts_follow(session)
    response = client.get(
        "/api/v1/stats/referrals",
        params={"sent_from": "2025-04-01", "sent_to": "2025-04-30", "group_by": "month"},
        headers=auth("statistician.region"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [cell["groups"]["month"] for cell in body["cells"]] == ["2025-04"]
    assert body["total"]["counts"]["sent"] == "<5"


@pytest.mark.parametrize(
    ("stored", "day"),
    [
        # Winter (UTC+2) and summer (UTC+3): the hours after Helsinki's midnight are its new day.
        (datetime(2026, 11, 29, 21, 59, tzinfo=UTC), date(2026, 11, 29)),
        (datetime(2026, 11, 29, 22, 0, tzinfo=UTC), date(2026, 11, 30)),
        (datetime(2026, 7, 1, 20, 59, tzinfo=UTC), date(2026, 7, 1)),
        (datetime(2026, 7, 1, 21, 0, tzinfo=UTC), date(2026, 7, 2)),
    ],
)
def test_a_stored_time_counts_on_its_helsinki_day(
    session: Session, stored: datetime, day: date
) -> None:
    moment = literal(stored, type_=UTCDateTime())
    assert session.scalar(select(facts.helsinki_date(moment))) == day
