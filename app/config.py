"""One settings object for the whole service, read from `ASKEL_*` variables and `.env`.

The defaults make the embedded default work with nothing configured (an SQLite file in the working
directory, demo data, the development token issuer). Production refuses every one of those
defaults: a service holding patient data must never start on a development secret by accident.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEVELOPMENT_HETU_KEY = "development-only-hetu-key-change-me"
DEVELOPMENT_AUDIT_KEY = "development-only-audit-key-change-me"
# The development patient system's client, known to the development issuer only.
DEVELOPMENT_LAUNCH_CLIENT = "askel-launch"
DEVELOPMENT_LAUNCH_SECRET = "development-only-launch-secret"


class Environment(StrEnum):
    development = "development"
    production = "production"


def _origin(address: str) -> str | None:
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


class PatientSystem(BaseModel):
    """A region's patient system that opens Askel from a patient's chart (SMART App Launch):
    the FHIR base it names in a launch's `iss`, Askel's client there (a confidential client,
    with a private JWK for `private_key_jwt` or a secret), the issuer Askel keeps its users'
    accounts under (unset: the issuer of its id tokens), and the origins that may show Askel in
    a frame."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    iss: str
    client_id: str = Field(min_length=1)
    client_key_file: Path | None = None
    client_secret: SecretStr | None = None
    account_issuer: str | None = None
    frame_origins: tuple[str, ...] = ()

    @field_validator("iss")
    @classmethod
    def _iss_is_an_address(cls, iss: str) -> str:
        if _origin(iss) is None:
            raise ValueError(f"a patient system's iss must be an http(s) address: {iss}")
        return iss.rstrip("/")

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if (self.client_key_file is None) == (self.client_secret is None):
            raise ValueError(f"{self.iss}: give the client a key file or a secret, not both")
        for origin in self.frame_origins:
            if _origin(origin) != origin:
                raise ValueError(f"{self.iss}: {origin} is not an origin (scheme://host[:port])")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASKEL_", env_file=".env", extra="ignore")

    environment: Environment = Environment.development
    log_level: str = "INFO"

    database_url: str = "sqlite:///askel.db"
    # SQLite is the embedded default; production runs on PostgreSQL unless someone says otherwise.
    allow_sqlite_in_production: bool = False
    migrate_on_start: bool = True
    seed_demo_data: bool = True
    # With the demo data, its history up to today, written through the services (a minute).
    seed_demo_history: bool = True

    # Issuers whose tokens are accepted; their keys come from each one's discovery document.
    oidc_issuers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    oidc_audience: str = "askel"
    token_leeway_seconds: int = 30
    jwks_cache_seconds: int = 3600
    # An unknown `kid` refreshes the key set, but not more often than this (no refresh storms).
    jwks_min_refresh_seconds: int = 30

    # Requests per minute on the endpoints that check a token, per network client (a health
    # centre behind one address counts as one), per user, and per user for writes. Each process
    # keeps its own count: with N replicas a client meets N times these.
    rate_limits_enabled: bool = True
    rate_limit_client_per_minute: int = Field(default=3000, ge=1)
    rate_limit_user_per_minute: int = Field(default=600, ge=1)
    rate_limit_user_writes_per_minute: int = Field(default=120, ge=1)
    # Refused before parsing: headers over this (431), bodies over this (413), JSON nested
    # deeper than this (400).
    max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_json_depth: int = Field(default=32, ge=4)
    # Addresses or networks of the reverse proxies whose X-Forwarded-For and X-Forwarded-Proto
    # are believed (the ingress controller's pods); none by default: the peer is the client.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # The address clients reach Askel at (e.g. https://askel.example.fi), for the absolute
    # addresses it hands out (a counsellor's calendar feed); unset: each request's own, its
    # Host and the scheme (X-Forwarded-Proto from a trusted proxy).
    public_url: str | None = None
    # Browser origins allowed to call the API (CORS); none by default.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    dev_issuer_enabled: bool | None = None  # None: on in development, off in production
    dev_issuer_url: str = "http://127.0.0.1:8000/dev"
    dev_issuer_key_file: Path = Path("askel-dev-issuer.jwk")
    dev_token_lifetime_seconds: int = 3600

    # People's sign-in to the pages: OpenID Connect's code flow with PKCE at this issuer, as
    # this client; unset: the development issuer, when it is on. Sessions end after the idle
    # and the absolute time-outs (OWASP ASVS 7.3).
    page_issuer: str | None = None
    page_client_id: str = "askel-pages"
    page_client_secret: SecretStr | None = None
    page_idle_minutes: int = Field(default=30, ge=1)
    page_session_hours: int = Field(default=10, ge=1)
    # The patient systems that open Askel from a chart (a JSON list of PatientSystem); unset:
    # the development patient system, when the development issuer is on.
    patient_systems: list[PatientSystem] = Field(default_factory=list)

    # Notices to patients: "file" writes them to notice_file; "http" posts them to a gateway.
    notice_channel: Literal["file", "http"] = "file"
    notice_file: Path = Path("askel-notices.jsonl")
    notice_gateway_url: str | None = None
    notice_gateway_key: SecretStr | None = None

    # The region's FHIR server, where `askel worker` publishes every referral; unset: nothing
    # is published (referral events wait in the outbox). With a client id, Askel authenticates
    # by SMART Backend Services with the private JWK in fhir_client_key_file.
    fhir_base_url: str | None = None
    # Where the region's systems get tokens for Askel's own /fhir endpoints (announced in
    # /fhir/.well-known/smart-configuration); unset: the development issuer's, when it is on.
    fhir_server_token_endpoint: str | None = None
    fhir_token_url: str | None = None
    # Poll the region's server for new referral Tasks every this many minutes (0: never; for
    # regions whose system does not post to /fhir; the IG asks for 15 or more).
    fhir_poll_minutes: int = Field(default=0, ge=0)
    # Send each referral's changes as one transaction bundle: for servers whose transactions
    # are atomic, so that the region never holds half of a change.
    fhir_transactions: bool = False
    # At most this many entries in one transaction bundle: a larger change goes as several, in
    # order (Medplum takes no more than 8 once one entry is a conditional create).
    fhir_bundle_limit: int = Field(default=8, ge=2, le=1000)
    fhir_client_id: str | None = None
    fhir_client_key_file: Path | None = None
    fhir_scope: str = (
        "system/Patient.cr system/Organization.cru system/Practitioner.cru "
        "system/ServiceRequest.cru system/Task.cru system/Schedule.cru system/Slot.cru "
        "system/Appointment.cru system/Encounter.cru system/Observation.cru system/Goal.cru "
        "system/CarePlan.cru system/DiagnosticReport.cru system/Provenance.cru"
    )
    # The region's ID in THL's register of controllers (eArkisto - Rekisterinpitäjärekisteri,
    # urn:oid:1.2.246.537.6.40174), e.g. urn:oid:1.2.246.10.<business id>.19.0: each published
    # set's Provenance names the region by it as FinnishBase's information custodian.
    fhir_custodian_id: str | None = None

    hetu_key: SecretStr = SecretStr(DEVELOPMENT_HETU_KEY)
    audit_key: SecretStr = SecretStr(DEVELOPMENT_AUDIT_KEY)

    @model_validator(mode="before")
    @classmethod
    def _split_lists(cls, data: object) -> object:
        for name in ("oidc_issuers", "cors_origins", "trusted_proxies"):
            if isinstance(data, dict) and isinstance(data.get(name), str):
                data[name] = [part.strip() for part in data[name].split(",") if part.strip()]
        return data

    @model_validator(mode="after")
    def _public_url_is_absolute(self) -> Self:
        if self.public_url is not None:
            parts = urlsplit(self.public_url)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
                raise ValueError(
                    "ASKEL_PUBLIC_URL must be an http(s) address, e.g. https://askel.example.fi"
                )
            self.public_url = self.public_url.rstrip("/")
        return self

    @model_validator(mode="after")
    def _fhir_client_is_complete(self) -> Self:
        if self.fhir_client_id and not (self.fhir_token_url and self.fhir_client_key_file):
            raise ValueError(
                "a FHIR client id needs ASKEL_FHIR_TOKEN_URL and ASKEL_FHIR_CLIENT_KEY_FILE"
            )
        return self

    @model_validator(mode="after")
    def _notice_channel_is_complete(self) -> Self:
        if self.notice_channel == "http" and not self.notice_gateway_url:
            raise ValueError("the http notice channel needs ASKEL_NOTICE_GATEWAY_URL")
        return self

    @model_validator(mode="after")
    def _refuse_development_defaults_in_production(self) -> Self:
        if self.environment is not Environment.production:
            return self
        problems = []
        if self.dev_issuer_enabled:
            problems.append("the development token issuer is enabled")
        if self.hetu_key.get_secret_value() == DEVELOPMENT_HETU_KEY:
            problems.append("ASKEL_HETU_KEY is the development default")
        if self.audit_key.get_secret_value() == DEVELOPMENT_AUDIT_KEY:
            problems.append("ASKEL_AUDIT_KEY is the development default")
        if min(len(self.hetu_key), len(self.audit_key)) < 32:
            problems.append("keys must be at least 32 characters")
        if self.is_sqlite and not self.allow_sqlite_in_production:
            problems.append("the database is SQLite (set ASKEL_ALLOW_SQLITE_IN_PRODUCTION=true)")
        if not self.oidc_issuers:
            problems.append("no OIDC issuer is configured (ASKEL_OIDC_ISSUERS)")
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def dev_issuer_on(self) -> bool:
        if self.dev_issuer_enabled is None:
            return self.environment is Environment.development
        return self.dev_issuer_enabled

    @property
    def launch_systems(self) -> list[PatientSystem]:
        if self.patient_systems or not self.dev_issuer_on:
            return self.patient_systems
        return [
            PatientSystem(
                iss=f"{self.dev_issuer_url.rstrip('/')}/fhir",
                client_id=DEVELOPMENT_LAUNCH_CLIENT,
                client_secret=SecretStr(DEVELOPMENT_LAUNCH_SECRET),
            )
        ]

    @property
    def frame_origins(self) -> list[str]:
        """Where the pages may be framed: the patient systems' configured origins."""
        return sorted({origin for system in self.launch_systems for origin in system.frame_origins})

    @property
    def accepted_issuers(self) -> list[str]:
        extra = [self.dev_issuer_url] if self.dev_issuer_on else []
        return [*self.oidc_issuers, *extra]


@lru_cache
def get_settings() -> Settings:
    return Settings()
