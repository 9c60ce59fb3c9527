"""The statisticians' pages: the table builder shows the API's own figures for the groupings and
the whole month, quarter or year chosen, its protected cells marked and explained, its CSV is the
same table; the municipality card opens in the browser with its chart images, each described in
words and with its figures in a table; the same audit entries as the API's; everyone without
the statistics permission gets the forbidden page."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.patients.models import Patient
from app.statistics.card import CHARTS
from app.statistics.pages import TableChoice
from app.statistics.schemas import FUNNEL
from tests.fixtures.pages import follow, sign_in
from tests.statistics.test_visits import visits  # noqa: F401 - the hand-made visits

Auth = Callable[[str], dict[str, str]]
REGION, LAIHIA, ISOKYRO = "statistician.region", "statistician.laihia", "statistician.isokyro"
CARD = "/statistics/municipalities/399/card"
PROTECTED = "stat-figure--protected"


class _Tables(HTMLParser):
    """The statistics tables of a page: each row as its cells' (tag, classes, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[tuple[str, str, str]]]] = []
        self._cell: list[str] | None = None
        self._cell_tag, self._cell_class = "", ""
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {key: value or "" for key, value in attrs}
        if tag == "table" and "stat-table" in named.get("class", ""):
            self.tables.append([])
            self._depth = 1
        elif self._depth and tag == "tr":
            self.tables[-1].append([])
        elif self._depth and tag in ("th", "td"):
            self._cell, self._cell_tag, self._cell_class = [], tag, named.get("class", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._depth = 0
        elif self._cell is not None and tag in ("th", "td"):
            text = " ".join("".join(self._cell).split())
            self.tables[-1][-1].append((self._cell_tag, self._cell_class, text))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> list[list[list[tuple[str, str, str]]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def figures(row: list[tuple[str, str, str]]) -> list[str]:
    return [text for tag, _, text in row if tag == "td"]


def labels(row: list[tuple[str, str, str]]) -> list[str]:
    return [text for tag, _, text in row if tag == "th"]


def shown(value: Any) -> str:
    """A published figure as the English page writes it."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def signed_in(pages: TestClient, user: str = REGION, language: str = "en") -> TestClient:
    pages.headers["Accept-Language"] = language
    sign_in(pages, user)
    return pages


def api(client: TestClient, auth: Auth, path: str, user: str = REGION, **params: Any) -> Any:
    answer = client.get(f"/api/v1/stats/{path}", params=params, headers=auth(user))
    assert answer.status_code == 200, answer.text
    return answer


def statistics_queries(session: Session) -> int:
    session.expire_all()
    counted = select(func.count()).where(AuditEvent.resource_type == "Statistics")
    return session.scalar(counted) or 0


def last_audit(session: Session) -> AuditEvent:
    session.expire_all()
    statement = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)
    return session.scalars(statement).one()


def test_a_statistician_starts_at_the_table_builder_with_its_entries_in_the_navigation(
    pages: TestClient,
) -> None:
    landed = signed_in(pages, language="fi")
    answer = follow(landed, landed.get("/"))
    assert answer.url.path == "/statistics"
    assert "<h1>Tilastotaulukot</h1>" in answer.text
    assert '<a href="/statistics" aria-current="page">Tilastotaulukot</a>' in answer.text
    assert '<a href="/statistics/card">Kuntakortti</a>' in answer.text
    assert "Lasketaan: koko hyvinvointialue." in answer.text
    # Nothing is counted before it is asked for.
    assert tables(answer.text) == []


@pytest.mark.parametrize(
    ("choice", "groups", "first", "last"),
    [
        ({"measure": "visits", "year": "2025", "part": "year"}, ["sex"], "2025-01-01",
         "2025-12-31"),
        ({"measure": "visits", "year": "2025", "part": "q1"}, ["month", "contact_type"],
         "2025-01-01", "2025-03-31"),
        ({"measure": "visits", "year": "2025", "part": "m04"}, ["municipality"], "2025-04-01",
         "2025-04-30"),
        ({"measure": "referrals", "year": "2025", "part": "year"}, ["age_band"], "2025-01-01",
         "2025-12-31"),
        ({"measure": "visits", "year": "2025", "part": "q4"}, [], "2025-10-01", "2025-12-31"),
    ],
)  # fmt: skip
def test_the_table_is_the_apis_for_the_groupings_and_period_chosen(
    pages: TestClient,
    client: TestClient,
    auth: Auth,
    visits: list[Patient],  # noqa: F811
    choice: dict[str, str],
    groups: list[str],
    first: str,
    last: str,
) -> None:
    page = signed_in(pages).get("/statistics", params={**choice, "group_by": groups})
    assert page.status_code == 200, page.text
    starts, ends = date.fromisoformat(first), date.fromisoformat(last)
    span_shown = f"{starts.day}.{starts.month}.2025\u2013{ends.day}.{ends.month}.2025"
    assert span_shown in page.text
    measure = choice["measure"]
    span = "visited" if measure == "visits" else "sent"
    body = api(client, auth, measure, **{f"{span}_from": first, f"{span}_to": last,
                                        "group_by": groups}).json()  # fmt: skip
    [table] = tables(page.text)
    header, *rows, total = table
    names = ["Visits", "Patients"] if measure == "visits" else ["Referrals sent", "Accepted"]
    assert labels(header)[len(groups) :][:2] == names

    def published(cell: dict[str, Any]) -> list[str]:
        if measure == "visits":
            return [shown(cell["visits"]), shown(cell["patients"])]
        rate = cell["no_show_rate"]
        return [*(shown(cell["counts"][step]) for step in FUNNEL), shown(rate)]

    expected_rows = body["cells"] if groups else []
    assert [figures(row) for row in rows] == [published(cell) for cell in expected_rows]
    assert labels(total) == ["Total"]
    assert figures(total) == published(body["total"])
    for row in rows:
        assert len(labels(row)) == len(groups)


def test_protected_cells_are_marked_and_explained(
    pages: TestClient,
    visits: list[Patient],  # noqa: F811
) -> None:
    page = signed_in(pages).get(
        "/statistics", params={"measure": "visits", "year": "2025", "part": "year",
                               "group_by": ["month", "sex"]},
    )  # fmt: skip
    cells = [cell for row in tables(page.text)[0][1:] for cell in row if cell[0] == "td"]
    hidden = [cell for cell in cells if cell[2] == "<5"]
    assert hidden, "a year by month and sex of nine people has small cells"
    assert all(PROTECTED in classes for _, classes, text in cells if text == "<5")
    assert all(PROTECTED not in classes for _, classes, text in cells if text != "<5")
    assert f"Protected counts shown as &lt;5 or not shown: {len(hidden)} of {len(cells)}." in (
        page.text
    )
    assert "How the figures protect people" in page.text
    assert "moved up or down by at most 4" in page.text
    assert "perturbation table 1" in page.text


def test_the_csv_is_the_same_table(
    pages: TestClient,
    visits: list[Patient],  # noqa: F811
) -> None:
    for measure in ("visits", "referrals"):
        query = {"measure": measure, "year": "2025", "part": "q1", "group_by": ["month", "sex"]}
        page = signed_in(pages).get("/statistics", params=query)
        link = re.search(r'href="(/statistics/table\.csv\?[^"]+)"', page.text)
        assert link is not None
        download = pages.get(link.group(1).replace("&amp;", "&"))
        assert download.status_code == 200
        assert download.headers["content-type"] == "text/csv; charset=utf-8"
        assert download.headers["content-disposition"] == (
            f'attachment; filename="askel-{measure}-2025-01-01-2025-03-31.csv"'
        )
        assert download.content.startswith("\ufeff".encode())
        note, *lines = download.content.decode("utf-8-sig").splitlines()
        assert note.startswith("# Counts are protected by the cell key method")
        header, *rows = list(csv.reader(io.StringIO("\n".join(lines))))
        assert header[:2] == ["month", "sex"]
        [table] = tables(page.text)
        assert [row[2:] for row in rows] == [figures(row) for row in table[1:]]
        assert [row[0] for row in rows[:-1]] == [labels(row)[0] for row in table[1:-1]]
        assert rows[-1][0] == "total"


def test_the_period_ends_with_its_month_quarter_or_year() -> None:
    assert TableChoice("visits", (), 2025, "m12").period == (date(2025, 12, 1), date(2025, 12, 31))
    assert TableChoice("visits", (), 2024, "m02").period == (date(2024, 2, 1), date(2024, 2, 29))
    assert TableChoice("visits", (), 2025, "q4").period == (date(2025, 10, 1), date(2025, 12, 31))
    assert TableChoice("visits", (), 2025, "q2").period == (date(2025, 4, 1), date(2025, 6, 30))
    assert TableChoice("visits", (), 2025, "year").period == (date(2025, 1, 1), date(2025, 12, 31))


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"measure": "visits", "group_by": ["month", "sex", "language", "age_band", "service"]},
         "group_by", "Choose at most four groupings."),
        ({"measure": "referrals", "group_by": ["contact_type"]}, "group_by",
         "Contact type and the counsellor&#39;s profession are for visits only."),
        ({"measure": "visits", "part": "week"}, "part",
         "Choose the whole year, a quarter or a month."),
        ({"measure": "visits", "year": "1999"}, "year", "Choose a year."),
        ({"measure": "people"}, "measure", "Choose what to count."),
    ],
)  # fmt: skip
def test_a_choice_not_offered_is_shown_on_the_form_and_counts_nothing(
    pages: TestClient, session: Session, params: dict[str, Any], field: str, message: str
) -> None:
    signed_in(pages)
    before = statistics_queries(session)
    page = pages.get("/statistics", params={"year": "2025", "part": "year", **params})
    assert page.status_code == 422
    assert f'<a href="#f-{field}">{message}</a>' in page.text
    assert f'id="f-{field}-error">{message}</span>' in page.text
    assert tables(page.text) == []
    assert pages.get("/statistics/table.csv", params=params).status_code == 422
    assert statistics_queries(session) == before


def test_a_table_and_its_csv_leave_the_apis_audit_entry(
    pages: TestClient, session: Session
) -> None:
    signed_in(pages)
    for path in ("/statistics", "/statistics/table.csv"):
        answer = pages.get(path, params={"measure": "referrals", "year": "2025", "part": "q2"})
        assert answer.status_code == 200
        entry = last_audit(session)
        seen = (entry.actor, entry.action, entry.resource_type, entry.resource_id)
        assert seen == (REGION, "query", "Statistics", "referrals")
        assert entry.patient_id is None


def test_a_municipalitys_statistician_counts_its_own_residents(
    pages: TestClient,
    client: TestClient,
    auth: Auth,
    visits: list[Patient],  # noqa: F811
) -> None:
    page = signed_in(pages, LAIHIA).get(
        "/statistics", params={"measure": "visits", "year": "2025", "part": "year",
                               "group_by": "municipality"},
    )  # fmt: skip
    assert "Counted: residents whose home municipality is Laihian kunta." in page.text
    [table] = tables(page.text)
    assert [labels(row) for row in table[1:-1]] == [["Laihian kunta"]]
    body = api(client, auth, "visits", LAIHIA, visited_from="2025-01-01",
               visited_to="2025-12-31").json()  # fmt: skip
    assert figures(table[-1]) == [shown(body["total"]["visits"]), shown(body["total"]["patients"])]
    chooser = pages.get("/statistics/card")
    assert re.findall(r'<option value="(\d{3})"', chooser.text) == ["399"]


def test_the_card_opens_in_the_browser_with_described_charts_and_their_figures(
    pages: TestClient,
    client: TestClient,
    auth: Auth,
    session: Session,
    visits: list[Patient],  # noqa: F811
) -> None:
    signed_in(pages, language="sv")
    chooser = pages.get("/statistics/card")
    assert chooser.status_code == 200
    assert "<h1>Kommunkort</h1>" in chooser.text
    assert len(re.findall(r'<option value="\d{3}"', chooser.text)) > 1
    chosen = pages.get("/statistics/card", params={"municipality": "399", "year": "2025"})
    assert chosen.status_code == 303
    assert chosen.headers["location"] == f"{CARD}?year=2025"
    card_page = follow(pages, chosen)
    assert card_page.status_code == 200
    assert "<h1>Motionsrådgivning 2025: Laihela kommun</h1>" in card_page.text
    images = re.findall(r'<img class="stat-chart__image" src="([^"]+)" alt="([^"]+)">',
                        card_page.text)  # fmt: skip
    assert [src for src, _ in images] == [f"{CARD}/{chart}.png?year=2025" for chart in CHARTS]
    for _, alt in images:
        assert "Laihela kommun 2025: stapeldiagram." in alt
        assert "Siffrorna finns i tabellen under diagrammet" in alt
    assert images[0][1].startswith("Rådgivningsbesök per månad, Laihela kommun 2025")
    charts = tables(card_page.text)
    assert len(charts) == len(CHARTS)
    # The months' figures are the API's, cell for cell.
    months = api(client, auth, "visits", LAIHIA, visited_from="2025-01-01",
                 visited_to="2025-12-31", group_by="month").json()["cells"]  # fmt: skip
    assert [figures(row)[0] for row in charts[0][1:]] == [shown(c["visits"]) for c in months]
    assert labels(charts[0][1]) == ["Januari"]
    for src, _ in images:
        image = pages.get(src)
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"
        assert image.content.startswith(b"\x89PNG")
    entry = last_audit(session)
    assert (entry.actor, entry.action, entry.resource_type) == (REGION, "query", "Statistics")


@pytest.mark.parametrize("user", ["doctor.laihia", "counsellor1.laihia", "auditor.region",
                                  "admin.region"])  # fmt: skip
def test_everyone_without_the_statistics_permission_is_forbidden(
    pages: TestClient, user: str
) -> None:
    signed_in(pages, user)
    year = {"year": "2025"}
    for path, params in (
        ("/statistics", {"measure": "visits", "part": "year", **year}),
        ("/statistics/table.csv", {"measure": "visits", "part": "year", **year}),
        ("/statistics/card", {}),
        (CARD, year),
        (f"{CARD}/funnel.png", year),
    ):
        answer = pages.get(path, params=params)
        assert answer.status_code == 403, path
        assert "<h1>" in answer.text
    home = follow(pages, pages.get("/"))
    assert 'href="/statistics"' not in home.text


def test_a_municipalitys_statistician_is_refused_another_municipalitys_card(
    pages: TestClient,
) -> None:
    signed_in(pages, ISOKYRO)
    assert pages.get(CARD, params={"year": "2025"}).status_code == 403
    assert pages.get(f"{CARD}/age_bands.png", params={"year": "2025"}).status_code == 403
    chosen = pages.get("/statistics/card", params={"municipality": "399", "year": "2025"})
    assert chosen.status_code == 422
    assert '<a href="#f-municipality">Choose a municipality.</a>' in chosen.text


def test_a_municipality_outside_the_region_has_no_card(pages: TestClient) -> None:
    signed_in(pages)
    elsewhere = "/statistics/municipalities/091/card"
    assert pages.get(elsewhere, params={"year": "2025"}).status_code == 404
    assert pages.get(f"{CARD}/no_such_chart.png", params={"year": "2025"}).status_code == 422


def test_without_a_session_the_pages_lead_to_sign_in(pages: TestClient) -> None:
    for path in ("/statistics", "/statistics/card", f"{CARD}?year=2025"):
        answer = pages.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/signin?next=")
