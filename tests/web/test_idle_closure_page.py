"""A referral closed for its counselling period ending says so on its page, in the reader's
language."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.flows.idle_referrals import close_idle
from tests.fixtures.counselling_pages import Auth, accepted_referral, signed_in


def test_the_timeline_names_the_closing_reason_in_swedish(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    referral = accepted_referral(client, auth, session)
    later = datetime.now(UTC) + timedelta(days=400)
    assert close_idle(session, later) == [uuid.UUID(referral["id"])]
    signed_in(pages, language="sv")
    page = pages.get(f"/referrals/{referral['id']}")
    assert page.status_code == 200, page.text
    assert "Rådgivningsperioden tog slut: 12 månader utan besök eller annan händelse" in page.text
    assert "counselling_period_expired" not in page.text
