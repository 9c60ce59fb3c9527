"""The access administrators' pages through the forms a browser without JavaScript posts: the
region gives grants, the counsellor's municipality attests them, either revokes, each within its
scope; the access review is checked before it is applied, all of it or none. The same records
and audit entries as the API's endpoints; a grant outside the scope is not found, a person
without the permission is refused, both audited as the API audits them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.grants import pages as grant_pages
from app.access.grants import review_pages, views
from app.access.grants.models import AccessGrant
from app.access.models import User
from app.i18n import catalog
from app.kit.clock import today_in_helsinki
from tests.fixtures.calendar_scene import audit_mark, audited
from tests.fixtures.pages import follow, form_for, sign_in

Auth = Callable[[str], dict[str, str]]
GRANTS = "/admin/access-grants"
REVIEW = "/admin/access-review"
API = "/api/v1/admin/access-grants"
GRANT_LINK = re.compile(r"^/admin/access-grants/([0-9a-f-]{36})$")


def account(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def demo_grant(session: Session, username: str) -> AccessGrant:
    """The counsellor's grant of the demo: given by the region, attested by their municipality."""
    user = account(session, username)
    return session.scalars(select(AccessGrant).where(AccessGrant.user_id == user.id)).one()


def grant_via_api(client: TestClient, auth: Auth, session: Session, username: str) -> str:
    """A second grant for the counsellor, given by the region and not attested yet."""
    user = account(session, username)
    today = today_in_helsinki()
    body = {
        "user_id": str(user.id),
        "service_id": str(user.service_id),
        "valid_from": str(today),
        "valid_until": str(today + timedelta(days=365)),
    }
    answer = client.post(API, json=body, headers=auth("admin.region"))
    assert answer.status_code == 201, answer.text
    grant_id: str = answer.json()["id"]
    return grant_id


def stored(session: Session, grant_id: str | uuid.UUID) -> AccessGrant:
    session.expire_all()
    return session.get_one(AccessGrant, uuid.UUID(str(grant_id)))


def test_an_administrators_home_is_the_grants_in_their_scope(pages: TestClient) -> None:
    region = sign_in(pages, "admin.region")
    assert region.status_code == 200
    assert "<h1>Käyttöoikeudet</h1>" in region.text
    assert 'href="/admin/access-grants" aria-current="page"' in region.text
    assert 'href="/admin/access-review"' in region.text
    for name in (
        "Liikuntaneuvoja 1 Laihia",
        "Liikuntaneuvoja 2 Kaskinen",
        "Liikuntaneuvoja 1 Isokyrö",
    ):
        assert name in region.text
    # Who granted and attested, by name.
    assert "Alueen käyttöoikeushallinta" in region.text
    assert "Käyttöoikeushallinta Laihia" in region.text
    assert f'href="{GRANTS}/new"' in region.text


def test_a_municipalitys_administrator_sees_their_own_staff_only(pages: TestClient) -> None:
    listed = sign_in(pages, "admin.kaskinen", GRANTS)
    assert listed.status_code == 200
    assert "Liikuntaneuvoja 1 Kaskinen" in listed.text
    assert "Liikuntaneuvoja 2 Kaskinen" in listed.text
    assert "Laihia" not in listed.text.split("<main", 1)[1]
    assert f'href="{GRANTS}/new"' not in listed.text


