"""The development issuer is a real OIDC issuer: discovery, JWKS, signed tokens."""

from __future__ import annotations

import asyncio

import httpx2 as httpx
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import Connection
from starlette.testclient import TestClient

from app import db
from app.access.authn import DiscoveredKeySource
from app.config import Settings
from app.main import create_app
from tests.conftest import TEST_ISSUER


def test_discovery_and_jwks(client: TestClient) -> None:
    discovery = client.get("/dev/.well-known/openid-configuration").json()
    assert discovery["issuer"] == TEST_ISSUER
    assert discovery["jwks_uri"] == f"{TEST_ISSUER}/jwks"
    keys = client.get("/dev/jwks").json()["keys"]
    assert [(k["kty"], k["alg"], k["use"]) for k in keys] == [("RSA", "RS256", "sig")]
    assert "d" not in keys[0], "the private exponent must never be published"


def test_a_token_verifies_against_the_published_jwks(client: TestClient) -> None:
    token = client.post("/dev/token", json={"username": "counsellor1.kaskinen"}).json()
    keys = KeySet.import_key_set(client.get("/dev/jwks").json())
    claims = jwt.decode(token["access_token"], keys, algorithms=["RS256"]).claims
    assert claims["iss"] == TEST_ISSUER
    assert claims["aud"] == "askel"
    assert claims["sub"] == "counsellor1.kaskinen"
    assert claims["org"] == "kunta-231"
    assert claims["roles"] == ["counsellor"]
    assert claims["exp"] - claims["iat"] == token["expires_in"]


def test_the_discovery_flow_works_against_the_dev_issuer_over_http(app: FastAPI) -> None:
    async def fetch() -> KeySet:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport) as http:
            return await DiscoveredKeySource(TEST_ISSUER, http).key_set()

    keys = asyncio.run(fetch())
    assert len(keys.keys) == 1


def test_unknown_users_get_no_token(client: TestClient) -> None:
    response = client.post("/dev/token", json={"username": "nobody"})
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_user"


def test_the_demo_users_are_listed_with_their_services(client: TestClient) -> None:
    users = {user["username"]: user for user in client.get("/dev/users").json()}
    counsellors = [u for u in users.values() if "counsellor" in u["roles"]]
    assert len(counsellors) == 6
    assert all(u["service_id"] for u in counsellors)
    professions = {u["profession"] for u in users.values() if "clinician" in u["roles"]}
    assert professions == {"doctor", "nurse", "physiotherapist"}
    assert {"admin.region", "auditor.region", "statistician.region"} <= set(users)
    assert sum("access_admin" in u["roles"] for u in users.values()) == 4


def test_the_issuer_is_absent_when_turned_off(settings: Settings, connection: Connection) -> None:
    off = settings.model_copy(update={"dev_issuer_enabled": False})
    with TestClient(create_app(off, database=db.Database(connection))) as client:
        assert client.post("/dev/token", json={"username": "doctor.laihia"}).status_code == 404
        assert client.get("/dev/jwks").status_code == 404
