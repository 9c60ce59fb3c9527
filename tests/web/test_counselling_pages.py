"""The counselling tab's visit pages as a counsellor uses them without JavaScript: the visits
recorded, the visit form and its refusals, corrections; who may open which address."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.counselling.models import Visit
from tests.fixtures.counselling_pages import (
    COUNSELLOR,
    OUTSIDER,
    TODAY,
    Auth,
    accepted_referral,
    audited_since,
    csrf,
    last_seq,
    ok,
    plan_fields,
    plan_json,
    referral_path,
    signed_in,
    visit_fields,
    visit_json,
)
from tests.fixtures.pages import form_for

# What a visit holds, compared between one recorded through the API and one through the form.
CONTENT = ("visited_on", "contact_type", "duration_minutes", "mvpa_days_per_week",
           "mvpa_minutes_per_day", "minutes_per_week", "strength_days_per_week",
           "sitting_hours_per_day", "stage_of_change", "barriers", "resources", "weight_kg",
           "waist_cm", "systolic_mmhg", "diastolic_mmhg", "fitness_test", "note",
           "counsellor_subject", "corrected", "correction_reason")  # fmt: skip


def visits_of(session: Session, referral: dict[str, Any]) -> list[Visit]:
    statement = select(Visit).where(Visit.referral_id == uuid.UUID(referral["id"]))
    return list(session.scalars(statement.order_by(Visit.created_at)))


def content(visit: Visit) -> dict[str, Any]:
    return {name: getattr(visit, name) for name in CONTENT}


def record_through_form(pages: TestClient, referral: dict[str, Any], **changes: str) -> Any:
    form = pages.get(referral_path(referral, "visits/new"))
    assert form.status_code == 200, form.text
    action = referral_path(referral, "visits")
    return pages.post(action, data={**form_for(form.text, action), **visit_fields(**changes)})


@pytest.mark.parametrize(("language", "words"), [("fi", "Käynnit"), ("sv", "Besök")])
def test_every_page_of_the_tab_opens_in_finnish_and_swedish(
    pages: TestClient, client: TestClient, auth: Auth, session: Session, language: str,
    words: str,
) -> None:  # fmt: skip
    referral = accepted_referral(client, auth, session, "sv")
    url = f"/api/v1/referrals/{referral['id']}"
    visit = ok(client.post(f"{url}/visits", json=visit_json(), headers=auth(COUNSELLOR)), 201)
    ok(client.put(f"{url}/plan", json=plan_json(), headers=auth(COUNSELLOR)))
    again = plan_json(support_agreed="Vertaisryhmä.")
    ok(client.put(f"{url}/plan", json=again, headers={**auth(COUNSELLOR), "If-Match": '"1"'}))
    signed_in(pages, language=language)
    for tail in ("visits", "visits/new", f"visits/{visit['id']}/correct", "plan", "plan/edit",
                 "plan/versions?left=1&right=2", "complete"):  # fmt: skip
        page = pages.get(referral_path(referral, tail))
        assert page.status_code == 200, (tail, page.text)
        assert f'<html lang="{language}">' in page.text
        assert words in page.text, tail
        assert page.text.count("<h1") == 1
        assert 'style="' not in page.text
    printed = pages.get(referral_path(referral, "plan/print"))
    assert printed.status_code == 200
    assert '<html lang="sv">' in printed.text  # the patient's language, whatever the reader's


def test_a_visit_recorded_through_the_form_is_the_visit_the_api_records(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    by_api = accepted_referral(client, auth, session, "fi", 0)
    by_page = accepted_referral(client, auth, session, "fi", 1)
    before = last_seq(session)
    ok(client.post(f"/api/v1/referrals/{by_api['id']}/visits", json=visit_json(),
                   headers=auth(COUNSELLOR)), 201)  # fmt: skip
    api_entries = audited_since(session, before)
    signed_in(pages)
    form = pages.get(referral_path(by_page, "visits/new"))
    action = referral_path(by_page, "visits")
    before = last_seq(session)
    answer = pages.post(action, data={**form_for(form.text, action), **visit_fields()})
    assert answer.status_code == 303
    assert answer.headers["location"] == referral_path(by_page, "visits")
    assert audited_since(session, before) == api_entries
    assert [e[:2] for e in api_entries] == [("start", "Referral"), ("create", "Visit")]
    [api_visit], [page_visit] = visits_of(session, by_api), visits_of(session, by_page)
    assert content(page_visit) == content(api_visit)
    assert page_visit.minutes_per_week == 40  # computed by the server, whatever the browser
    shown = pages.get(answer.headers["location"])
    assert "Käynti on kirjattu." in shown.text
    assert "92,5 kg" in shown.text


def test_minutes_a_week_are_computed_as_typed(pages: TestClient) -> None:
    signed_in(pages)
    answer = pages.get(
        "/counselling/minutes-a-week",
        params={"mvpa_days_per_week": "3", "mvpa_minutes_per_day": "45"},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert answer.text.strip() == "135"
    beyond = pages.get(
        "/counselling/minutes-a-week",
        params={"mvpa_days_per_week": "9", "mvpa_minutes_per_day": "45"},
    )
    assert beyond.text.strip() == "\N{EN DASH}"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"mvpa_days_per_week": "8"}, "mvpa_days_per_week", "Arvo saa olla enintään 7."),
        ({"weight_kg": "paljon"}, "weight_kg", "Arvon pitää olla luku."),
        ({"duration_minutes": ""}, "duration_minutes", "Kenttä on pakollinen."),
        # Rules of a day and of a week, across fields: beside the field they name.
        ({"sitting_hours_per_day": "23,5", "mvpa_minutes_per_day": "120"},
         "sitting_hours_per_day", "24 tuntia"),
        ({"mvpa_minutes_per_day": ""}, "mvpa_minutes_per_day", "tai ei kumpaakaan."),
        ({"fitness_test.unit": ""}, "fitness_test.unit", "Kenttä on pakollinen."),
        # The service's rule: a visit is dated within the referral.
        ({"visited_on": str(TODAY - timedelta(days=90))}, "visited_on", "lähetteen lähetyspäivän"),
    ],
)  # fmt: skip
def test_a_refused_visit_keeps_what_was_typed_with_the_messages_beside_the_fields(
    pages: TestClient,
    client: TestClient,
    auth: Auth,
    session: Session,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    referral = accepted_referral(client, auth, session)
    signed_in(pages)
    answer = record_through_form(pages, referral, **changes)
    assert answer.status_code == 422, answer.text
    field_id = field.replace(".", "-")
    beside = answer.text.split(f'id="{field_id}-error"', 1)[1].split("</", 1)[0]
    assert message in beside
    # The summary at the top links to it, naming the field.
    link = answer.text.split(f'href="#{field_id}">', 1)[1].split("</a>", 1)[0]
    assert message in link
    assert link.index(":") < link.index(message)
    assert f'aria-describedby="{field_id}-hint {field_id}-error"' in answer.text or (
        f'aria-describedby="{field_id}-error"' in answer.text
    )
    for name, value in visit_fields(**changes).items():
        if name not in ("contact_type", "stage_of_change", "visited_on") and value:
            assert f'value="{value}"' in answer.text or f">{value}</textarea>" in answer.text
    assert 'value="in_person" checked' in answer.text
    assert visits_of(session, referral) == []


def test_a_correction_through_the_form_is_the_correction_the_api_makes(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    by_api = accepted_referral(client, auth, session, "fi", 0)
    by_page = accepted_referral(client, auth, session, "fi", 1)
    visits = {}
    for referral in (by_api, by_page):
        visits[referral["id"]] = ok(client.post(
            f"/api/v1/referrals/{referral['id']}/visits", json=visit_json(),
            headers=auth(COUNSELLOR)), 201)  # fmt: skip
    # The whole record restated, the weight removed, the duration fixed.
    correction = {**visit_json(duration_minutes=45, weight_kg=None), "reason": "Kesto väärin."}
    before = last_seq(session)
    ok(client.post(f"/api/v1/visits/{visits[by_api['id']]['id']}/corrections", json=correction,
                   headers=auth(COUNSELLOR)), 201)  # fmt: skip
    api_entries = audited_since(session, before)
    signed_in(pages)
    path = referral_path(by_page, f"visits/{visits[by_page['id']]['id']}/correct")
    form = pages.get(path)
    assert form.status_code == 200
    assert "Tyhjäksi jätetty kenttä poistetaan tietueesta." in form.text
    assert "Tietue nyt" in form.text  # the record as it stands, beside the form
    fields = form_for(form.text, path)
    assert fields["duration_minutes"] == "60"
    assert fields["weight_kg"] == "92.5"
    assert fields["fitness_test.name"] == "UKK-kävelytesti"
    assert ">Polvikipu, vuorotyö.</textarea>" in form.text
    # As a browser sends it: the choices and the texts (which `form_for` does not read) too.
    fields |= {"duration_minutes": "45", "weight_kg": "", "reason": "Kesto väärin.",
               "contact_type": "in_person", "stage_of_change": "preparation",
               "barriers": "Polvikipu, vuorotyö.",
               "note": "Motivoitunut aloittamaan kävelyllä."}  # fmt: skip
    before = last_seq(session)
    answer = pages.post(path, data=fields)
    assert answer.status_code == 303, answer.text
    assert audited_since(session, before) == api_entries
    api_records, page_records = visits_of(session, by_api), visits_of(session, by_page)
    assert [content(v) for v in page_records] == [content(v) for v in api_records]
    assert page_records[1].weight_kg is None
    listed = pages.get(answer.headers["location"])
    assert "Korjattu" in listed.text
    assert "Kesto väärin." in listed.text
    assert "Aiemmat versiot (1)" in listed.text
    # The corrected original is corrected through the record that replaced it.
    again = pages.get(path)
    assert again.status_code == 303
    assert str(page_records[1].id) in again.headers["location"]


def test_a_correction_without_a_reason_is_refused_with_everything_kept(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    referral = accepted_referral(client, auth, session)
    visit = ok(client.post(f"/api/v1/referrals/{referral['id']}/visits", json=visit_json(),
                           headers=auth(COUNSELLOR)), 201)  # fmt: skip
    signed_in(pages)
    path = referral_path(referral, f"visits/{visit['id']}/correct")
    fields = form_for(pages.get(path).text, path) | {"duration_minutes": "45", "reason": ""}
    answer = pages.post(path, data=fields)
    assert answer.status_code == 422
    assert 'id="reason-error"' in answer.text
    assert 'value="45"' in answer.text
    assert len(visits_of(session, referral)) == 1


def _addresses(referral: dict[str, Any], visit_id: str) -> tuple[list[str], list[str]]:
    reads = ["visits", "visits/new", f"visits/{visit_id}/correct", "plan", "plan/edit",
             "plan/versions", "plan/print", "complete"]  # fmt: skip
    writes = ["visits", f"visits/{visit_id}/correct", "plan", "plan/follow-ups", "complete"]
    return [referral_path(referral, t) for t in reads], [referral_path(referral, t) for t in writes]


def test_a_counsellor_of_another_service_finds_no_such_tab(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    referral = accepted_referral(client, auth, session)
    url = f"/api/v1/referrals/{referral['id']}"
    visit = ok(client.post(f"{url}/visits", json=visit_json(), headers=auth(COUNSELLOR)), 201)
    ok(client.put(f"{url}/plan", json=plan_json(), headers=auth(COUNSELLOR)))
    reads, writes = _addresses(referral, visit["id"])
    signed_in(pages, OUTSIDER)
    token = csrf(pages)
    before = last_seq(session)
    for path in reads:
        page = pages.get(path)
        assert page.status_code == 404, path
        assert "Ei löytynyt" in page.text
    for path in writes:
        fields = {"csrf_token": token, **visit_fields(), **plan_fields(), "version": "1"}
        assert pages.post(path, data=fields).status_code == 404, path
    outcomes = {outcome for _action, _kind, outcome in audited_since(session, before)}
    assert outcomes == {"not_found"}
    assert len(visits_of(session, referral)) == 1


def test_the_tab_asks_for_sign_in_and_refuses_a_form_without_its_token(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    referral = accepted_referral(client, auth, session)
    reads, writes = _addresses(referral, str(uuid.uuid4()))
    for path in reads:
        answer = pages.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/signin?next=")
    for path in writes:
        answer = pages.post(path, data=visit_fields())
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/signin")
    signed_in(pages)
    for path in writes:
        assert pages.post(path, data=visit_fields()).status_code == 403, path
        forged = {**visit_fields(), "csrf_token": "forged"}
        assert pages.post(path, data=forged).status_code == 403, path
    assert visits_of(session, referral) == []


def test_reading_the_tab_in_the_browser_is_audited_as_reading_it_through_the_api(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    referral = accepted_referral(client, auth, session)
    url = f"/api/v1/referrals/{referral['id']}"
    ok(client.post(f"{url}/visits", json=visit_json(), headers=auth(COUNSELLOR)), 201)
    ok(client.put(f"{url}/plan", json=plan_json(), headers=auth(COUNSELLOR)))
    signed_in(pages)
    for tail, api in [("visits", "visits"), ("plan", "plan"), ("plan/print", "plan")]:
        before = last_seq(session)
        ok(client.get(f"{url}/{api}", headers=auth(COUNSELLOR)))
        through_api = audited_since(session, before)
        before = last_seq(session)
        assert pages.get(referral_path(referral, tail)).status_code == 200
        assert audited_since(session, before) == through_api, tail


def test_the_referrer_reads_the_tab_and_may_not_write_on_it(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    referral = accepted_referral(client, auth, session)
    url = f"/api/v1/referrals/{referral['id']}"
    visit = ok(client.post(f"{url}/visits", json=visit_json(), headers=auth(COUNSELLOR)), 201)
    signed_in(pages, "doctor.kaskinen")
    page = pages.get(referral_path(referral, "visits"))
    assert page.status_code == 200
    assert "Polvikipu, vuorotyö." in page.text
    assert "/visits/new" not in page.text
    assert "/correct" not in page.text
    path = referral_path(referral, f"visits/{visit['id']}/correct")
    before = last_seq(session)
    refused = pages.post(path, data={"csrf_token": csrf(pages), **visit_fields(reason="Ei.")})
    assert refused.status_code == 403
    assert audited_since(session, before) == [("update", "CounsellingTab", "refused")]
    assert len(visits_of(session, referral)) == 1
