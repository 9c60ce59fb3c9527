"""A valid token is not enough: it must speak for an active account of the same organisation."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.dev_issuer import DevIssuer
from app.access.grants.models import AccessGrant
from app.access.models import User
from app.access.principal import Role
from app.access.service import local_principal

LOOKUP = "/api/v1/patients/lookup"
BODY = {"hetu": "131052-308T"}


def user(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}


def test_a_deactivated_account_loses_access_on_the_next_request(
    client: TestClient, token_for: Callable[[str], str], session: Session
) -> None:
    token = token_for("doctor.laihia")
    assert client.post(LOOKUP, json=BODY, headers=bearer(token)).status_code == 404
    user(session, "doctor.laihia").active = False
    session.flush()
    response = client.post(LOOKUP, json=BODY, headers=bearer(token))
    assert response.status_code == 401
    assert "the account is not active" in response.json()["detail"]


def test_a_token_for_another_organisation_is_refused(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    issuer: DevIssuer = app.state.dev_issuer
    token, _ = issuer.issue(user(session, "doctor.laihia"), "ts-kaskinen")
    response = client.post(LOOKUP, json=BODY, headers=bearer(token))
    assert response.status_code == 401
    assert "another organisation" in response.json()["detail"]


def test_a_role_the_account_lacks_does_not_count(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    counsellor = user(session, "counsellor1.laihia")
    issuer: DevIssuer = app.state.dev_issuer
    # The token claims clinician too; the account does not hold it.
    counsellor.roles = ["counsellor", "clinician"]
    token, _ = issuer.issue(counsellor, "kunta-399")
    counsellor.roles = ["counsellor"]
    session.flush()
    assert client.post(LOOKUP, json=BODY, headers=bearer(token)).status_code == 403


def test_a_local_principal_is_the_account_as_a_request_would_see_it(session: Session) -> None:
    counsellor = local_principal(session, "counsellor1.laihia")
    account = user(session, "counsellor1.laihia")
    assert (counsellor.roles, counsellor.user_id, counsellor.service_id) == (
        {Role.counsellor},
        account.id,
        account.service_id,
    )
    # The same rules as for a token: without an effective grant the counsellor's role is gone.
    session.execute(
        update(AccessGrant)
        .where(AccessGrant.user_id == account.id)
        .values(revoked_at=AccessGrant.created_at, revoked_by="tests", revoke_reason="test")
    )
    assert local_principal(session, "counsellor1.laihia").roles == frozenset()
    with pytest.raises(LookupError, match="nobody"):
        local_principal(session, "nobody")
