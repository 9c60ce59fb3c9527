"""The counselling tab's scene: an accepted referral sent two months ago, so that its visits
can be dated from then on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from tests.fixtures.factories import act, backdate, demo_patient, send_referral

SENT_DAYS_AGO = 60


@pytest.fixture
def referral(
    client: TestClient, auth: Callable[[str], dict[str, str]], session: Session
) -> dict[str, Any]:
    """An accepted referral, sent two months ago."""
    sent = send_referral(client, auth, demo_patient(session, "399").id)
    accepted = act(client, auth, "counsellor1.laihia", sent, "accept")
    assert accepted.status_code == 200, accepted.text
    result: dict[str, Any] = accepted.json()
    backdate(session, result["id"], SENT_DAYS_AGO)
    return result
