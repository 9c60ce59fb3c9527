"""Visit statistics against a hand-made set of visits: counts as computed by hand, small cells
suppressed (the complementary one too), scope by the statistician's organisation, CSV that
parses back to the same numbers, and every query in the audit log."""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.counselling.models import Visit
from app.patients.ages import age_band
from app.patients.models import Patient
from tests.fixtures.factories import demo_patient, send_referral

Auth = Callable[[str], dict[str, str]]
REGION, LAIHIA = "statistician.region", "statistician.laihia"
YEAR_2025 = {"visited_from": "2025-01-01", "visited_to": "2025-12-31"}


def _visit(session: Session, referral: dict[str, Any], on: date, contact: str) -> None:
    session.add(Visit(
        referral_id=uuid.UUID(referral["id"]), patient_id=uuid.UUID(referral["patient_id"]),
        service_id=uuid.UUID(referral["service_id"]), counsellor_subject="counsellor1.laihia",
        counsellor_profession="counsellor", visited_on=on, contact_type=contact,
        duration_minutes=45,
    ))  # fmt: skip


@pytest.fixture
def visits(client: TestClient, auth: Auth, session: Session) -> list[Patient]:
    """Laihia: six residents seen in March 2025, two of them again by phone in April.
    Isokyrö: three residents seen in March 2025. Kaskinen: nobody."""
    seen = []
    for code, count in (("399", 6), ("152", 3)):
        for index in range(count):
            patient = demo_patient(session, code, index)
            referral = send_referral(client, auth, patient.id)
            _visit(session, referral, date(2025, 3, 10 + index), "in_person")
            if code == "399" and index < 2:
                _visit(session, referral, date(2025, 4, 2), "phone")
            seen.append(patient)
    session.commit()
    return seen


def stats(client: TestClient, auth: Auth, user: str = REGION, **params: Any) -> Any:
    response = client.get("/api/v1/stats/visits", params={**YEAR_2025, **params},
                          headers=auth(user))  # fmt: skip
    assert response.status_code == 200, response.text
    return response


def cells(body: dict[str, Any], group: str) -> dict[str | None, tuple[Any, Any]]:
    return {cell["groups"][group]: (cell["visits"], cell["patients"]) for cell in body["cells"]}


def test_counts_by_municipality_with_the_small_one_and_its_complement_hidden(
    client: TestClient, auth: Auth, visits: list[Patient]
) -> None:
    body = stats(client, auth, group_by="municipality").json()
    assert (body["total"]["visits"], body["total"]["patients"]) == (11, 9)
    # Isokyrö's 3 patients are too few to show; Laihia's 6 would give them away through the
    # total, so they are hidden as well.
    assert cells(body, "municipality") == {"399": ("<5", "<5"), "152": ("<5", "<5")}


def test_counts_by_contact_type_and_month(
    client: TestClient, auth: Auth, visits: list[Patient]
) -> None:
    by_contact = cells(stats(client, auth, group_by="contact_type").json(), "contact_type")
    assert by_contact == {"in_person": ("<5", "<5"), "phone": ("<5", "<5")}
    both = stats(client, auth, group_by=["month", "municipality"]).json()
    assert [(c["groups"]["month"], c["groups"]["municipality"]) for c in both["cells"]] == [
        ("2025-03", "152"),
        ("2025-03", "399"),
        ("2025-04", "399"),
    ]
    laihia_only = stats(client, auth, LAIHIA, group_by="month").json()
    assert laihia_only["scope"] == "kunta-399"
    assert (laihia_only["total"]["visits"], laihia_only["total"]["patients"]) == (8, 6)
    assert cells(laihia_only, "month") == {"2025-03": ("<5", "<5"), "2025-04": ("<5", "<5")}
    whole_year = cells(stats(client, auth, LAIHIA, group_by="year").json(), "year")
    assert whole_year == {"2025": (8, 6)}


def test_age_bands_in_sql_agree_with_the_python_rule(
    client: TestClient, auth: Auth, session: Session, visits: list[Patient]
) -> None:
    rows = session.scalars(select(Visit).where(Visit.corrected.is_(False))).all()
    births = {p.id: p.birth_date for p in visits}
    expected = Counter(age_band(births[v.patient_id], v.visited_on) for v in rows)
    body = stats(client, auth, group_by="age_band").json()
    visible = {band: count for band, (count, _) in cells(body, "age_band").items()}
    for band, count in visible.items():
        assert count == "<5" or expected[band] == count, band
    assert set(visible) == set(expected)


def test_grouped_by_the_region_one_cell_holds_the_whole(
    client: TestClient, auth: Auth, visits: list[Patient]
) -> None:
    body = stats(client, auth, group_by="region").json()
    assert [(c["groups"], c["visits"], c["patients"]) for c in body["cells"]] == [
        ({"region": body["scope"]}, 11, 9)
    ]


def test_cells_come_in_the_order_of_their_service_codes(
    client: TestClient, auth: Auth, visits: list[Patient]
) -> None:
    body = stats(client, auth, group_by=["service", "month"]).json()
    keys = [(c["groups"]["service"], c["groups"]["month"]) for c in body["cells"]]
    assert len({service for service, _ in keys}) == 2
    assert keys == sorted(keys)


def test_a_municipality_statistician_sees_only_their_residents(
    client: TestClient, auth: Auth, visits: list[Patient]
) -> None:
    body = stats(client, auth, LAIHIA, group_by="municipality").json()
    assert set(cells(body, "municipality")) == {"399"}
    assert body["total"]["visits"] == 8


def test_csv_parses_back_to_the_same_numbers(
    client: TestClient, auth: Auth, visits: list[Patient]
) -> None:
    json_body = stats(client, auth, LAIHIA, group_by=["year", "sex"]).json()
    response = stats(client, auth, LAIHIA, group_by=["year", "sex"], format="csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["year", "sex", "visits", "patients"]
    parsed = [(r[0], r[1], r[2], r[3]) for r in rows[1:-1]]
    assert parsed == [(c["groups"]["year"], c["groups"]["sex"], str(c["visits"]),
                       str(c["patients"])) for c in json_body["cells"]]  # fmt: skip
    assert rows[-1][-2:] == [str(json_body["total"]["visits"]), str(json_body["total"]["patients"])]


def test_every_query_is_in_the_audit_log_without_a_patient(
    client: TestClient, auth: Auth, session: Session, visits: list[Patient]
) -> None:
    stats(client, auth, group_by="sex")
    last = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert (last.actor, last.action, last.resource_type, last.purpose, last.patient_id) == (
        REGION,
        "query",
        "Statistics",
        "statistics",
        None,
    )


@pytest.mark.parametrize("user", ["doctor.laihia", "counsellor1.laihia", "admin.region",
                                  "auditor.region", "steward.region",
                                  "patient-system"])  # fmt: skip
def test_nobody_else_gets_statistics(client: TestClient, auth: Auth, user: str) -> None:
    response = client.get("/api/v1/stats/visits", headers=auth(user))
    assert response.status_code == 403


def test_bad_groupings_are_refused(client: TestClient, auth: Auth) -> None:
    response = client.get("/api/v1/stats/visits", params={"group_by": "hetu"},
                          headers=auth(REGION))  # fmt: skip
    assert response.status_code == 422
