"""The table builder offers THL's groupings and names their codes in the reader's language."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from app.patients.models import Patient
from tests.statistics.test_visits import visits  # noqa: F401 - the hand-made visits
from tests.web.test_statistics_pages import labels, signed_in, tables


@pytest.mark.parametrize(
    ("language", "heading", "phone"),
    [
        ("en", "Contact type (THL)", "R52 Real-time remote contact"),
        ("fi", "Yhteystapa (THL)", "R52 Reaaliaikainen etäasiointi"),
        ("sv", "Kontaktsätt (THL)", "R52 Distanskontakt i realtid"),
    ],
)
def test_visits_by_thl_contact_type_are_named_in_the_readers_language(
    pages: TestClient,
    visits: list[Patient],  # noqa: F811
    language: str,
    heading: str,
    phone: str,
) -> None:
    page = signed_in(pages, language=language).get(
        "/statistics",
        params={
            "measure": "visits",
            "year": "2025",
            "part": "year",
            "group_by": "thl_contact_type",
        },
    )
    assert page.status_code == 200, page.text
    [table] = tables(page.text)
    header, *rows, _ = table
    assert labels(header)[0] == heading
    names = [labels(row)[0] for row in rows]
    # Every code listed, each with its name; phone and video on rows of their own.
    assert [name.split(" ")[0] for name in names] == ["R10", "R20", "R52", "R56"]
    assert phone in names
