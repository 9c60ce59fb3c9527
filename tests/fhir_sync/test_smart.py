"""SMART Backend Services tokens for the region's server, against a token endpoint in-process that
checks the client assertion as a conformant server does."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs

import httpx2 as httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from app.access.authn import SmartBackendServices, TokenRefused, TokenUnavailable

TOKEN_URL = "https://region.example/auth/token"
CLIENT_ID = "askel-sync"


@pytest.fixture
def key() -> ECKey:
    return ECKey.generate_key("P-384", parameters={"kid": "askel-1", "alg": "ES384"})


class TokenEndpoint:
    """Accepts an ES384 assertion signed by the registered key, once per `jti`."""

    def __init__(self, public: KeySet, expires_in: int = 300) -> None:
        self.public = public
        self.expires_in = expires_in
        self.assertions: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.refuse = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        token = jwt.decode(form["client_assertion"], self.public, algorithms=["ES384", "RS384"])
        self.assertions.append((dict(token.header), dict(token.claims)))
        if self.refuse:
            return httpx.Response(400, json={"error": "invalid_client",
                                             "error_description": "unknown key"})  # fmt: skip
        issued = len(self.assertions)
        return httpx.Response(200, json={"access_token": f"token-{issued}", "token_type": "bearer",
                                         "expires_in": self.expires_in,
                                         "scope": form.get("scope")})  # fmt: skip


def _client(key: ECKey, endpoint: TokenEndpoint) -> SmartBackendServices:
    return SmartBackendServices(
        TOKEN_URL, CLIENT_ID, key.as_dict(private=True), "system/Task.cru",
        transport=httpx.MockTransport(endpoint),
    )  # fmt: skip


def test_the_assertion_is_what_smart_servers_accept(key: ECKey) -> None:
    endpoint = TokenEndpoint(KeySet([ECKey.import_key(key.as_dict(private=False))]))
    tokens = _client(key, endpoint)
    assert tokens() == "Bearer token-1"
    tokens.forget()
    tokens()
    (header_1, claims_1), (_, claims_2) = endpoint.assertions
    assert header_1 == {"alg": "ES384", "kid": "askel-1", "typ": "JWT"}
    assert claims_1["iss"] == claims_1["sub"] == CLIENT_ID
    assert claims_1["aud"] == TOKEN_URL
    assert 0 < claims_1["exp"] - time.time() <= 300
    assert claims_1["jti"] != claims_2["jti"]


def test_the_token_is_reused_until_shortly_before_it_expires(key: ECKey) -> None:
    endpoint = TokenEndpoint(KeySet([key]))
    tokens = _client(key, endpoint)
    assert [tokens(), tokens(), tokens()] == ["Bearer token-1"] * 3
    short = TokenEndpoint(KeySet([key]), expires_in=30)  # inside the renewal margin
    tokens = _client(key, short)
    assert [tokens(), tokens()] == ["Bearer token-1", "Bearer token-2"]


def test_a_refused_client_says_why(key: ECKey) -> None:
    endpoint = TokenEndpoint(KeySet([key]))
    endpoint.refuse = True
    with pytest.raises(TokenRefused, match="invalid_client: unknown key"):
        _client(key, endpoint)()


def test_an_unreachable_endpoint_is_worth_retrying(key: ECKey) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    tokens = SmartBackendServices(TOKEN_URL, CLIENT_ID, key.as_dict(private=True), "s",
                                  transport=httpx.MockTransport(down))  # fmt: skip
    with pytest.raises(TokenUnavailable):
        tokens()
