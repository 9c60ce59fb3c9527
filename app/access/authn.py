"""Bearer-token authentication: JWTs verified with joserfc against each issuer's JWKS.

Security rules (OWASP ASVS 9.1, 9.2, 10.3):
- only asymmetric algorithms from an allow-list; `none` and HS* never verify;
- the key comes only from the configured issuer's JWKS, chosen by `kid`; `jku`, `jwk` and `x5u`
  headers are ignored;
- `iss`, `aud`, `exp` and `sub` are essential, `nbf`/`iat` honoured, with a small leeway;
- an unknown `kid` refreshes the issuer's JWKS once (rate-limited), so key rotation works
  without a restart and a flood of bad tokens cannot turn into a flood of JWKS fetches.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

import httpx2 as httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7523.assertion import private_key_jwt_sign
from fastapi import Request
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, KeySet

from app.access import throttle
from app.access.principal import Principal, Profession, Role
from app.errors import InvalidToken, Unauthenticated
from app.i18n import N_
from app.kit.clock import utcnow

ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "ES256", "ES384")
MAX_TOKEN_BYTES = 8192
# Tokens whose signatures have been verified, kept for their next requests: a client sends the
# same token until it expires, and checking its signature again is most of verifying it.
SIGNATURES_KEPT = 2048


class KeySource(Protocol):
    async def key_set(self, *, refresh: bool = False) -> KeySet: ...


class StaticKeySource:
    """Keys known in-process: the development issuer's own public JWKS."""

    def __init__(self, keys: KeySet) -> None:
        self._keys = keys

    async def key_set(self, *, refresh: bool = False) -> KeySet:
        return self._keys


