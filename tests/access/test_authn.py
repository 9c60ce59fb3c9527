"""Bearer tokens from a configured issuer, its JWKS fetched over HTTP: what is accepted and
everything that must be refused with 401 problem+json."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from joserfc.jwk import ECKey, KeySet, RSAKey
from sqlalchemy import Connection, update
from starlette.testclient import TestClient

from app import db
from app.access import authn
from app.access.authn import StaticKeySource, TokenVerifier
from app.access.models import User
from app.config import Settings
from app.errors import InvalidToken
from app.kit import clock
from app.main import create_app
from tests.fixtures.tokens import AUDIENCE, b64, claims, sign, unsigned

ISSUER = "https://idp.region.test"
LOOKUP = "/api/v1/patients/lookup"
UNREGISTERED = {"hetu": "010190-998V"}  # valid, in the test range, never registered


class FakeIdentityProvider:
    """Serves a discovery document and a JWKS like a real OIDC provider, and counts fetches."""

    def __init__(self) -> None:
        self.keys: list[RSAKey | ECKey] = [RSAKey.generate_key(2048, auto_kid=True)]
        self.jwks_fetches = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"})
        if request.url.path == "/jwks":
            self.jwks_fetches += 1
            return httpx.Response(200, json={"keys": [k.as_dict(private=False) for k in self.keys]})
        return httpx.Response(404)


@pytest.fixture
def idp() -> FakeIdentityProvider:
    return FakeIdentityProvider()


@pytest.fixture
def idp_app(settings: Settings, connection: Connection, idp: FakeIdentityProvider) -> FastAPI:
    configured = settings.model_copy(
        update={"oidc_issuers": [ISSUER], "jwks_min_refresh_seconds": 0}
    )
    # The region's identity provider vouches for this account (not the development issuer).
    connection.execute(update(User).where(User.username == "doctor.laihia").values(issuer=ISSUER))
    client = httpx.AsyncClient(transport=httpx.MockTransport(idp.handle))
    return create_app(configured, database=db.Database(connection), http_client=client)


@pytest.fixture
def api(idp_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(idp_app, raise_server_exceptions=False) as client:
        yield client


def call(api: TestClient, token: str, language: str = "en") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}".encode(), "Accept-Language": language.encode()}
    return api.post(LOOKUP, json=UNREGISTERED, headers=headers)


def assert_refused(response: httpx.Response, code: str = "invalid_token") -> dict[str, Any]:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["status"] == 401
    return body


def test_a_valid_token_passes_authentication(api: TestClient, idp: FakeIdentityProvider) -> None:
    token = sign(idp.keys[0], claims(ISSUER))
    # Authenticated and allowed: the unregistered patient is simply not found.
    assert call(api, token).status_code == 404


def test_an_ec_key_is_accepted_too(api: TestClient, idp: FakeIdentityProvider) -> None:
    idp.keys.append(ECKey.generate_key("P-256", auto_kid=True))
    assert call(api, sign(idp.keys[1], claims(ISSUER))).status_code == 404


def test_no_token_is_refused(api: TestClient) -> None:
    assert_refused(api.post(LOOKUP, json=UNREGISTERED), code="unauthenticated")


def test_another_scheme_is_refused(api: TestClient) -> None:
    response = api.post(LOOKUP, json=UNREGISTERED, headers={"Authorization": "Basic YTpi"})
    assert_refused(response, code="unauthenticated")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int(time.time()) - 120}, "the token has expired"),
        ({"nbf": int(time.time()) + 600}, "the token is not valid yet"),
        ({"aud": "another-service"}, "the token is meant for another audience"),
        ({"aud": None}, "a required claim is missing or wrong"),
        ({"exp": None}, "a required claim is missing or wrong"),
        ({"sub": None}, "a required claim is missing or wrong"),
        ({"org": None}, "a required claim is missing or wrong"),
        ({"roles": ["superuser"]}, "a required claim is missing or wrong"),
        ({"iss": "https://evil.test"}, "the issuer is not trusted"),
    ],
)
def test_bad_claims_are_refused(
    api: TestClient, idp: FakeIdentityProvider, overrides: dict[str, Any], reason: str
) -> None:
    body = assert_refused(call(api, sign(idp.keys[0], claims(ISSUER, **overrides))))
    assert reason in body["detail"]


def test_an_expired_token_within_the_leeway_passes(
    api: TestClient, idp: FakeIdentityProvider
) -> None:
    token = sign(idp.keys[0], claims(ISSUER, exp=int(time.time()) - 5))
    assert call(api, token).status_code == 404


def test_an_unknown_key_is_refused_after_one_refresh(
    api: TestClient, idp: FakeIdentityProvider
) -> None:
    stranger = RSAKey.generate_key(2048, auto_kid=True)
    body = assert_refused(call(api, sign(stranger, claims(ISSUER))))
    assert "unknown" in body["detail"]
    assert idp.jwks_fetches == 2  # the first fetch, then one refresh for the unknown kid


def test_a_rotated_key_is_picked_up_without_restart(
    api: TestClient, idp: FakeIdentityProvider
) -> None:
    assert call(api, sign(idp.keys[0], claims(ISSUER))).status_code == 404
    rotated = RSAKey.generate_key(2048, auto_kid=True)
    idp.keys = [rotated]
    assert call(api, sign(rotated, claims(ISSUER))).status_code == 404


def test_a_token_seen_before_is_refused_once_its_key_is_dropped(
    api: TestClient, idp: FakeIdentityProvider
) -> None:
    old = sign(idp.keys[0], claims(ISSUER))
    assert call(api, old).status_code == 404
    rotated = RSAKey.generate_key(2048, auto_kid=True)
    idp.keys = [rotated]
    # A token of the new key makes Askel fetch the JWKS again, which no longer has the old key.
    assert call(api, sign(rotated, claims(ISSUER))).status_code == 404
    assert "unknown" in assert_refused(call(api, old))["detail"]


def test_a_token_seen_before_is_not_verified_again_but_still_expires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = RSAKey.generate_key(2048, auto_kid=True)
    verifier = TokenVerifier({ISSUER: StaticKeySource(KeySet([key]))}, audience=AUDIENCE)
    decoded: list[str] = []
    decode = authn.jwt.decode

    def counted(token: str, *args: Any, **kwargs: Any) -> Any:
        decoded.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(authn.jwt, "decode", counted)
    issued = datetime.now(UTC)
    token = sign(key, claims(ISSUER, exp=int(issued.timestamp()) + 60))
    for _ in range(3):
        asyncio.run(verifier.verify(token))
    assert decoded == [token]
    # Past the 30-second leeway.
    with clock.set_to(issued + timedelta(seconds=60 + 31)), pytest.raises(InvalidToken) as refused:
        asyncio.run(verifier.verify(token))
    assert refused.value.params == {"reason": "the token has expired"}


def test_alg_none_is_refused(api: TestClient, idp: FakeIdentityProvider) -> None:
    body = assert_refused(call(api, unsigned(claims(ISSUER), idp.keys[0].kid)))
    assert "algorithm" in body["detail"]


def test_hs256_signed_with_the_public_key_is_refused(
    api: TestClient, idp: FakeIdentityProvider
) -> None:
    key = idp.keys[0]
    assert isinstance(key, RSAKey)
    header = {"alg": "HS256", "kid": key.kid, "typ": "JWT"}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims(ISSUER)).encode())}"
    mac = hmac.new(key.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    assert_refused(call(api, f"{signing_input}.{b64(mac)}"))


def test_a_tampered_payload_is_refused(api: TestClient, idp: FakeIdentityProvider) -> None:
    header, _payload, signature = sign(idp.keys[0], claims(ISSUER)).split(".")
    forged = b64(json.dumps(claims(ISSUER, roles=["auditor", "clinician"])).encode())
    body = assert_refused(call(api, f"{header}.{forged}.{signature}"))
    assert "signature" in body["detail"]


def test_a_tampered_signature_is_refused(api: TestClient, idp: FakeIdentityProvider) -> None:
    token = sign(idp.keys[0], claims(ISSUER))
    flipped = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert_refused(call(api, flipped))


def test_an_embedded_key_is_ignored(api: TestClient) -> None:
    attacker = RSAKey.generate_key(2048, auto_kid=True)
    token = sign(
        attacker,
        claims(ISSUER),
        jwk=attacker.as_dict(private=False),
        jku="https://evil.test/jwks",
    )
    assert_refused(call(api, token))


@pytest.mark.parametrize("garbage", ["abc", "a.b.c", "....", "x" * 9000, "é.é.é"])
def test_garbage_is_refused(api: TestClient, garbage: str) -> None:
    assert_refused(call(api, garbage))


def test_a_truncated_token_is_refused(api: TestClient, idp: FakeIdentityProvider) -> None:
    token = sign(idp.keys[0], claims(ISSUER))
    assert_refused(call(api, token[: len(token) // 2]))


@pytest.mark.parametrize(
    ("language", "title"),
    [("fi", "Virheellinen tunniste"), ("sv", "Ogiltig token"), ("en", "Invalid token")],
)
def test_refusals_speak_the_callers_language(
    api: TestClient, idp: FakeIdentityProvider, language: str, title: str
) -> None:
    token = sign(idp.keys[0], claims(ISSUER, exp=int(time.time()) - 600))
    body = assert_refused(call(api, token, language))
    assert body["title"] == title


def test_an_issuer_speaks_only_for_its_own_accounts(
    api: TestClient, idp: FakeIdentityProvider
) -> None:
    # nurse.laihia is an account of the development issuer: the region's provider cannot
    # mint tokens for it, however valid its signature.
    token = sign(idp.keys[0], claims(ISSUER, sub="nurse.laihia", profession="nurse"))
    body = assert_refused(call(api, token))
    assert "the account is not active" in body["detail"]
