"""The activity plan, its printout for the patient, and the outcome with the completion, as a
counsellor uses them in the browser: the same records and audit entries as the API's."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.counselling.models import PlanVersion
from app.demo.region import demo_patients
from app.referrals.models import Referral
from app.scheduling.models import Appointment
from app.web.pages import STATIC
from tests.fixtures.counselling_pages import (
    COUNSELLOR,
    Auth,
    accepted_referral,
    audited_since,
    book_first_visit,
    kaskinen_patient,
    last_seq,
    ok,
    open_calendar,
    plan_fields,
    plan_json,
    referral_path,
    signed_in,
    visit_json,
)
from tests.fixtures.pages import form_for

# What a plan version holds, compared between one saved through the API and one through the form.
CONTENT = ("version", "goals", "activities", "support_agreed", "follow_up_months", "agreed_on",
           "agreed_how", "author_subject", "change_note")  # fmt: skip


def plans_of(session: Session, referral: dict[str, Any]) -> list[dict[str, Any]]:
    statement = select(PlanVersion).where(PlanVersion.referral_id == uuid.UUID(referral["id"]))
    versions = session.scalars(statement.order_by(PlanVersion.version))
    return [{name: getattr(plan, name) for name in CONTENT} for plan in versions]


def edited(pages: TestClient, referral: dict[str, Any], **changes: str) -> dict[str, str]:
    """The plan's form as opened, filled in."""
    form = pages.get(referral_path(referral, "plan/edit"))
    assert form.status_code == 200, form.text
    return form_for(form.text, referral_path(referral, "plan")) | plan_fields(**changes)


def save_through_form(pages: TestClient, referral: dict[str, Any], **changes: str) -> Any:
    return pages.post(referral_path(referral, "plan"), data=edited(pages, referral, **changes))