class DiscoveredKeySource:
    """An issuer's JWKS found through `/.well-known/openid-configuration`, cached."""

    def __init__(
        self,
        issuer: str,
        client: httpx.AsyncClient,
        *,
        cache_seconds: float = 3600,
        min_refresh_seconds: float = 30,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self._client = client
        self._cache_seconds = cache_seconds
        self._min_refresh_seconds = min_refresh_seconds
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def key_set(self, *, refresh: bool = False) -> KeySet:
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            stale = self._keys is None or age > self._cache_seconds
            may_refresh = refresh and age > self._min_refresh_seconds
            if stale or may_refresh:
                self._keys = await self._fetch()
                self._fetched_at = time.monotonic()
            assert self._keys is not None
            return self._keys

    async def _fetch(self) -> KeySet:
        try:
            discovery = await self._client.get(f"{self.issuer}/.well-known/openid-configuration")
            discovery.raise_for_status()
            document = discovery.json()
            if document.get("issuer", "").rstrip("/") != self.issuer:
                raise InvalidToken(reason=N_("the issuer's discovery document names another"))
            jwks = await self._client.get(document["jwks_uri"])
            jwks.raise_for_status()
            return KeySet.import_key_set(jwks.json())
        except (httpx.HTTPError, ValueError, KeyError, JoseError) as exc:
            raise InvalidToken(reason=N_("the issuer's keys could not be fetched")) from exc


@dataclass(frozen=True, slots=True)
class _Signed:
    """A token whose signature a key verified: its issuer, claims and that key."""

    issuer: str
    claims: dict[str, Any]
    kid: str
    key: Any


class TokenVerifier:
    def __init__(
        self,
        sources: dict[str, KeySource],
        *,
        audience: str,
        leeway_seconds: int = 30,
        account_issuers: dict[str, str] | None = None,
    ) -> None:
        self._sources = {issuer.rstrip("/"): source for issuer, source in sources.items()}
        # The name accounts are kept under, per issuer URL (by default the URL itself).
        self._account_issuers = {
            issuer.rstrip("/"): name for issuer, name in (account_issuers or {}).items()
        }
        self._audience = audience
        self._leeway = leeway_seconds
        self._signed: OrderedDict[str, _Signed] = OrderedDict()
        self._signed_lock = threading.Lock()

    async def verify(self, token: str) -> Principal:
        issuer, claims = await self.verified_claims(token)
        return principal_from_claims(claims, self._account_issuers.get(issuer, issuer))

    async def verified_claims(self, token: str) -> tuple[str, dict[str, Any]]:
        """The issuer and the claims of a token signed by a trusted issuer's key, meant for
        this audience, unexpired and naming its subject.

        A token seen before is not verified again while its issuer still publishes the key
        that verified it (a key dropped from the issuer's JWKS stops its tokens at once); its
        claims are checked on every use, as time passes."""
        signed = await self._known(token)
        if signed is None:
            signed = await self._signed_by_issuer(token)
            with self._signed_lock:
                self._signed[token] = signed
                while len(self._signed) > SIGNATURES_KEPT:
                    self._signed.popitem(last=False)
        registry = jwt.JWTClaimsRegistry(
            now=_now_seconds,
            leeway=self._leeway,
            iss={"essential": True, "value": signed.claims["iss"]},
            aud={"essential": True, "value": self._audience},
            exp={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(signed.claims)
        except JoseError as exc:
            raise InvalidToken(reason=_claim_reason(exc)) from exc
        return signed.issuer, dict(signed.claims)

    async def _known(self, token: str) -> _Signed | None:
        with self._signed_lock:
            signed = self._signed.get(token)
            if signed is not None:
                self._signed.move_to_end(token)
        if (
            signed is None
            or _find_key(await self._source(signed.issuer).key_set(), signed.kid) is not signed.key
        ):
            return None
        return signed

    def _source(self, issuer: str) -> KeySource:
        source = self._sources.get(issuer)
        if source is None:
            raise InvalidToken(reason=N_("the issuer is not trusted"))
        return source

    async def _signed_by_issuer(self, token: str) -> _Signed:
        header, unverified = _peek(token)
        issuer = str(unverified.get("iss", "")).rstrip("/")
        source = self._source(issuer)
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken(reason=N_("the token names no key"))
        key = _find_key(await source.key_set(), kid)
        if key is None:
            key = _find_key(await source.key_set(refresh=True), kid)
        if key is None:
            raise InvalidToken(reason=N_("the signing key is unknown"))
        try:
            verified = jwt.decode(token, key, algorithms=ALLOWED_ALGORITHMS)
        except JoseError as exc:
            raise InvalidToken(reason=N_("the signature is not valid")) from exc
        return _Signed(issuer, verified.claims, kid, key)


def _now_seconds() -> int:
    """The current time as a JWT NumericDate, from the one clock."""
    return int(utcnow().timestamp())


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims before verification, only to pick the issuer and key."""
    if len(token) > MAX_TOKEN_BYTES:
        raise InvalidToken(reason=N_("the token is malformed"))
    try:
        compact = jws.extract_compact(token.encode("ascii"))
        header = dict(compact.headers())
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError) as exc:
        raise InvalidToken(reason=N_("the token is malformed")) from exc
    if not isinstance(claims, dict):
        raise InvalidToken(reason=N_("the token is malformed"))
    if header.get("alg") not in ALLOWED_ALGORITHMS:
        raise InvalidToken(reason=N_("the signing algorithm is not allowed"))
    return header, claims


def _find_key(keys: KeySet, kid: str) -> Any:
    try:
        return keys.get_by_kid(kid)
    except (JoseError, ValueError, KeyError):
        return None


def _claim_reason(exc: JoseError) -> str:
    error = getattr(exc, "error", "")
    claim = getattr(exc, "claim", "")
    if error == "expired_token":
        return N_("the token has expired")
    if error == "missing_claim":
        return N_("a required claim is missing or wrong")
    if claim == "aud":
        return N_("the token is meant for another audience")
    if claim == "iss":
        return N_("the issuer is not trusted")
    if claim in ("nbf", "iat"):
        return N_("the token is not valid yet")
    return N_("a required claim is missing or wrong")


def principal_from_claims(claims: dict[str, Any], issuer: str) -> Principal:
    """The caller a verified token's claims describe, kept under `issuer`."""
    try:
        roles = frozenset(Role(name) for name in claims.get("roles", []))
        profession = claims.get("profession")
        return Principal(
            subject=str(claims["sub"]),
            organisation=str(claims["org"]),
            roles=roles,
            issuer=issuer,
            profession=Profession(profession) if profession else None,
            name=claims.get("name"),
            token_id=claims.get("jti"),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidToken(reason=N_("a required claim is missing or wrong")) from exc


async def authenticate(request: Request) -> Principal:
    """The principal the caller's token claims, verified once per request."""
    cached: Principal | None = getattr(request.state, "claimed_principal", None)
    if cached is not None:
        return cached
    throttle.check_client(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated()
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await verifier.verify(token.strip())
    throttle.check_user(request, principal)
    request.state.claimed_principal = principal
    return principal


# Askel as a client of the region's FHIR server -------------------------------------------------

# SMART Backend Services: the client assertion lives at most five minutes.
ASSERTION_LIFETIME_SECONDS = 300
# A cached access token is renewed this long before it expires.
TOKEN_RENEWAL_MARGIN_SECONDS = 60


class TokenRefused(Exception):
    """The token endpoint refused Askel's client assertion: a configuration to fix."""


class TokenUnavailable(Exception):
    """The token endpoint could not be reached or failed: worth retrying."""


class _ShortLivedPrivateKeyJWT(PrivateKeyJWT):  # type: ignore[misc]
    """Authlib's private_key_jwt signs `exp` an hour ahead and keeps one `jti` in the `claims`
    dict it is given; SMART servers refuse both. Each assertion here gets its own `jti` and
    lives five minutes."""

    def __init__(self, token_endpoint: str, alg: str, header: dict[str, Any]) -> None:
        super().__init__(token_endpoint, alg=alg, headers=header)

    def sign(self, auth: Any, token_endpoint: str) -> str:
        return client_assertion(
            auth.client_secret, auth.client_id, token_endpoint, self.alg, dict(self.headers)
        )


def client_assertion(
    key: Any, client_id: str, token_endpoint: str, alg: str, header: dict[str, Any]
) -> str:
    """A `private_key_jwt` client assertion (RFC 7523) as SMART asks for it: its own `jti`,
    living five minutes."""
    now = _now_seconds()
    claims = {"exp": now + ASSERTION_LIFETIME_SECONDS, "jti": secrets.token_urlsafe(24)}
    signed: str = private_key_jwt_sign(
        key,
        client_id=client_id,
        token_endpoint=token_endpoint,
        claims=claims,
        header=header,
        alg=alg,
        issued_at=now,
    )
    return signed


def assertion_signing(private_key: dict[str, Any]) -> tuple[Any, str, dict[str, Any]]:
    """The imported key of a private JWK, its algorithm (RS384 or ES384 unless the JWK names
    one) and the assertion's header."""
    alg = private_key.get("alg") or ("ES384" if private_key.get("kty") == "EC" else "RS384")
    kid = private_key.get("kid")
    header = {"kid": kid, "typ": "JWT"} if kid else {"typ": "JWT"}
    return JWKRegistry.import_key(private_key), alg, header


class SmartBackendServices:
    """Access tokens for the region's FHIR server by the client-credentials grant with a signed
    JWT assertion (RS384 or ES384), cached until shortly before they expire. Called for each
    request; returns the Authorization header's value."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        private_key: dict[str, Any],
        scope: str,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        key, alg, header = assertion_signing(private_key)
        self._token_url = token_url
        self._scope = scope
        self._oauth = OAuth2Client(
            client_id=client_id,
            client_secret=key,
            token_endpoint_auth_method=_ShortLivedPrivateKeyJWT(token_url, alg, header),
            timeout=10.0,
            transport=transport,
        )
        self._token: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if (
                self._token is None
                or self._token["expires_at"] - TOKEN_RENEWAL_MARGIN_SECONDS <= _now_seconds()
            ):
                self._token = self._fetch()
            return f"Bearer {self._token['access_token']}"

    def close(self) -> None:
        self._oauth.close()

    def forget(self) -> None:
        """Drop the cached token, e.g. after the server refused it."""
        with self._lock:
            self._token = None

    def _fetch(self) -> dict[str, Any]:
        try:
            token = self._oauth.fetch_token(
                self._token_url, grant_type="client_credentials", scope=self._scope
            )
        except OAuthError as error:
            raise TokenRefused(
                f"the token endpoint refused the client: {error.error}: {error.description}"
            ) from error
        except httpx.HTTPError as error:
            raise TokenUnavailable(
                f"the token endpoint could not be reached: {type(error).__name__}"
            ) from error
        expires_in = int(token.get("expires_in") or ASSERTION_LIFETIME_SECONDS)
        return {**token, "expires_at": _now_seconds() + expires_in}
