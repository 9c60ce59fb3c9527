"""Askel as an app a patient system opens from a chart: the EHR launch of HL7 SMART App Launch
2.2, as a confidential client. Askel discovers the patient system's
`{iss}/.well-known/smart-configuration`, asks its authorization endpoint for the user's identity
and the chart's patient with PKCE (S256), exchanges the code with its client secret or a
`private_key_jwt` assertion, verifies the id token with joserfc against the issuer's keys, and
reads the chart's Patient with the access token. Tokens never reach the browser.

Every way a launch can fail is an error with its own code, answered as a page in the user's
language: a launch is never a 500.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx2 as httpx
from starlette.types import ASGIApp

from app.access.authn import (
    DiscoveredKeySource,
    TokenVerifier,
    assertion_signing,
    client_assertion,
)
from app.config import PatientSystem, Settings
from app.errors import AppError, InvalidToken
from app.i18n import N_

# What Askel asks of a launch: who the user is, and read access to the chart's Patient and its
# conditions (the referral's reasons, where the patient system offers them).
SCOPE = "launch openid fhirUser patient/Patient.rs patient/Condition.rs"
REQUIRED_CAPABILITIES = ("launch-ehr", "context-ehr-patient", "sso-openid-connect")
FHIR_JSON = "application/fhir+json"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class LaunchIssuerUnknown(AppError):
    status = 400
    code = "launch_issuer_unknown"
    title = N_("Askel cannot be opened from this patient system")
    detail = N_(
        "Askel is not configured for the patient system that opened it. The region's "
        "administrators configure the patient systems Askel may be opened from."
    )
    audit_outcome = "refused"


class LaunchContextMissing(AppError):
    status = 400
    code = "launch_context_missing"
    title = N_("The patient system did not say whose chart is open")
    detail = N_(
        "The launch lacked {missing}. Open Askel again from the patient's chart; if this "
        "happens again, tell the patient system's support."
    )
    audit_outcome = "refused"


class LaunchStateMismatch(AppError):
    status = 400
    code = "launch_state_mismatch"
    title = N_("This opening of Askel was not started here")
    detail = N_(
        "The answer to the sign-in does not belong to an opening of Askel in this browser, or "
        "it has expired. Open Askel again from the patient's chart."
    )
    audit_outcome = "refused"


class LaunchRefused(AppError):
    status = 400
    code = "launch_refused"
    title = N_("The patient system refused the opening of Askel")
    detail = N_("The patient system did not let Askel in: {reason}.")
    audit_outcome = "refused"


class LaunchUnavailable(AppError):
    status = 502
    code = "launch_unavailable"
    title = N_("The patient system did not answer")
    detail = N_("Askel could not reach the patient system ({step}). Try again in a moment.")


@dataclass(frozen=True)
class SmartConfiguration:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str


@dataclass(frozen=True)
class PendingLaunch:
    """What the browser's session keeps between leaving for the authorization endpoint and
    coming back: the patient system, and the secrets the answer must match."""

    iss: str
    state: str
    nonce: str
    verifier: str

    @classmethod
    def begin(cls, iss: str) -> PendingLaunch:
        return cls(iss, secrets.token_urlsafe(24), secrets.token_urlsafe(24),
                   secrets.token_urlsafe(48))  # fmt: skip

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class LaunchGrant:
    """What the patient system granted: who the user is, and whose chart."""

    identity: dict[str, Any]  # the verified id token's claims
    patient: dict[str, Any]  # the chart's Patient, as the patient system serves it
    conditions: dict[str, Any]  # its Conditions (a search's bundle; empty if none are offered)


class SmartLaunch:
    """The launches of every configured patient system. The development patient system lives
    in this very app, and is reached in-process (no HTTP hop to itself)."""

    def __init__(self, settings: Settings, app: ASGIApp) -> None:
        self.systems = {system.iss: system for system in settings.launch_systems}
        mounts: dict[str, httpx.AsyncBaseTransport] = {}
        if settings.dev_issuer_on:
            own = urlsplit(settings.dev_issuer_url)
            mounts[f"{own.scheme}://{own.netloc}"] = httpx.ASGITransport(app=app)
        self.http = httpx.AsyncClient(timeout=10.0, mounts=mounts)
        self._verifiers: dict[str, TokenVerifier] = {}

    def system(self, iss: str) -> PatientSystem:
        found = self.systems.get(iss.rstrip("/"))
        if found is None:
            raise LaunchIssuerUnknown()
        return found

    async def configuration(self, system: PatientSystem) -> SmartConfiguration:
        """The patient system's SMART configuration, checked for what an EHR launch needs."""
        document = await self._get_json(f"{system.iss}/.well-known/smart-configuration",
                                        N_("its SMART configuration"))  # fmt: skip
        capabilities = document.get("capabilities") or []
        methods = document.get("code_challenge_methods_supported") or []
        if not all(name in capabilities for name in REQUIRED_CAPABILITIES) or "S256" not in methods:
            raise LaunchRefused(reason=N_("it does not offer the launch Askel needs"))
        try:
            return SmartConfiguration(
                issuer=str(document["issuer"]).rstrip("/"),
                authorization_endpoint=str(document["authorization_endpoint"]),
                token_endpoint=str(document["token_endpoint"]),
            )
        except KeyError:
            raise LaunchRefused(reason=N_("its SMART configuration is incomplete")) from None

    def authorization_url(
        self,
        configuration: SmartConfiguration,
        system: PatientSystem,
        pending: PendingLaunch,
        launch: str,
        redirect_uri: str,
    ) -> str:
        query = {
            "response_type": "code",
            "client_id": system.client_id,
            "redirect_uri": redirect_uri,
            "launch": launch,
            "scope": SCOPE,
            "state": pending.state,
            "nonce": pending.nonce,
            "aud": system.iss,
            "code_challenge": pending.challenge,
            "code_challenge_method": "S256",
        }
        separator = "&" if "?" in configuration.authorization_endpoint else "?"
        return f"{configuration.authorization_endpoint}{separator}{urlencode(query)}"

    async def grant(
        self,
        configuration: SmartConfiguration,
        system: PatientSystem,
        pending: PendingLaunch,
        code: str,
        redirect_uri: str,
    ) -> LaunchGrant:
        """The code exchanged, the id token verified, and the chart's Patient read."""
        token = await self._exchange(configuration, system, pending, code, redirect_uri)
        missing = [name for name in ("access_token", "id_token", "patient")
                   if not isinstance(token.get(name), str) or not token[name]]  # fmt: skip
        if missing:
            raise LaunchContextMissing(missing=", ".join(missing))
        identity = await self._identity(configuration, system, pending, token["id_token"])
        if not isinstance(identity.get("fhirUser"), str):
            raise LaunchContextMissing(missing="fhirUser")
        headers = {"Authorization": f"Bearer {token['access_token']}", "Accept": FHIR_JSON}
        patient = await self._get_json(f"{system.iss}/Patient/{token['patient']}",
                                       N_("the chart's patient"), headers)  # fmt: skip
        return LaunchGrant(identity, patient, await self._conditions(system, token, headers))

    async def _conditions(
        self, system: PatientSystem, token: dict[str, Any], headers: dict[str, str]
    ) -> dict[str, Any]:
        """The chart's active conditions; a patient system that does not offer them (or not to
        Askel) leaves the reasons to be typed."""
        query = {"patient": token["patient"], "clinical-status": "active"}
        try:
            return await self._get_json(f"{system.iss}/Condition?{urlencode(query)}",
                                        N_("the chart's conditions"), headers)  # fmt: skip
        except LaunchUnavailable:
            return {}

    async def _exchange(
        self,
        configuration: SmartConfiguration,
        system: PatientSystem,
        pending: PendingLaunch,
        code: str,
        redirect_uri: str,
    ) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": pending.verifier,
        }
        auth: httpx.BasicAuth | None = None
        if system.client_secret is not None:
            auth = httpx.BasicAuth(system.client_id, system.client_secret.get_secret_value())
        else:
            assert system.client_key_file is not None
            key, alg, header = assertion_signing(json.loads(system.client_key_file.read_text()))
            form["client_id"] = system.client_id
            form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            form["client_assertion"] = client_assertion(
                key, system.client_id, configuration.token_endpoint, alg, header
            )
        try:
            answer = await self.http.post(
                configuration.token_endpoint, data=form, auth=auth or httpx.USE_CLIENT_DEFAULT
            )
        except httpx.HTTPError:
            raise LaunchUnavailable(step=N_("its token endpoint")) from None
        body = _json_object(answer)
        if answer.status_code >= 500 or body is None:
            raise LaunchUnavailable(step=N_("its token endpoint"))
        if answer.status_code != 200:
            raise LaunchRefused(reason=_oauth_reason(body))
        return body

    async def _identity(
        self,
        configuration: SmartConfiguration,
        system: PatientSystem,
        pending: PendingLaunch,
        id_token: str,
    ) -> dict[str, Any]:
        verifier = self._verifiers.get(configuration.issuer)
        if verifier is None:
            source = DiscoveredKeySource(configuration.issuer, self.http)
            verifier = TokenVerifier({configuration.issuer: source}, audience=system.client_id)
            self._verifiers[configuration.issuer] = verifier
        try:
            _issuer, claims = await verifier.verified_claims(id_token)
        except InvalidToken as refused:
            raise LaunchRefused(reason=N_("its identity token was not valid")) from refused
        if not secrets.compare_digest(str(claims.get("nonce", "")), pending.nonce):
            raise LaunchRefused(reason=N_("its identity token was not valid"))
        return claims

    async def _get_json(
        self, url: str, step: str, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        try:
            answer = await self.http.get(url, headers=headers)
        except httpx.HTTPError:
            raise LaunchUnavailable(step=step) from None
        body = _json_object(answer)
        if answer.status_code != 200 or body is None:
            raise LaunchUnavailable(step=step)
        return body

    async def close(self) -> None:
        await self.http.aclose()


def _json_object(answer: httpx.Response) -> dict[str, Any] | None:
    try:
        body = answer.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _oauth_reason(body: dict[str, Any]) -> str:
    """The authorization server's error (RFC 6749 5.2) in words of our own: its description
    is text from elsewhere and is not shown."""
    if body.get("error") == "invalid_grant":
        return N_("the sign-in could not be confirmed")
    if body.get("error") == "invalid_client":
        return N_("it does not know Askel's client")
    return N_("it refused the sign-in")
