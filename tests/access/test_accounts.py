"""A valid token is not enough: it must speak for an active account of the same organisation."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.dev_issuer import DevIssuer
from app.access.models import User

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
