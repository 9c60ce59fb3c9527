"""Municipalities and services named in the reader's language on the card and in the CSV: the
Swedish name for a Swedish reader, the Finnish one otherwise."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from app.patients.models import Patient
from tests.statistics.test_visits import visits  # noqa: F401 - the hand-made visits

Auth = Callable[[str], dict[str, str]]
MUNICIPALITIES = {
    "fi": {"399": "Laihian kunta", "152": "Isokyrön kunta", "231": "Kaskisten kaupunki"},
    "sv": {"399": "Laihela kommun", "152": "Storkyro kommun", "231": "Kaskö stad"},
}
SERVICES = {
    "fi": {"ln-laihia": "Laihia liikuntaneuvonta", "ln-isokyro": "Isokyrö liikuntaneuvonta",
           "ln-kaskinen": "Kaskinen liikuntaneuvonta"},
    "sv": {"ln-laihia": "Laihela motionsrådgivning", "ln-isokyro": "Storkyro motionsrådgivning",
           "ln-kaskinen": "Kaskö motionsrådgivning"},
}  # fmt: skip


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_the_card_names_the_municipality_in_the_readers_language(
    client: TestClient, auth: Auth, language: str
) -> None:
    headers = {**auth("statistician.region"), "Accept-Language": language}
    response = client.get(
        "/api/v1/stats/municipalities/231/card", params={"year": 2025}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert MUNICIPALITIES[language]["231"] in response.text
    other = "sv" if language == "fi" else "fi"
    assert MUNICIPALITIES[other]["231"] not in response.text


def table(client: TestClient, auth: Auth, language: str, group: str) -> list[list[str]]:
    response = client.get(
        "/api/v1/stats/visits",
        params={"visited_from": "2025-01-01", "visited_to": "2025-12-31", "group_by": [group],
                "format": "csv"},
        headers={**auth("statistician.region"), "Accept-Language": language},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    _note, *lines = response.content.decode("utf-8-sig").splitlines()
    return list(csv.reader(io.StringIO("\n".join(lines))))


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_the_csv_names_each_municipality_beside_its_code(
    client: TestClient,
    auth: Auth,
    visits: list[Patient],  # noqa: F811
    language: str,
) -> None:
    header, *rows = table(client, auth, language, "municipality")
    assert header == ["municipality", "municipality_name", "visits", "patients"]
    named = {row[0]: row[1] for row in rows[:-1]}
    assert set(named) >= {"399", "152"}
    for code, name in named.items():
        assert name == MUNICIPALITIES[language].get(code, "")
    assert rows[-1][:2] == ["total", ""]


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_the_csv_names_each_service_in_the_readers_language(
    client: TestClient,
    auth: Auth,
    visits: list[Patient],  # noqa: F811
    language: str,
) -> None:
    header, *rows = table(client, auth, language, "service")
    assert header[:2] == ["service", "service_name"]
    assert {row[0]: row[1] for row in rows[:-1]} == SERVICES[language]
