"""Production refuses to start on development defaults."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.config import Settings

STRONG = "x" * 40
PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "database_url": "postgresql+psycopg://askel@db/askel",
    "oidc_issuers": "https://idp.region.fi, https://idp2.region.fi",
    "hetu_key": STRONG,
    "audit_key": STRONG + "y",
}


def make(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_a_proper_production_configuration_starts() -> None:
    settings = make(**PRODUCTION)
    assert settings.oidc_issuers == ["https://idp.region.fi", "https://idp2.region.fi"]
    assert not settings.dev_issuer_on
    assert settings.accepted_issuers == settings.oidc_issuers


def test_development_turns_the_dev_issuer_on_by_default() -> None:
    settings = make()
    assert settings.dev_issuer_on
    assert settings.is_sqlite


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dev_issuer_enabled": True}, "development token issuer"),
        ({"hetu_key": "development-only-hetu-key-change-me"}, "ASKEL_HETU_KEY"),
        ({"audit_key": "development-only-audit-key-change-me"}, "ASKEL_AUDIT_KEY"),
        ({"hetu_key": "short"}, "at least 32"),
        ({"database_url": "sqlite:///askel.db"}, "SQLite"),
        ({"oidc_issuers": ""}, "no OIDC issuer"),
    ],
)
def test_production_refuses_development_defaults(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        make(**{**PRODUCTION, **change})


def test_sqlite_in_production_only_when_explicitly_allowed() -> None:
    allowed = {**PRODUCTION, "database_url": "sqlite:///a.db", "allow_sqlite_in_production": True}
    settings = make(**allowed)
    assert settings.is_sqlite


def test_settings_come_from_askel_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASKEL_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("ASKEL_OIDC_ISSUERS", "https://a.test,https://b.test")
    settings = make()
    assert settings.log_level == "DEBUG"
    assert settings.oidc_issuers == ["https://a.test", "https://b.test"]
