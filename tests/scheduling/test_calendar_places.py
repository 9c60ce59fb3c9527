"""The calendar feed names a bilingual municipality's place in the language the counsellor
chose for the pages, or by both its names when they have chosen none."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from icalendar import Calendar
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.models import User
from tests.notices.test_notice_languages import HALL_FI, HALL_SV, book_at_the_hall
from tests.scheduling.test_booking import user_id

Auth = Callable[[str], dict[str, str]]


@pytest.mark.parametrize(
    ("chosen", "shown"),
    [(None, f"{HALL_FI} / {HALL_SV}"), ("fi", HALL_FI), ("sv", HALL_SV), ("en", HALL_FI)],
)
def test_the_feed_names_the_place_in_the_counsellors_language(
    client: TestClient, auth: Auth, session: Session, chosen: str | None, shown: str
) -> None:
    book_at_the_hall(client, auth, session, "fi")
    counsellor = session.get(User, user_id(session, "counsellor1.kaskinen"))
    assert counsellor is not None
    counsellor.page_language = chosen
    session.flush()
    url = f"/api/v1/counsellors/{counsellor.id}/calendar-token"
    feed_url = client.post(url, headers=auth("counsellor1.kaskinen")).json()["url"]
    feed = client.get(feed_url)
    assert feed.status_code == 200
    [event] = Calendar.from_ical(feed.content).walk("VEVENT")
    assert str(event["location"]) == shown