def test_giving_a_grant_is_the_apis_grant(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    counsellor = account(session, "counsellor2.isokyro")
    today = today_in_helsinki()
    period = {"valid_from": str(today), "valid_until": str(today + timedelta(days=30))}
    form = sign_in(pages, "admin.region", f"{GRANTS}/new")
    assert form.status_code == 200
    assert "Liikuntaneuvoja 2 Isokyrö (Isokyrö liikuntaneuvonta)" in form.text
    fields = form_for(form.text, GRANTS)
    mark = audit_mark(session)
    given = pages.post(GRANTS, data={**fields, "user_id": str(counsellor.id), **period})
    assert given.status_code == 303
    found = GRANT_LINK.match(given.headers["location"])
    assert found
    assert audited(session, mark, {found[1]: "grant"}) == [
        ("create", "AccessGrant", "success", "grant")
    ]
    grant = stored(session, found[1])
    assert (grant.user_id, grant.service_id) == (counsellor.id, counsellor.service_id)
    assert (grant.granted_by, grant.attested_at, str(grant.valid_until)) == (
        "admin.region",
        None,
        period["valid_until"],
    )
    shown = follow(pages, given)
    assert "Käyttöoikeus on myönnetty." in shown.text
    assert "Odottaa vahvistusta" in shown.text
    # The region gives; only the counsellor's municipality attests.
    assert f'action="{GRANTS}/{found[1]}/attest"' not in shown.text
    assert f'action="{GRANTS}/{found[1]}/revoke"' in shown.text


def test_a_refused_grant_form_keeps_what_was_typed(pages: TestClient, session: Session) -> None:
    counsellor = account(session, "counsellor2.isokyro")
    doctor = account(session, "doctor.isokyro")
    before = session.scalars(select(AccessGrant.id)).all()
    fields = form_for(sign_in(pages, "admin.region", f"{GRANTS}/new").text, GRANTS)
    backwards = {"user_id": str(counsellor.id), "valid_from": "2027-02-01",
                 "valid_until": "2027-01-31"}  # fmt: skip
    refused = pages.post(GRANTS, data={**fields, **backwards})
    assert refused.status_code == 422
    assert (
        '<a class="hds-link" href="#valid_until">Voimassa asti: '
        "Jakso päättyy ennen kuin se alkaa.</a>" in refused.text
    )
    assert 'id="valid_until-error"' in refused.text
    assert 'value="2027-01-31"' in refused.text
    assert f'<option value="{counsellor.id}" selected>' in refused.text
    # A doctor works in no service to be given: the message stands beside the counsellor.
    not_one = pages.post(GRANTS, data={**fields, "user_id": str(doctor.id)})
    assert not_one.status_code == 422
    assert 'href="#user_id">Liikuntaneuvoja: Kenttä on pakollinen.</a>' in not_one.text
    assert 'id="user_id-error"' in not_one.text
    assert session.scalars(select(AccessGrant.id)).all() == before


def test_a_municipalitys_administrator_may_not_give_grants(
    pages: TestClient, session: Session
) -> None:
    listed = sign_in(pages, "admin.kaskinen", GRANTS)
    csrf = form_for(listed.text, "/signout")["csrf_token"]
    mark = audit_mark(session)
    form = pages.get(f"{GRANTS}/new")
    assert form.status_code == 403
    assert "<h1>Ei sallittu</h1>" in form.text
    counsellor = account(session, "counsellor2.kaskinen")
    body = {"csrf_token": csrf, "user_id": str(counsellor.id), "valid_from": "2027-01-01",
            "valid_until": "2027-12-31"}  # fmt: skip
    posted = pages.post(GRANTS, data=body)
    assert posted.status_code == 403
    assert audited(session, mark) == [
        ("read", "AccessGrant", "refused", None),
        ("create", "AccessGrant", "refused", None),
    ]


def test_attesting_and_revoking_are_the_apis(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    by_api, by_page = (grant_via_api(client, auth, session, "counsellor2.kaskinen") for _ in (0, 1))
    mark = audit_mark(session)
    client.post(f"{API}/{by_api}/attest", headers=auth("admin.kaskinen"))
    reason = {"reason": "Siirtyi muihin tehtäviin."}
    client.post(f"{API}/{by_api}/revoke", json=reason, headers=auth("admin.kaskinen"))
    api_entries = audited(session, mark, {by_api: "grant"})

    path = f"{GRANTS}/{by_page}"
    shown = sign_in(pages, "admin.kaskinen", path)
    assert shown.status_code == 200
    assert "Odottaa vahvistusta" in shown.text
    mark = audit_mark(session)
    attested = pages.post(f"{path}/attest", data=form_for(shown.text, f"{path}/attest"))
    assert attested.status_code == 303
    assert attested.headers["location"] == path
    shown = follow(pages, attested)
    assert "Käyttöoikeus on vahvistettu." in shown.text
    assert "Käyttöoikeushallinta Kaskinen" in shown.text
    assert f'action="{path}/attest"' not in shown.text
    assert stored(session, by_page).attested_by == "admin.kaskinen"

    fields = form_for(shown.text, f"{path}/revoke")
    without_reason = pages.post(f"{path}/revoke", data={**fields, "reason": "  "})
    assert without_reason.status_code == 422
    assert 'href="#reason"' in without_reason.text
    assert 'id="reason-error"' in without_reason.text
    assert stored(session, by_page).revoked_at is None
    revoked = pages.post(f"{path}/revoke", data={**fields, **reason})
    assert revoked.status_code == 303
    shown = follow(pages, revoked)
    assert "Käyttöoikeus on peruttu." in shown.text
    assert "Siirtyi muihin tehtäviin." in shown.text
    assert f'action="{path}/revoke"' not in shown.text
    grant = stored(session, by_page)
    assert (grant.revoked_by, grant.revoke_reason) == ("admin.kaskinen", reason["reason"])
    assert audited(session, mark, {by_page: "grant"}) == api_entries


def test_a_grant_attested_meanwhile_is_explained(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    grant_id = grant_via_api(client, auth, session, "counsellor1.kaskinen")
    path = f"{GRANTS}/{grant_id}"
    fields = form_for(sign_in(pages, "admin.kaskinen", path).text, f"{path}/attest")
    client.post(f"{API}/{grant_id}/attest", headers=auth("admin.kaskinen"))
    again = pages.post(f"{path}/attest", data=fields)
    assert again.status_code == 409
    assert "Ei voi vahvistaa" in again.text
    assert "Käyttöoikeus on jo vahvistettu tai peruttu." in again.text


def test_the_region_does_not_attest(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    grant_id = grant_via_api(client, auth, session, "counsellor1.kaskinen")
    path = f"{GRANTS}/{grant_id}"
    shown = sign_in(pages, "admin.region", path)
    assert f'action="{path}/attest"' not in shown.text
    mark = audit_mark(session)
    csrf = form_for(shown.text, f"{path}/revoke")["csrf_token"]
    refused = pages.post(f"{path}/attest", data={"csrf_token": csrf})
    assert refused.status_code == 403
    assert "<h1>Ei sallittu</h1>" in refused.text
    assert audited(session, mark, {grant_id: "grant"}) == [
        ("update", "AccessGrant", "refused", "grant")
    ]
    assert stored(session, grant_id).attested_at is None


def test_another_municipalitys_grant_is_not_found_as_in_the_api(
    pages: TestClient, client: TestClient, auth: Auth, session: Session
) -> None:
    grant_id = str(demo_grant(session, "counsellor1.kaskinen").id)
    mark = audit_mark(session)
    answer = client.post(
        f"{API}/{grant_id}/revoke", json={"reason": "Ei meidän."}, headers=auth("admin.laihia")
    )
    assert answer.status_code == 404
    api_entries = audited(session, mark, {grant_id: "grant"})
    assert api_entries == [("update", "AccessGrant", "not_found", "grant")]

    listed = sign_in(pages, "admin.laihia", GRANTS)
    csrf = form_for(listed.text, "/signout")["csrf_token"]
    mark = audit_mark(session)
    shown = pages.get(f"{GRANTS}/{grant_id}")
    assert shown.status_code == 404
    assert "<h1>Ei löytynyt</h1>" in shown.text
    assert audited(session, mark, {grant_id: "grant"}) == [
        ("read", "AccessGrant", "not_found", "grant")
    ]
    for action, body in (("revoke", {"reason": "Ei meidän."}), ("attest", {})):
        mark = audit_mark(session)
        posted = pages.post(f"{GRANTS}/{grant_id}/{action}", data={"csrf_token": csrf, **body})
        assert posted.status_code == 404
        assert "<h1>Ei löytynyt</h1>" in posted.text
        assert audited(session, mark, {grant_id: "grant"}) == api_entries
    grant = stored(session, grant_id)
    assert grant.revoked_at is None


@pytest.mark.parametrize("username", ["counsellor1.laihia", "doctor.laihia", "auditor.region"])
def test_only_access_administrators_have_the_pages(
    pages: TestClient, session: Session, username: str
) -> None:
    home = sign_in(pages, username)
    assert 'href="/admin/access-grants"' not in home.text
    grant_id = demo_grant(session, "counsellor1.laihia").id
    for path in (GRANTS, f"{GRANTS}/{grant_id}", f"{GRANTS}/new", REVIEW, f"{REVIEW}/check"):
        mark = audit_mark(session)
        refused = pages.get(path)
        assert refused.status_code == 403, path
        assert "<h1>Ei sallittu</h1>" in refused.text
        assert [entry[2] for entry in audited(session, mark)] == ["refused"]


def test_the_review_is_checked_then_applied_all_together(
    pages: TestClient, session: Session
) -> None:
    kept, revoked = (demo_grant(session, f"counsellor{n}.kaskinen").id for n in (1, 2))
    review = sign_in(pages, "admin.kaskinen", REVIEW)
    assert review.status_code == 200
    assert "<h1>Käyttöoikeuksien katselmointi</h1>" in review.text
    # The demo's grants have not been used: each is listed once, for that reason.
    assert review.text.count(f'name="decision.{kept}"') == 3
    assert "Ei käytetty 90 päivään" in review.text
    assert "Laihia" not in review.text.split("<main", 1)[1]
    fields = form_for(review.text, REVIEW)
    decisions = {f"decision.{kept}": "keep", f"decision.{revoked}": "revoke",
                 "reason": "Ei enää liikuntaneuvonnan tehtävissä."}  # fmt: skip
    mark = audit_mark(session)
    chosen = pages.post(REVIEW, data={**fields, **decisions})
    assert chosen.status_code == 303
    assert chosen.headers["location"] == f"{REVIEW}/check"
    check = follow(pages, chosen)
    assert "<h1>Tarkista katselmoinnin päätökset</h1>" in check.text
    keep_part, revoke_part = check.text.split('id="revoked-title"')
    assert "Liikuntaneuvoja 1 Kaskinen" in keep_part
    assert "Liikuntaneuvoja 2 Kaskinen" in revoke_part
    assert "Ei enää liikuntaneuvonnan tehtävissä." in revoke_part
    # Nothing is changed before the decisions are applied.
    assert audited(session, mark) == []
    assert stored(session, kept).recertified_by is None
    assert stored(session, revoked).revoked_at is None
    # The way back to change them keeps them.
    again = pages.get(REVIEW)
    assert (
        f'id="decision-{revoked}-revoke" name="decision.{revoked}" value="revoke" checked'
        in again.text
    )

    apply = form_for(check.text, f"{REVIEW}/recertify")
    applied = pages.post(f"{REVIEW}/recertify", data=apply)
    assert applied.status_code == 303
    assert (
        "Katselmointi on toteutettu. Voimaan jätetty: 1. Peruttu: 1." in follow(pages, applied).text
    )
    names = {str(kept): "kept", str(revoked): "revoked"}
    assert audited(session, mark, names) == [
        ("update", "AccessGrant", "success", "kept"),
        ("update", "AccessGrant", "success", "revoked"),
    ]
    assert (stored(session, kept).recertified_by, stored(session, kept).revoked_at) == (
        "admin.kaskinen",
        None,
    )
    assert stored(session, revoked).revoke_reason == "Ei enää liikuntaneuvonnan tehtävissä."
    # A second press finds nothing more to apply.
    mark = audit_mark(session)
    twice = pages.post(f"{REVIEW}/recertify", data=apply)
    assert twice.status_code == 303
    assert audited(session, mark) == []


def test_a_review_form_refused_keeps_the_choices(pages: TestClient, session: Session) -> None:
    revoked = demo_grant(session, "counsellor2.kaskinen").id
    review = sign_in(pages, "admin.kaskinen", REVIEW)
    fields = form_for(review.text, REVIEW)
    nothing = pages.post(REVIEW, data=fields)
    assert nothing.status_code == 422
    assert '<a class="hds-link" href="#decisions">Päätökset: Nimeä vähintään yksi' in nothing.text
    no_reason = pages.post(REVIEW, data={**fields, f"decision.{revoked}": "revoke"})
    assert no_reason.status_code == 422
    assert (
        'href="#reason">Perumisten syy: Käyttöoikeuden peruminen vaatii perustelun.'
        in no_reason.text
    )
    assert 'id="reason-error"' in no_reason.text
    assert f'name="decision.{revoked}" value="revoke" checked' in no_reason.text
    assert stored(session, revoked).revoked_at is None


def test_a_grant_out_of_scope_in_the_review_is_not_found(
    pages: TestClient, session: Session
) -> None:
    theirs = str(demo_grant(session, "counsellor1.laihia").id)
    fields = form_for(sign_in(pages, "admin.kaskinen", REVIEW).text, REVIEW)
    mark = audit_mark(session)
    refused = pages.post(REVIEW, data={**fields, f"decision.{theirs}": "keep"})
    assert refused.status_code == 404
    assert "<h1>Ei löytynyt</h1>" in refused.text
    assert audited(session, mark, {theirs: "theirs"}) == [
        ("update", "AccessGrant", "not_found", "theirs")
    ]
    assert pages.get(f"{REVIEW}/check").headers["location"] == REVIEW


def test_a_grant_gone_out_of_scope_before_applying_refuses_every_decision(
    pages: TestClient, session: Session
) -> None:
    kept, revoked = (demo_grant(session, f"counsellor{n}.kaskinen").id for n in (1, 2))
    fields = form_for(sign_in(pages, "admin.kaskinen", REVIEW).text, REVIEW)
    decisions = {f"decision.{kept}": "keep", f"decision.{revoked}": "revoke", "reason": "Lähti."}
    check = follow(pages, pages.post(REVIEW, data={**fields, **decisions}))
    apply = form_for(check.text, f"{REVIEW}/recertify")
    # Meanwhile the second counsellor moves to Laihia: no longer Kaskinen's to decide on.
    moved = account(session, "counsellor2.kaskinen")
    moved.organisation_id = account(session, "counsellor1.laihia").organisation_id
    session.flush()
    mark = audit_mark(session)
    refused = pages.post(f"{REVIEW}/recertify", data=apply)
    assert refused.status_code == 404
    assert audited(session, mark, {str(revoked): "revoked"}) == [
        ("update", "AccessGrant", "not_found", "revoked")
    ]
    assert stored(session, kept).recertified_by is None
    assert stored(session, revoked).revoked_at is None


def test_the_texts_the_modules_mark_are_translated() -> None:
    texts = {*views.STATUSES.values(), *views.REVIEW_REASONS.values(),
             *review_pages.DECISIONS.values(), review_pages.APPLIED, grant_pages.GIVEN,
             grant_pages.ATTESTED, grant_pages.REVOKED}  # fmt: skip
    for language in ("fi", "sv"):
        assert [text for text in texts if text not in catalog(language)] == []