def test_two_plan_versions_saved_through_the_form_are_those_the_api_saves(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    by_api = accepted_referral(client, auth, session, "fi", 0)
    by_page = accepted_referral(client, auth, session, "fi", 1)
    url = f"/api/v1/referrals/{by_api['id']}/plan"
    before = last_seq(session)
    ok(client.put(url, json=plan_json(), headers=auth(COUNSELLOR)))
    first_entries = audited_since(session, before)
    before = last_seq(session)
    second = plan_json(support_agreed="Vertaisryhmä torstaisin.", change_note="Ryhmä löytyi.")
    ok(client.put(url, json=second, headers={**auth(COUNSELLOR), "If-Match": '"1"'}))
    second_entries = audited_since(session, before)
    signed_in(pages)
    action = referral_path(by_page, "plan")
    fields = edited(pages, by_page)
    before = last_seq(session)
    saved = pages.post(action, data=fields)
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == referral_path(by_page, "plan")
    assert audited_since(session, before) == first_entries
    fields = edited(pages, by_page, support_agreed="Vertaisryhmä torstaisin.",
                    change_note="Ryhmä löytyi.")  # fmt: skip
    before = last_seq(session)
    again = pages.post(action, data=fields)
    assert again.status_code == 303, again.text
    assert audited_since(session, before) == second_entries
    assert plans_of(session, by_page) == plans_of(session, by_api)
    shown = pages.get(saved.headers["location"])
    assert "Suunnitelma on tallennettu uutena versiona." in shown.text
    assert "Vertaisryhmä torstaisin." in shown.text
    compared = pages.get(referral_path(by_page, "plan/versions?left=1&right=2"))
    assert compared.status_code == 200
    assert "Versiot 1 ja 2 rinnakkain" in compared.text
    rows = compared.text.split("<tbody", 1)[1].split("<tr")[1:]
    changed = [row for row in rows if "versions-table__changed" in row]
    assert len(changed) == 2  # the support agreed and the note on what changed
    assert any("Puhelinsoitto kuukauden päästä." in row for row in changed)


def test_the_edit_form_holds_the_current_version_and_adds_rows_without_saving(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    referral = accepted_referral(client, auth, session)
    ok(client.put(f"/api/v1/referrals/{referral['id']}/plan", json=plan_json(),
                  headers=auth(COUNSELLOR)))  # fmt: skip
    signed_in(pages)
    form = pages.get(referral_path(referral, "plan/edit"))
    fields = form_for(form.text, referral_path(referral, "plan"))
    assert fields["goals.0.what"] == "Reipas kävely"
    assert fields["goals.0.target"] == "150"
    assert fields["follow_up_months"] == "1, 3"
    assert fields["version"] == "1"
    assert 'name="goals.1.what"' in form.text  # one blank row to fill in
    assert 'id="agreed_with_patient" name="agreed_with_patient" value="true">' in form.text
    more = pages.post(referral_path(referral, "plan"), data={**fields, "add": "goals"})
    assert more.status_code == 200
    assert 'name="goals.2.what"' in more.text
    assert len(plans_of(session, referral)) == 1


def test_a_refused_plan_keeps_what_was_typed_with_the_messages_beside_the_fields(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    referral = accepted_referral(client, auth, session)
    signed_in(pages)
    typed = {"goals.0.target": "20000", "activities.0.minutes": "kolme", "agreed_with_patient": "",
             "follow_up_months": "1, 40", "goals.3.what": "", "activities.1.kind": ""}  # fmt: skip
    answer = save_through_form(pages, referral, **typed)
    assert answer.status_code == 422, answer.text
    for field, message in [
        ("goals-0-target", "enintään 10080"),
        ("activities-0-minutes", "Arvon pitää olla kokonaisluku."),
        ("agreed_with_patient", "Kenttä on pakollinen."),
        ("follow_up_months", "36"),
    ]:
        beside = answer.text.split(f'id="{field}-error"', 1)[1].split("</", 1)[0]
        assert message in beside, (field, beside)
        assert f'href="#{field}"' in answer.text
    # The summary names the row and the field.
    assert 'href="#goals-0-target">Tavoite 1 \N{EN DASH} Tavoitearvo: ' in answer.text
    assert 'value="20000"' in answer.text
    assert 'value="kolme"' in answer.text
    assert 'value="1, 40"' in answer.text
    assert plans_of(session, referral) == []


def test_a_plan_saved_by_someone_else_meanwhile_is_explained_on_the_form(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    referral = accepted_referral(client, auth, session)
    url = f"/api/v1/referrals/{referral['id']}/plan"
    ok(client.put(url, json=plan_json(), headers=auth(COUNSELLOR)))
    signed_in(pages)
    form = pages.get(referral_path(referral, "plan/edit"))
    fields = form_for(form.text, referral_path(referral, "plan")) | plan_fields(
        support_agreed="Oma ehdotukseni."
    )
    newer = plan_json(support_agreed="Kollegan muutos.")
    ok(client.put(url, json=newer, headers={**auth("counsellor2.kaskinen"), "If-Match": '"1"'}))
    before = last_seq(session)
    answer = pages.post(referral_path(referral, "plan"), data=fields)
    assert answer.status_code == 409
    assert "Suunnitelma on muuttunut" in answer.text
    assert ">Oma ehdotukseni.</textarea>" in answer.text
    assert "Kollegan muutos." in answer.text  # the newest version, beside the form
    assert 'name="version" value="2"' in answer.text
    # Audited as the API's refusal is (and the newest version read to show it).
    assert audited_since(session, before) == [
        ("update", "ActivityPlan", "conflict"),
        ("read", "ActivityPlan", "success"),
    ]
    resent = pages.post(referral_path(referral, "plan"), data={**fields, "version": "2"})
    assert resent.status_code == 303
    assert [plan["support_agreed"] for plan in plans_of(session, referral)][-1] == (
        "Oma ehdotukseni."
    )


def test_follow_ups_are_booked_from_the_plan_page_as_the_api_books_them(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    open_calendar(client, auth, session)
    by_api = accepted_referral(client, auth, session, "fi", 0)
    by_page = accepted_referral(client, auth, session, "fi", 1)
    for referral in (by_api, by_page):
        ok(client.put(f"/api/v1/referrals/{referral['id']}/plan", json=plan_json(),
                      headers=auth(COUNSELLOR)))  # fmt: skip
    before = last_seq(session)
    booked = ok(client.post(f"/api/v1/referrals/{by_api['id']}/plan/follow-ups",
                            headers=auth(COUNSELLOR)))  # fmt: skip
    api_entries = audited_since(session, before)
    assert [b["appointment_id"] is not None for b in booked] == [True, True]
    signed_in(pages)
    plan_page = pages.get(referral_path(by_page, "plan"))
    action = referral_path(by_page, "plan/follow-ups")
    before = last_seq(session)
    answer = pages.post(action, data=form_for(plan_page.text, action))
    assert answer.status_code == 303
    assert audited_since(session, before) == api_entries
    shown = pages.get(answer.headers["location"])
    assert shown.text.count("varattu: ") == 2
    assert "varattu: " not in pages.get(answer.headers["location"]).text  # shown once
    statement = select(Appointment).where(Appointment.referral_id == uuid.UUID(by_page["id"]))
    assert [a.visit_type for a in session.scalars(statement)] == ["follow_up", "follow_up"]


def test_the_plan_prints_in_the_patients_language_without_the_identity_code(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    referral = accepted_referral(client, auth, session, "sv")
    ok(client.put(f"/api/v1/referrals/{referral['id']}/plan", json=plan_json(),
                  headers=auth(COUNSELLOR)))  # fmt: skip
    patient = kaskinen_patient(session, "sv")
    signed_in(pages, language="fi")  # the counsellor reads Finnish
    printed = pages.get(referral_path(referral, "plan/print"))
    assert printed.status_code == 200
    assert printed.headers["content-language"] == "sv"
    assert '<html lang="sv">' in printed.text
    assert "<title>Min motionsplan \N{EN DASH} Askel</title>" in printed.text
    assert "Mina mål" in printed.text
    assert "5 gånger i veckan, 30 minuter åt gången" in printed.text
    assert f"{patient.given_name} {patient.family_name}" in printed.text
    for absent in ("masthead", "<nav", 'style="', "<style"):
        assert absent not in printed.text
    assert '<link rel="stylesheet" href="/static/plan-print.css">' in printed.text
    [hetu] = [
        demo.hetu
        for demo in demo_patients()
        if (demo.given_name, demo.family_name, demo.birth_date)
        == (patient.given_name, patient.family_name, patient.birth_date)
    ]
    assert hetu not in printed.text
    stylesheet = (STATIC / "plan-print.css").read_text()
    assert "@media print" in stylesheet
    assert "size: A4" in stylesheet
    assert pages.get("/static/plan-print.css").status_code == 200


def test_completing_through_the_form_does_what_the_apis_complete_does(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    open_calendar(client, auth, session)
    by_api = accepted_referral(client, auth, session, "fi", 0)
    by_page = accepted_referral(client, auth, session, "fi", 1)
    for referral in (by_api, by_page):
        ok(client.post(f"/api/v1/referrals/{referral['id']}/visits", json=visit_json(),
                       headers=auth(COUNSELLOR)), 201)  # fmt: skip
        book_first_visit(client, auth, referral)
    done = {"reason_code": "goals_met", "reason_text": "Tavoite saavutettu.",
            "outcome_summary": "Liikkuu nyt 200 minuuttia viikossa.",
            "cancel_booked_appointments": True}  # fmt: skip
    current = ok(client.get(f"/api/v1/referrals/{by_api['id']}", headers=auth(COUNSELLOR)))
    before = last_seq(session)
    headers = {**auth(COUNSELLOR), "If-Match": f'"{current["version"]}"'}
    ok(client.post(f"/api/v1/referrals/{by_api['id']}/complete", json=done, headers=headers))
    api_entries = audited_since(session, before)
    signed_in(pages)
    path = referral_path(by_page, "complete")
    page = pages.get(path)
    assert "Toteutuneita käyntejä: 1" in page.text
    assert "Tulevat ajanvaraukset" in page.text
    typed = {**form_for(page.text, path), "reason_code": "goals_met",
             "reason_text": "Tavoite saavutettu.",
             "outcome_summary": "Liikkuu nyt 200 minuuttia viikossa."}  # fmt: skip
    unconfirmed = pages.post(path, data=typed)
    assert unconfirmed.status_code == 409
    beside = unconfirmed.text.split('id="cancel_booked_appointments-error"', 1)[1]
    assert "Rastita ruutu" in beside.split("</", 1)[0]
    assert ">Liikkuu nyt 200 minuuttia viikossa.</textarea>" in unconfirmed.text
    assert 'value="goals_met" checked' in unconfirmed.text
    before = last_seq(session)
    answer = pages.post(path, data={**typed, "cancel_booked_appointments": "true"})
    assert answer.status_code == 303, answer.text
    assert audited_since(session, before) == api_entries
    assert ("complete", "Referral", "success") in api_entries
    assert ("update", "Appointment", "success") in api_entries
    closed = session.get(Referral, uuid.UUID(by_page["id"]))
    assert closed is not None
    assert (closed.status, closed.status_reason_code, closed.outcome_summary) == (
        "completed",
        "goals_met",
        "Liikkuu nyt 200 minuuttia viikossa.",
    )
    shown = pages.get(answer.headers["location"])
    assert "Liikuntaneuvonta on päätetty." in shown.text
    assert 'action="/referrals' not in shown.text.split("<main", 1)[1]


def test_a_completion_of_a_referral_changed_meanwhile_is_explained_with_nothing_lost(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    referral = accepted_referral(client, auth, session, "sv")
    ok(client.post(f"/api/v1/referrals/{referral['id']}/visits", json=visit_json(),
                   headers=auth(COUNSELLOR)), 201)  # fmt: skip
    signed_in(pages, language="sv")
    path = referral_path(referral, "complete")
    fields = form_for(pages.get(path).text, path)
    stale = int(fields["version"]) - 1
    typed = {**fields, "version": str(stale), "reason_code": "goals_met",
             "reason_text": "Målet nått.", "outcome_summary": "Rör sig nu dagligen."}  # fmt: skip
    before = last_seq(session)
    answer = pages.post(path, data=typed)
    assert answer.status_code == 409
    assert "Någon ändrade remissen" in answer.text
    assert ">Rör sig nu dagligen.</textarea>" in answer.text
    assert f'name="version" value="{stale + 1}"' in answer.text
    assert audited_since(session, before)[0] == ("complete", "Referral", "conflict")
    resent = pages.post(path, data={**typed, "version": str(stale + 1)})
    assert resent.status_code == 303
