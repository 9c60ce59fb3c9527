"""The development token issuer: a real OIDC issuer inside the app, on only in development.

It publishes a discovery document and a JWKS and signs RS256 tokens for the demo users, so that
the embedded default is used exactly like a deployment behind the region's identity provider.
Its private key lives in a file beside the SQLite database, so that `askel dev-token` in another
process signs with the same key as the running server.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from app.access.models import User
from app.kit.clock import utcnow


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
            "token_endpoint": f"{self.url}/token",
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
            "response_types_supported": ["token"],
            "grant_types_supported": ["urn:askel:dev-token"],
        }

    def issue(self, user: User, organisation_code: str) -> tuple[str, int]:
        now = int(utcnow().timestamp())
        claims: dict[str, Any] = {
            "iss": self.url,
            "sub": user.username,
            "aud": self._audience,
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
        header = {"alg": "RS256", "kid": self._key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, self._key, algorithms=["RS256"]), self._lifetime
