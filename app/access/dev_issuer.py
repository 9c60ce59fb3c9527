"""The development token issuer: a real OIDC issuer inside the app, on only in development.

It publishes a discovery document and a JWKS and signs RS256 tokens for the demo users, so that
the embedded default is used exactly like a deployment behind the region's identity provider;
people sign in to the pages through its authorization endpoint (the authorization code flow with
PKCE), where a page lets them pick a demo user.
Its private key lives in a file beside the SQLite database, so that `askel dev-token` in another
process signs with the same key as the running server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, KeySet, RSAKey

from app.access.authn import ASSERTION_LIFETIME_SECONDS
from app.access.models import User
from app.kit.clock import utcnow

# An authorization code is good for one exchange within this time (RFC 6749 4.1.2).
CODE_LIFETIME = timedelta(minutes=1)
# A launch from the development patient system must reach its authorization within this time.
LAUNCH_LIFETIME = timedelta(minutes=5)


@dataclass(frozen=True)
class LaunchContext:
    """What a patient system knows as it opens an app from a chart: who is working, and whose
    chart is open (the Patient's id on the FHIR server `iss`)."""

    username: str
    patient: str
    iss: str
    expires_at: datetime


@dataclass(frozen=True)
class CodeGrant:
    """What the person picked on the authorization page, waiting for the client's exchange."""

    username: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    expires_at: datetime
    # Granted through a launch: the chart's patient, and the scopes the app asked for.
    launch: LaunchContext | None = None
    scope: str = "openid profile"


class CodeRefused(Exception):
    """The exchange of a code failed: unknown, used, expired, or not this client's."""


def load_or_create_key(path: Path) -> RSAKey:
    if path.exists():
        return RSAKey.import_key(json.loads(path.read_text()))
    key = RSAKey.generate_key(2048, auto_kid=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created owner-only from the start: the key signs tokens for every demo role.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as key_file:
        key_file.write(json.dumps(key.as_dict(private=True)))
    return key


class DevIssuer:
    def __init__(self, url: str, key: RSAKey, *, audience: str, lifetime_seconds: int) -> None:
        self.url = url.rstrip("/")
        self._key = key
        self._audience = audience
        self._lifetime = lifetime_seconds
        # Codes live in this process: the development server is one process.
        self._codes: dict[str, CodeGrant] = {}
        self._launches: dict[str, LaunchContext] = {}
        self._codes_lock = threading.Lock()

    @property
    def public_keys(self) -> KeySet:
        return KeySet([RSAKey.import_key(self._key.as_dict(private=False))])

    def jwks(self) -> dict[str, Any]:
        public = self._key.as_dict(private=False)
        return {"keys": [{**public, "use": "sig", "alg": "RS256"}]}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": f"{self.url}/jwks",
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/oauth/token",
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic"],
            "scopes_supported": ["openid", "profile"],
        }

    def grant_code(self, grant: CodeGrant) -> str:
        code = secrets.token_urlsafe(32)
        with self._codes_lock:
            now = utcnow()
            self._codes = {k: g for k, g in self._codes.items() if g.expires_at > now}
            self._codes[code] = grant
        return code

    def start_launch(self, context: LaunchContext) -> str:
        """The opaque `launch` handle a patient system hands the app it opens."""
        handle = secrets.token_urlsafe(24)
        with self._codes_lock:
            now = utcnow()
            self._launches = {k: c for k, c in self._launches.items() if c.expires_at > now}
            self._launches[handle] = context
        return handle

    def launch_context(self, handle: str) -> LaunchContext | None:
        """The launch's context, once: an app authorizes a launch one time."""
        with self._codes_lock:
            context = self._launches.pop(handle, None)
        return context if context is not None and context.expires_at > utcnow() else None

    def redeem(self, code: str, client_id: str, redirect_uri: str, verifier: str) -> CodeGrant:
        """The code's grant, once: the same client, the same redirect address, and the PKCE
        verifier whose S256 is the challenge (RFC 7636 4.6)."""
        with self._codes_lock:
            grant = self._codes.pop(code, None)
        if grant is None or grant.expires_at <= utcnow():
            raise CodeRefused("the code is unknown, used or expired")
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if not hmac.compare_digest(challenge, grant.code_challenge):
            raise CodeRefused("the code verifier does not match the challenge")
        if (grant.client_id, grant.redirect_uri) != (client_id, redirect_uri):
            raise CodeRefused("the code was issued to another client or address")
        return grant

    def id_token(self, user: User, organisation_code: str, client_id: str, grant: CodeGrant) -> str:
        """The person's identity for the client: the access token's claims, for the client;
        after a launch also the FHIR resource of the person (`fhirUser`, SMART 2.2)."""
        claims = self._claims(user, organisation_code, audience=client_id)
        claims["auth_time"] = claims["iat"]
        if grant.nonce:
            claims["nonce"] = grant.nonce
        if grant.launch is not None:
            claims["fhirUser"] = f"{grant.launch.iss}/Practitioner/{user.username}"
        return self._sign(claims)

    def issue(
        self, user: User, organisation_code: str, launch: LaunchContext | None = None
    ) -> tuple[str, int]:
        """An access token; one from a launch names the chart's patient, which the development
        patient system's FHIR server is the only one to read."""
        claims = self._claims(user, organisation_code, self._audience)
        if launch is not None:
            claims["patient"] = launch.patient
        return self._sign(claims), self._lifetime

    def assertion_valid(
        self, assertion: str, client_id: str, client_key: dict[str, Any], token_endpoint: str
    ) -> bool:
        """A `private_key_jwt` client assertion (RFC 7523) of `client_id`, signed with its key,
        meant for this token endpoint and living at most five minutes (as SMART asks)."""
        now = int(utcnow().timestamp())
        try:
            key = JWKRegistry.import_key(client_key)
            claims = jwt.decode(assertion, key, algorithms=["RS384", "ES384"]).claims
            jwt.JWTClaimsRegistry(
                now=lambda: now,
                iss={"essential": True, "value": client_id},
                sub={"essential": True, "value": client_id},
                aud={"essential": True, "value": token_endpoint},
                exp={"essential": True},
                jti={"essential": True},
            ).validate(claims)
        except (JoseError, ValueError):
            return False
        return int(claims["exp"]) <= now + ASSERTION_LIFETIME_SECONDS

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this issuer signed and that has not expired, else None."""
        try:
            claims = jwt.decode(token, self._key, algorithms=["RS256"]).claims
            jwt.JWTClaimsRegistry(now=lambda: int(utcnow().timestamp()),
                                  exp={"essential": True}).validate(claims)  # fmt: skip
        except (JoseError, ValueError):
            return None
        return claims

    def _claims(self, user: User, organisation_code: str, audience: str) -> dict[str, Any]:
        now = int(utcnow().timestamp())
        claims: dict[str, Any] = {
            "iss": self.url,
            "sub": user.username,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + self._lifetime,
            "jti": str(uuid.uuid4()),
            "name": user.display_name,
            "org": organisation_code,
            "roles": list(user.roles),
        }
        if user.profession:
            claims["profession"] = user.profession
        return claims

    def _sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": "RS256", "kid": self._key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, self._key, algorithms=["RS256"])
