"""A referral left idle past its counselling period (twelve months without a visit or any other
step since it was accepted) is closed with a coded reason, once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.flows.idle_referrals import close_idle
from app.jobs.models import OutboxEvent
from app.kit.clock import HELSINKI, add_months
from app.referrals.models import Referral, ReferralEvent
from app.referrals.states import COUNSELLING_PERIOD_EXPIRED
from tests.counselling.test_tab import record
from tests.fixtures.factories import act, backdate, demo_patient, send_referral

Auth = Callable[[str], dict[str, str]]


def accepted(client: TestClient, auth: Auth, session: Session, code: str) -> dict[str, Any]:
    sent = send_referral(client, auth, demo_patient(session, code).id)
    taken = act(client, auth, "counsellor1.laihia", sent, "accept")
    assert taken.status_code == 200, taken.text
    result: dict[str, Any] = taken.json()
    backdate(session, result["id"], 60)
    return result


def last_step_day(session: Session, referral_id: uuid.UUID) -> datetime:
    statement = select(ReferralEvent.occurred_at).where(ReferralEvent.referral_id == referral_id)
    return max(session.scalars(statement)).astimezone(HELSINKI)


def noon_after(day: datetime, months: int, days: int) -> datetime:
    moment = add_months(day.date(), months) + timedelta(days=days)
    return datetime.combine(moment, time(12), HELSINKI).astimezone(UTC)


def cancels(session: Session, referral_id: uuid.UUID) -> list[ReferralEvent]:
    statement = select(ReferralEvent).where(
        ReferralEvent.referral_id == referral_id, ReferralEvent.action == "cancel"
    )
    return list(session.scalars(statement))


def test_idle_twelve_months_and_a_day_is_closed_with_the_coded_reason_once(
    client: TestClient, auth: Auth, session: Session
) -> None:
    referral_id = uuid.UUID(accepted(client, auth, session, "399")["id"])
    last = last_step_day(session, referral_id)
    assert close_idle(session, noon_after(last, 12, 0)) == []  # exactly twelve months: not yet
    assert close_idle(session, noon_after(last, 12, 1)) == [referral_id]
    referral = session.get(Referral, referral_id)
    assert referral is not None
    assert (referral.status, referral.status_reason_code) == (
        "cancelled",
        COUNSELLING_PERIOD_EXPIRED,
    )
    assert close_idle(session, noon_after(last, 12, 2)) == []
    [event] = cancels(session, referral_id)
    assert (event.from_status, event.reason_code) == ("accepted", COUNSELLING_PERIOD_EXPIRED)
    published = select(OutboxEvent).where(
        OutboxEvent.aggregate_id == referral_id, OutboxEvent.event_type == "referral.cancel"
    )
    assert len(session.scalars(published).all()) == 1
    audited = select(AuditEvent).where(
        AuditEvent.resource_id == str(referral_id), AuditEvent.action == "cancel"
    )
    assert [e.actor for e in session.scalars(audited)] == ["askel-idle-closure"]


def test_a_recent_visit_keeps_the_referral_open(
    client: TestClient, auth: Auth, session: Session
) -> None:
    referral = accepted(client, auth, session, "399")
    referral_id = uuid.UUID(referral["id"])
    assert record(client, auth, referral).status_code == 201
    # Every other step long ago: only the visit, a month back, is recent.
    long_ago = datetime.now(UTC) - timedelta(days=800)
    session.execute(
        update(ReferralEvent)
        .where(ReferralEvent.referral_id == referral_id)
        .values(occurred_at=long_ago)
    )
    session.flush()
    assert close_idle(session, datetime.now(UTC)) == []
    assert cancels(session, referral_id) == []
    # A year and a month after the visit, it is idle too.
    assert close_idle(session, datetime.now(UTC) + timedelta(days=400)) == [referral_id]


def test_the_history_names_the_reason_in_the_readers_language(
    client: TestClient, auth: Auth, session: Session
) -> None:
    referral_id = uuid.UUID(accepted(client, auth, session, "399")["id"])
    close_idle(session, datetime.now(UTC) + timedelta(days=400))
    timeline = client.get(
        f"/api/v1/referrals/{referral_id}/events", headers=auth("doctor.laihia")
    ).json()["items"]
    assert timeline[-1]["reason_code"] == COUNSELLING_PERIOD_EXPIRED


def test_a_referral_written_without_steps_is_as_recent_as_its_last_change(
    client: TestClient, auth: Auth, session: Session
) -> None:
    referral_id = uuid.UUID(accepted(client, auth, session, "399")["id"])
    # As a bulk load leaves one: no step on its timeline, changed today.
    session.execute(
        ReferralEvent.__table__.delete().where(ReferralEvent.referral_id == referral_id)
    )
    changed = datetime.now(UTC)
    session.execute(update(Referral).where(Referral.id == referral_id).values(updated_at=changed))
    session.flush()
    today = changed.astimezone(HELSINKI)
    assert close_idle(session, noon_after(today, 1, 0)) == []
    assert close_idle(session, noon_after(today, 12, 1)) == [referral_id]
