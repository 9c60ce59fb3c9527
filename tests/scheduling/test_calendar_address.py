"""The calendar feed's address is one a calendar program can subscribe to: absolute, as the
counsellor reaches Askel (ASKEL_PUBLIC_URL, or the request's Host and the scheme a trusted
proxy forwarded), with a webcal:// form beside it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest
from sqlalchemy import Connection
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app import db
from app.access.service import local_principal
from app.config import Settings
from app.main import create_app
from tests.fixtures.serving import serving

Auth = Callable[[str], dict[str, str]]
COUNSELLOR = "counsellor1.laihia"


def token_path(counsellor_id: uuid.UUID | str) -> str:
    return f"/api/v1/counsellors/{counsellor_id}/calendar-token"


@pytest.fixture
def counsellor_id(session: Session) -> uuid.UUID:
    found = local_principal(session, COUNSELLOR).user_id
    assert found is not None
    return found


def test_the_address_is_absolute_and_opens_the_feed(
    client: TestClient, auth: Auth, counsellor_id: uuid.UUID
) -> None:
    answer = client.post(token_path(counsellor_id), headers=auth(COUNSELLOR))
    assert answer.status_code == 201
    url, webcal = answer.json()["url"], answer.json()["webcal_url"]
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "http",
        "testserver",
        f"/api/v1/counsellors/{counsellor_id}/calendar.ics",
    )
    assert parts.query.startswith("token=")
    assert webcal == "webcal" + url.removeprefix("http")
    feed = client.get(url)  # the address alone, absolute
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")


def test_the_address_names_the_host_the_counsellor_used_but_not_a_claimed_scheme(
    client: TestClient, auth: Auth, counsellor_id: uuid.UUID
) -> None:
    # Only uvicorn's proxy handling, for ASKEL_TRUSTED_PROXIES, may turn the scheme to https.
    headers = {**auth(COUNSELLOR), "Host": "askel.example.fi", "X-Forwarded-Proto": "https"}
    url = client.post(token_path(counsellor_id), headers=headers).json()["url"]
    assert url.startswith(f"http://askel.example.fi/api/v1/counsellors/{counsellor_id}/")


def test_a_configured_public_address_comes_first(
    settings: Settings, connection: Connection, auth: Auth, counsellor_id: uuid.UUID
) -> None:
    public = Settings(**{**settings.model_dump(), "public_url": "https://askel.example.fi/ln/"})
    app = create_app(public, database=db.Database(connection))
    with TestClient(app) as client:
        answer = client.post(token_path(counsellor_id), headers=auth(COUNSELLOR)).json()
    prefix = f"/ln/api/v1/counsellors/{counsellor_id}/calendar.ics?token="
    assert answer["url"].startswith(f"https://askel.example.fi{prefix}")
    assert answer["webcal_url"].startswith(f"webcal://askel.example.fi{prefix}")


@pytest.mark.parametrize("public_url", ["askel.example.fi", "ftp://askel.example.fi", "https://"])
def test_a_public_address_must_be_absolute(public_url: str) -> None:
    with pytest.raises(ValueError, match="ASKEL_PUBLIC_URL"):
        Settings(_env_file=None, public_url=public_url)  # type: ignore[call-arg]


@pytest.mark.slow
def test_behind_a_trusted_proxy_the_address_has_the_forwarded_scheme(tmp_path: Path) -> None:
    with serving(tmp_path, trusted_proxies="127.0.0.1", seed_demo_history="false") as (
        base,
        _process,
    ):
        users = httpx.get(f"{base}/dev/users").json()
        counsellor = next(user["id"] for user in users if user["username"] == COUNSELLOR)
        token = httpx.post(f"{base}/dev/token", json={"username": COUNSELLOR}).json()
        headers = {
            "Authorization": f"Bearer {token['access_token']}",
            "Host": "askel.example.fi",
            "X-Forwarded-Proto": "https",
        }
        answer = httpx.post(f"{base}{token_path(counsellor)}", headers=headers)
    assert answer.status_code == 201, answer.text
    assert answer.json()["url"].startswith(
        f"https://askel.example.fi/api/v1/counsellors/{counsellor}/calendar.ics?token="
    )
