"""Visit statistics against a hand-made set of visits: each cell is its true count perturbed
by its records' keys, the same records give the same figure in every table, every combination
is listed, periods are whole calendar months, quarters or years, scope by the statistician's
organisation, CSV that parses back to the same figures, and every query in the audit log."""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.counselling.models import Visit
from app.organisations import service as organisations
from app.patients.ages import age_band
from app.patients.models import Patient
from app.statistics import repository
from app.statistics.facts import AGE_BAND_LABELS, SEXES
from app.statistics.repository import Scope
from tests.fixtures.factories import demo_patient, send_referral
from tests.fixtures.facts import facts_follow
from tests.statistics.published import published

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
    facts_follow(session)
    return seen


def stats(client: TestClient, auth: Auth, user: str = REGION, **params: Any) -> Any:
    response = client.get("/api/v1/stats/visits", params={**YEAR_2025, **params},
                          headers=auth(user))  # fmt: skip
    assert response.status_code == 200, response.text
    return response


def cells(body: dict[str, Any], group: str) -> dict[str | None, tuple[Any, Any]]:
    return {cell["groups"][group]: (cell["visits"], cell["patients"]) for cell in body["cells"]}


def expected(session: Session, rows: Iterable[Visit]) -> tuple[Any, Any]:
    """A cell of these visits: its visits and its patients, each as published."""
    chosen = list(rows)
    return (
        published(session, [visit.id for visit in chosen]),
        published(session, {visit.patient_id for visit in chosen}),
    )


def recorded(session: Session, *where: Any) -> list[Visit]:
    statement = select(Visit).join(Patient, Patient.id == Visit.patient_id)
    return list(session.scalars(statement.where(Visit.corrected.is_(False), *where)))


def test_each_cell_is_its_true_count_perturbed_by_its_records_keys(
    client: TestClient, auth: Auth, session: Session, visits: list[Patient]
) -> None:
    body = stats(client, auth, group_by="municipality").json()
    assert (body["total"]["visits"], body["total"]["patients"]) == expected(
        session, recorded(session)
    )
    by_municipality = cells(body, "municipality")
    for code in ("399", "152"):
        here = recorded(session, Patient.home_municipality_code == code)
        assert by_municipality[code] == expected(session, here), code
    # Nobody from Kaskinen: the empty cell is listed as a small one is.
    assert by_municipality["231"] == ("<5", "<5")


def test_the_same_records_give_the_same_figures_in_every_table(
    client: TestClient, auth: Auth, visits: list[Patient]
) -> None:
    region = cells(stats(client, auth, group_by="municipality").json(), "municipality")
    laihia = stats(client, auth, LAIHIA, group_by="quarter").json()
    laihia_total = (laihia["total"]["visits"], laihia["total"]["patients"])
    assert region["399"] == laihia_total
    # Laihia's first quarter is its March: one cell, the same figures, whichever table.
    march = stats(client, auth, LAIHIA, visited_from="2025-03-01", visited_to="2025-03-31")
    march_total = (march.json()["total"]["visits"], march.json()["total"]["patients"])
    by_month = cells(stats(client, auth, LAIHIA, group_by="month").json(), "month")
    assert cells(laihia, "quarter")["2025-Q1"] == by_month["2025-03"] == march_total
    # Asked again, nothing moves.
    assert stats(client, auth, LAIHIA, group_by="quarter").json() == laihia


def test_every_combination_is_listed_the_empty_ones_as_small_ones(
    client: TestClient, auth: Auth, session: Session, visits: list[Patient]
) -> None:
    body = stats(client, auth, group_by=["month", "municipality"]).json()
    # Residents of a municipality outside the region count as "other", those with a security
    # prohibition in none (null): both listed always.
    places = [m.municipality_code for m in organisations.municipalities(session)] + ["other", ""]
    listed = [(c["groups"]["month"], c["groups"]["municipality"] or "") for c in body["cells"]]
    assert sorted(listed) == sorted((f"2025-{m:02d}", p) for m in range(1, 13) for p in places)
    empty = [c for c in body["cells"] if c["groups"]["month"] not in ("2025-03", "2025-04")]
    assert {(c["visits"], c["patients"]) for c in empty} == {("<5", "<5")}
    by_age = cells(stats(client, auth, group_by="age_band").json(), "age_band")
    assert set(by_age) == set(AGE_BAND_LABELS.labels)


