"""The municipality card: an HTML page with its four charts, each also a PNG, from the same
protected statistics as the API, with the note on their protection; the region's statisticians
for any municipality, a municipality's for its own only."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from PIL import Image, ImageFont
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.kit.clock import set_to
from app.patients.models import Patient
from app.statistics import card
from app.statistics.card import CHARTS
from tests.fixtures.principals import principal_for
from tests.statistics.test_visits import visits  # noqa: F401 - the hand-made visits

Auth = Callable[[str], dict[str, str]]
CARD = "/api/v1/stats/municipalities/399/card"


def test_the_card_renders_with_its_charts(
    client: TestClient,
    auth: Auth,
    visits: list[Patient],  # noqa: F811
) -> None:
    response = client.get(CARD, params={"year": 2025}, headers=auth("statistician.laihia"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "Liikuntaneuvonta 2025: Laihia" in page
    assert page.count("<img src=") == len(CHARTS)
    assert "häiritystaulukko 1" in page
    # The months' figures are the API's, cell for cell.
    months = client.get("/api/v1/stats/visits", headers=auth("statistician.laihia"), params={
        "visited_from": "2025-01-01", "visited_to": "2025-12-31", "group_by": "month",
    }).json()["cells"]  # fmt: skip
    first_table = page[page.index("<table>") : page.index("</table>")]
    drawn = re.findall(r"<td>(.*?)</td>", first_table)
    assert drawn == [html.escape(str(cell["visits"])) for cell in months]
    for chart in CHARTS:
        png = client.get(f"{CARD}/{chart}.png", params={"year": 2025},
                         headers=auth("statistician.region"))  # fmt: skip
        assert png.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(png.content))
        assert image.format == "PNG"
        assert image.width == 640


def test_the_charts_label_their_bars_in_the_readers_words(
    session: Session,
    visits: list[Patient],  # noqa: F811
) -> None:
    statistician = principal_for(session, "statistician.region")
    with set_to(datetime(2025, 10, 15, 9, tzinfo=UTC)):
        months = card.chart(session, statistician, "399", 2025, "sv", "visits_by_month")
        funnel = card.chart(session, statistician, "399", 2025, "fi", "funnel")
        ages = card.chart(session, statistician, "399", 2025, "en", "age_bands")
        quarters = card.chart(session, statistician, "399", 2025, "fi", "activity_change")
    assert [label for label, _ in months.bars][:2] == ["Januari", "Februari"]
    # The months still to come have no figure: nothing happened in them yet.
    assert [value for _, value in months.bars][10:] == [None, None]
    assert None not in [value for _, value in months.bars][:10]
    assert funnel.bars[0][0] == "Lähetetyt lähetteet"
    assert all("\u2013" in label or label == "75+" for label, _ in ages.bars)
    assert [label for label, _ in quarters.bars] == [f"{n}. neljännes" for n in range(1, 5)]


def test_the_card_speaks_swedish_too(client: TestClient, auth: Auth) -> None:
    headers = {**auth("statistician.region"), "Accept-Language": "sv"}
    response = client.get(CARD, params={"year": 2025}, headers=headers)
    assert "Motionsrådgivning 2025" in response.text


@pytest.mark.parametrize(("user", "status"), [
    ("statistician.isokyro", 403), ("doctor.laihia", 403), ("auditor.region", 403),
])  # fmt: skip
def test_only_the_municipality_and_the_region_see_its_card(
    client: TestClient, auth: Auth, user: str, status: int
) -> None:
    assert client.get(CARD, params={"year": 2025}, headers=auth(user)).status_code == status


def test_a_municipality_not_in_the_region_has_no_card(client: TestClient, auth: Auth) -> None:
    response = client.get("/api/v1/stats/municipalities/091/card", params={"year": 2025},
                          headers=auth("statistician.region"))  # fmt: skip
    assert response.status_code == 404


def test_charts_are_drawn_with_a_font_that_has_nordic_letters() -> None:
    font = card._font()
    assert isinstance(font, ImageFont.FreeTypeFont)
    assert font.getname()[0] == "DejaVu Sans"
