"""Access grants as the seed divides them: the region grants, the municipality attests, both
must hold, either revokes, and it all takes effect on the very next request."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.access.grants.models import AccessGrant
from app.access.models import User

Auth = Callable[[str], dict[str, str]]
COUNSELLOR = "counsellor2.isokyro"
GRANTS = "/api/v1/admin/access-grants"


@pytest.fixture
def counsellor(session: Session) -> User:
    """A counsellor whose demo grant is withdrawn: they start without access."""
    user = session.scalars(select(User).where(User.username == COUNSELLOR)).one()
    session.execute(
        update(AccessGrant)
        .where(AccessGrant.user_id == user.id)
        .values(revoked_at=AccessGrant.created_at, revoked_by="tests", revoke_reason="start clean")
    )
    session.flush()
    return user


def has_access(client: TestClient, auth: Auth) -> bool:
    return client.get("/api/v1/referrals", headers=auth(COUNSELLOR)).status_code == 200


def new_grant(client: TestClient, auth: Auth, user: User, **period: str) -> Any:
    body = {
        "user_id": str(user.id),
        "service_id": str(user.service_id),
        "valid_from": period.get("valid_from", str(date.today() - timedelta(days=1))),
        "valid_until": period.get("valid_until", str(date.today() + timedelta(days=365))),
    }
    return client.post(GRANTS, json=body, headers=auth("admin.region"))


def test_a_grant_without_attestation_gives_no_access(
    client: TestClient, auth: Auth, counsellor: User
) -> None:
    assert not has_access(client, auth)
    created = new_grant(client, auth, counsellor)
    assert created.status_code == 201, created.text
    assert created.json()["effective"] is False
    assert not has_access(client, auth)


def test_grant_and_attestation_together_give_access_and_revocation_ends_it(
    client: TestClient, auth: Auth, session: Session, counsellor: User
) -> None:
    grant = new_grant(client, auth, counsellor).json()
    attested = client.post(f"{GRANTS}/{grant['id']}/attest", headers=auth("admin.isokyro"))
    assert attested.status_code == 200, attested.text
    assert attested.json()["effective"] is True
    assert has_access(client, auth)
    assert session.get_one(AccessGrant, uuid.UUID(grant["id"])).last_used_on is not None
    # Either side may revoke; the very next request is refused.
    revoked = client.post(
        f"{GRANTS}/{grant['id']}/revoke",
        json={"reason": "Siirtyi muihin tehtäviin."},
        headers=auth("admin.isokyro"),
    )
    assert revoked.status_code == 200
    assert not has_access(client, auth)
    changes = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.resource_id == grant["id"])
        .order_by(AuditEvent.seq)
    ).all()
    assert changes == ["create", "update", "update"]


def test_an_expired_grant_ends_access(
    client: TestClient, auth: Auth, session: Session, counsellor: User
) -> None:
    grant = new_grant(client, auth, counsellor).json()
    client.post(f"{GRANTS}/{grant['id']}/attest", headers=auth("admin.isokyro"))
    assert has_access(client, auth)
    session.execute(
        update(AccessGrant)
        .where(AccessGrant.id == uuid.UUID(grant["id"]))
        .values(valid_until=date.today() - timedelta(days=1))
    )
    session.flush()
    assert not has_access(client, auth)


def test_attestation_without_a_grant_is_impossible_and_only_the_own_municipality_attests(
    client: TestClient, auth: Auth, counsellor: User
) -> None:
    missing = client.post(f"{GRANTS}/{uuid.uuid4()}/attest", headers=auth("admin.isokyro"))
    assert missing.status_code == 404
    grant = new_grant(client, auth, counsellor).json()
    assert (
        client.post(f"{GRANTS}/{grant['id']}/attest", headers=auth("admin.laihia")).status_code
        == 404
    )
    assert (
        client.post(f"{GRANTS}/{grant['id']}/attest", headers=auth("admin.region")).status_code
        == 403
    )
    assert (
        client.post(f"{GRANTS}/{grant['id']}/attest", headers=auth("admin.isokyro")).status_code
        == 200
    )
    again = client.post(f"{GRANTS}/{grant['id']}/attest", headers=auth("admin.isokyro"))
    assert again.json()["code"] == "grant_not_attestable"


def test_only_the_region_grants_and_only_to_a_counsellor_of_the_service(
    client: TestClient, auth: Auth, session: Session, counsellor: User
) -> None:
    body = {
        "user_id": str(counsellor.id),
        "service_id": str(counsellor.service_id),
        "valid_from": str(date.today()),
        "valid_until": str(date.today()),
    }
    assert client.post(GRANTS, json=body, headers=auth("admin.isokyro")).status_code == 403
    doctor = session.scalars(select(User).where(User.username == "doctor.isokyro")).one()
    wrong = client.post(
        GRANTS, json={**body, "user_id": str(doctor.id)}, headers=auth("admin.region")
    )
    assert wrong.json()["code"] == "not_a_counsellor_of_the_service"
    backwards = {**body, "valid_until": str(date.today() - timedelta(days=1))}
    assert client.post(GRANTS, json=backwards, headers=auth("admin.region")).status_code == 422


@pytest.mark.parametrize(
    "user",
    [
        "doctor.laihia",
        "counsellor1.laihia",
        "auditor.region",
        "statistician.region",
        "patient-system",
    ],
)
def test_only_access_admins_administer(client: TestClient, auth: Auth, user: str) -> None:
    assert client.get(GRANTS, headers=auth(user)).status_code == 403


def test_each_municipality_admin_sees_their_own_staff_only(client: TestClient, auth: Auth) -> None:
    region = {
        g["username"] for g in client.get(GRANTS, headers=auth("admin.region")).json()["items"]
    }
    kaskinen = {
        g["username"] for g in client.get(GRANTS, headers=auth("admin.kaskinen")).json()["items"]
    }
    assert {"counsellor1.laihia", "counsellor1.kaskinen"} <= region
    assert kaskinen == {"counsellor1.kaskinen", "counsellor2.kaskinen"}


def test_the_access_review(
    client: TestClient, auth: Auth, session: Session, counsellor: User
) -> None:
    def review(admin: str) -> dict[str, Any]:
        response = client.get("/api/v1/admin/access-review", headers=auth(admin))
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def names(grants: list[dict[str, Any]]) -> set[str]:
        return {grant["username"] for grant in grants}

    before = review("admin.region")
    assert COUNSELLOR in before["counsellors_without_grant"]
    assert "counsellor1.laihia" in names(before["unused"])
    client.get("/api/v1/referrals", headers=auth("counsellor1.laihia"))
    assert "counsellor1.laihia" not in names(review("admin.region")["unused"])
    new_grant(client, auth, counsellor)
    assert COUNSELLOR in names(review("admin.isokyro")["unattested"])
    assert names(review("admin.kaskinen")["unattested"]) == set()
    admin = session.scalars(select(User).where(User.username == "admin.laihia")).one()
    admin.active = False
    session.flush()
    assert names(review("admin.region")["attested_by_non_admin"]) == {
        "counsellor1.laihia",
        "counsellor2.laihia",
    }


def test_recertification_confirms_and_revokes_in_one_go(
    client: TestClient, auth: Auth, session: Session
) -> None:
    grants = {
        g["username"]: g["id"]
        for g in client.get(GRANTS, headers=auth("admin.kaskinen")).json()["items"]
    }
    decisions = {
        "confirm": [grants["counsellor1.kaskinen"]],
        "revoke": [grants["counsellor2.kaskinen"]],
        "reason": "Ei enää liikuntaneuvonnan tehtävissä.",
    }
    done = client.post(
        "/api/v1/admin/access-review/recertify", json=decisions, headers=auth("admin.kaskinen")
    )
    assert done.status_code == 200, done.text
    assert done.json() == {"confirmed": 1, "revoked": 1}
    after = {
        g["username"]: g for g in client.get(GRANTS, headers=auth("admin.kaskinen")).json()["items"]
    }
    assert after["counsellor1.kaskinen"]["recertified_by"] == "admin.kaskinen"
    assert after["counsellor2.kaskinen"]["effective"] is False
    assert client.get("/api/v1/referrals", headers=auth("counsellor2.kaskinen")).status_code == 403


def test_recertification_outside_ones_scope_changes_nothing(
    client: TestClient, auth: Auth, session: Session
) -> None:
    grants = {
        g["username"]: g["id"]
        for g in client.get(GRANTS, headers=auth("admin.region")).json()["items"]
    }
    decisions = {"confirm": [grants["counsellor1.kaskinen"], grants["counsellor1.laihia"]]}
    refused = client.post(
        "/api/v1/admin/access-review/recertify", json=decisions, headers=auth("admin.kaskinen")
    )
    assert refused.status_code == 404
    after = {
        g["username"]: g for g in client.get(GRANTS, headers=auth("admin.region")).json()["items"]
    }
    assert after["counsellor1.kaskinen"]["recertified_by"] is None
    bad = client.post(
        "/api/v1/admin/access-review/recertify",
        json={"revoke": [grants["counsellor1.laihia"]]},
        headers=auth("admin.region"),
    )
    assert bad.status_code == 422  # revoking needs a reason