def test_an_unknown_and_an_other_sex_are_groups_of_their_own(
    client: TestClient, auth: Auth, session: Session, visits: list[Patient]
) -> None:
    """A sex recorded as unknown (as a code alone registers) or other is counted in its own
    group, listed always, and protected as any cell: never among women or men, never dropped."""
    visits[0].sex, visits[1].sex = "unknown", "other"
    session.commit()
    facts_follow(session)
    body = stats(client, auth, group_by="sex").json()
    assert [cell["groups"]["sex"] for cell in body["cells"]] == list(SEXES.labels)
    assert list(SEXES.labels) == ["female", "male", "other", "unknown"]
    by_sex = cells(body, "sex")
    for sex in SEXES.labels:
        assert by_sex[sex] == expected(session, recorded(session, Patient.sex == sex)), sex
    # One person each: too few to show, exactly as a group of one woman would be.
    assert by_sex["unknown"] == by_sex["other"] == ("<5", "<5")
    assert (body["total"]["visits"], body["total"]["patients"]) == expected(
        session, recorded(session)
    )


def test_age_bands_in_sql_agree_with_the_python_rule(
    session: Session, visits: list[Patient]
) -> None:
    rows = recorded(session)
    births = {p.id: p.birth_date for p in visits}
    band_in_python = Counter(age_band(births[v.patient_id], v.visited_on) for v in rows)
    table = repository.visit_counts(
        session, ["age_band"], date(2025, 1, 1), date(2025, 12, 31), Scope(None)
    )
    band_in_sql = {AGE_BAND_LABELS.label(row.age_band): row.visits for row in table.cells}
    assert band_in_sql == band_in_python


def test_grouped_by_the_region_one_cell_holds_the_whole(
    client: TestClient, auth: Auth, visits: list[Patient]
) -> None:
    body = stats(client, auth, group_by="region").json()
    whole = (body["total"]["visits"], body["total"]["patients"])
    assert [(c["groups"], (c["visits"], c["patients"])) for c in body["cells"]] == [
        ({"region": body["scope"]}, whole)
    ]


def test_cells_come_in_the_order_of_their_service_codes(
    client: TestClient, auth: Auth, session: Session, visits: list[Patient]
) -> None:
    body = stats(client, auth, group_by=["service", "month"]).json()
    keys = [(c["groups"]["service"], c["groups"]["month"]) for c in body["cells"]]
    assert {service for service, _ in keys} == set(organisations.service_codes(session).values())
    assert keys == sorted(keys)


def test_a_municipality_statistician_sees_only_their_residents(
    client: TestClient, auth: Auth, session: Session, visits: list[Patient]
) -> None:
    body = stats(client, auth, LAIHIA, group_by="municipality").json()
    assert set(cells(body, "municipality")) == {"399"}
    laihia = recorded(session, Patient.home_municipality_code == "399")
    assert (body["total"]["visits"], body["total"]["patients"]) == expected(session, laihia)


@pytest.mark.parametrize(("first", "last"), [
    ("2025-01-01", "2025-02-01"),  # a month and a day
    ("2025-01-02", "2025-01-31"),  # a month less a day
    ("2025-03-01", "2025-03-30"),
    ("2025-04-01", "2025-06-29"),  # a quarter less a day
    ("2024-12-31", "2025-12-31"),  # a year and a day
    ("2025-02-01", "2025-04-30"),  # three months, not a quarter
    ("2025-01-01", "2025-06-30"),  # half a year
    ("2025-02-01", "2026-01-31"),  # twelve months, not a year
    ("2025-01-01", "2026-12-31"),  # two years
    ("2025-12-31", "2025-01-01"),
])  # fmt: skip
def test_a_period_a_day_longer_or_shorter_than_a_calendar_one_is_refused(
    client: TestClient, auth: Auth, first: str, last: str
) -> None:
    for path, names in (("visits", ("visited_from", "visited_to")),
                        ("referrals", ("sent_from", "sent_to"))):  # fmt: skip
        period = dict(zip(names, (first, last), strict=True))
        response = client.get(f"/api/v1/stats/{path}", params=period,
                              headers={**auth(REGION), "Accept-Language": "sv"})  # fmt: skip
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "statistics_period_not_calendar"
        assert "kalendermånad" in response.json()["detail"]


@pytest.mark.parametrize(("first", "last"), [
    ("2025-02-01", "2025-02-28"), ("2024-02-01", "2024-02-29"), ("2025-10-01", "2025-12-31"),
    ("2025-01-01", "2025-12-31"),
])  # fmt: skip
def test_whole_months_quarters_and_years_are_answered(
    client: TestClient, auth: Auth, first: str, last: str
) -> None:
    stats(client, auth, visited_from=first, visited_to=last)


def test_csv_parses_back_to_the_same_figures_after_its_note(
    client: TestClient, auth: Auth, visits: list[Patient]
) -> None:
    json_body = stats(client, auth, LAIHIA, group_by=["year", "sex"]).json()
    response = stats(client, auth, LAIHIA, group_by=["year", "sex"], format="csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    note, *table = response.content.decode("utf-8-sig").splitlines()
    assert note.startswith("# Luvut on suojattu")
    assert "häiritystaulukko 1" in note
    rows = list(csv.reader(io.StringIO("\n".join(table))))
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
