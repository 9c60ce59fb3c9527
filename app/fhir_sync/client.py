"""A small FHIR R4 REST client for the region's server: conditional create, read, and versioned
update, with answers turned into errors the outbox worker can act on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import httpx2 as httpx

from app.access.authn import SmartBackendServices, TokenRefused, TokenUnavailable
from app.config import Settings
from app.jobs.errors import PermanentFailure

FHIR_JSON = "application/fhir+json"


class TokenSource(Protocol):
    """The Authorization header's value for the next request (None: the peer needs none)."""

    def __call__(self) -> str | None: ...

    def forget(self) -> None: ...

    def close(self) -> None: ...


class NoToken:
    """For a peer on a trusted network that asks for no token (tests, a local mirror)."""

    def __call__(self) -> str | None:
        return None

    def forget(self) -> None:
        return None

    def close(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class Stored:
    """Where a resource lives on the peer, and its version there."""

    id: str
    version: str
    created: bool = False


class PeerError(Exception):
    """The peer answered with an error worth retrying (5xx, 429, a timeout)."""


class PeerRefused(PermanentFailure):
    """The peer refused Askel's credentials: retrying the same request will not help."""


class PeerRejected(PermanentFailure):
    """The peer found the resource invalid (400, 422): a mapping bug to fix, not to retry."""


class VersionConflict(Exception):
    """Someone else changed the resource since Askel last saw it (412)."""


def _outcome_text(response: httpx.Response) -> str:
    try:
        issues = response.json().get("issue", [])
    except ValueError:
        return response.text[:300]
    return "; ".join(
        str(issue.get("diagnostics") or issue.get("details", {}).get("text") or issue.get("code"))
        for issue in issues
    )[:500]


class FhirClient:
    def __init__(self, base_url: str, http: httpx.Client, token: TokenSource) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = http
        self._token = token

    def close(self) -> None:
        self._http.close()
        self._token.close()

    def _send(
        self, method: str, path: str, body: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        response = self._attempt(method, path, body, headers)
        if response.status_code == 401:
            # The token may have been revoked or rotated early: one fresh token, then give up.
            self._token.forget()
            response = self._attempt(method, path, body, headers)
        self._raise_for(method, path, response)
        return response

    def _attempt(
        self, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]
    ) -> httpx.Response:
        all_headers = {"Accept": FHIR_JSON, **headers}
        if body is not None:
            all_headers["Content-Type"] = FHIR_JSON
        try:
            if (authorization := self._token()) is not None:
                all_headers["Authorization"] = authorization
            url = f"{self.base_url}/{path}" if path else self.base_url
            return self._http.request(method, url, json=body, headers=all_headers)
        except TokenRefused as error:
            raise PeerRefused(f"SMART token refused: {error}") from error
        except TokenUnavailable as error:
            raise PeerError(f"no SMART token: {error}") from error
        except httpx.TransportError as error:
            raise PeerError(f"{method} {path}: {type(error).__name__}") from error

    @staticmethod
    def _raise_for(method: str, path: str, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        what = f"{method} {path} answered {status}: {_outcome_text(response)}"
        if status in (401, 403):
            raise PeerRefused(what)
        if status == 412:
            raise VersionConflict(what)
        if status in (400, 404, 405, 409, 410, 422):
            raise PeerRejected(what)
        raise PeerError(what)

    @staticmethod
    def _stored(response: httpx.Response) -> Stored:
        body = response.json()
        version = body.get("meta", {}).get("versionId") or response.headers.get("ETag", "")
        return Stored(
            id=body["id"],
            version=version.removeprefix('W/"').removesuffix('"'),
            created=response.status_code == 201,
        )

    def create_unless_exists(self, resource_type: str, body: dict[str, Any], match: str) -> Stored:
        """Create, or find the one already matching `match` (a search such as
        `identifier=system|value`): a resend after a crash finds what the first send made."""
        response = self._send(
            "POST",
            resource_type,
            body,
            **{"If-None-Exist": match, "Prefer": "return=representation"},
        )
        return self._stored(response)

    def search(self, resource_type: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """The resources of one page of a search (the caller narrows the query to fit)."""
        query = "&".join(f"{name}={value}" for name, value in params.items())
        bundle = self._send("GET", f"{resource_type}?{query}").json()
        return [entry["resource"] for entry in bundle.get("entry", []) if "resource" in entry]

    def resolve(self, reference: str) -> dict[str, Any]:
        """The resource a relative reference (`Type/id`) names."""
        resolved: dict[str, Any] = self._send("GET", reference).json()
        return resolved

    def transaction(self, entries: list[dict[str, Any]]) -> list[Stored]:
        """One transaction bundle, applied whole or not at all by the server; where each entry
        now lives, in order (`created` False for a conditional create that found one)."""
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
        answer = self._send("POST", "", bundle).json()
        stored = []
        for entry in answer.get("entry", []):
            response = entry.get("response", {})
            location = response.get("location", "").split("/_history/")
            resource_id = location[0].rstrip("/").rsplit("/", 1)[-1]
            # Servers tell the new version in the location, the ETag or only the resource.
            version = location[1] if len(location) > 1 else response.get("etag", "")
            version = version.removeprefix('W/"').removesuffix('"')
            version = version or entry.get("resource", {}).get("meta", {}).get("versionId", "")
            created = str(response.get("status", "")).startswith("201")
            stored.append(Stored(id=resource_id, version=version, created=created))
        return stored

    def read(self, resource_type: str, resource_id: str) -> Stored:
        return self.fetch(resource_type, resource_id)[1]

    def fetch(self, resource_type: str, resource_id: str) -> tuple[dict[str, Any], Stored]:
        """The resource as the peer holds it now, and where and at which version."""
        response = self._send("GET", f"{resource_type}/{resource_id}")
        body: dict[str, Any] = response.json()
        return body, self._stored(response)

    def update(
        self, resource_type: str, resource_id: str, body: dict[str, Any], version: str
    ) -> Stored:
        """Replace the resource if it is still at `version`; VersionConflict otherwise."""
        response = self._send(
            "PUT",
            f"{resource_type}/{resource_id}",
            {**body, "id": resource_id},
            **{"If-Match": f'W/"{version}"', "Prefer": "return=representation"},
        )
        return self._stored(response)


def client_from(settings: Settings, http: httpx.Client | None = None) -> FhirClient | None:
    """The client for the configured FHIR server, or None when none is configured."""
    if not settings.fhir_base_url:
        return None
    token: TokenSource = NoToken()
    if settings.fhir_client_id:
        assert settings.fhir_token_url
        assert settings.fhir_client_key_file
        key = json.loads(settings.fhir_client_key_file.read_text())
        token = SmartBackendServices(
            settings.fhir_token_url, settings.fhir_client_id, key, settings.fhir_scope
        )
    return FhirClient(settings.fhir_base_url, http or httpx.Client(timeout=30.0), token)
