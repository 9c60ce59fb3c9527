"""Server-side sessions of the pages (OWASP ASVS 7): the cookie holds a random secret and
nothing else; the session lives in `page_sessions` under the secret's SHA-256. A new secret is
issued at sign-in, the session ends after 30 idle minutes or 10 hours whatever is done, and
signing out deletes it.

The middleware loads the session before the page runs and stores what the page changed once the
page has answered; `scope["session"]` is its data, where Authlib keeps a sign-in's state.
"""

from __future__ import annotations

import copy
import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db import Database
from app.kit.clock import utcnow
from app.web.models import PageSession

COOKIE = "__Host-askel-session"
# Paths whose callers are systems with tokens, never browsers with a session.
SYSTEM_PATHS = ("/api/", "/fhir", "/dev/token", "/dev/jwks", "/dev/.well-known", "/dev/fhir",
                "/dev/oauth", "/static/", "/readyz", "/livez", "/metrics",
                "/openapi.json")  # fmt: skip
# `last_seen_at` is written at most this often while nothing else changes.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass
class Session:
    """The session of one request, as the pages see and change it."""

    data: dict[str, Any] = field(default_factory=dict)
    key: str | None = None  # the stored row's id; None until something is worth storing
    user_id: uuid.UUID | None = None
    created_at: datetime | None = None
    signed_in_at: datetime | None = None
    last_seen_at: datetime | None = None
    # Set by the pages: a new secret (at sign-in), or the end of the session (sign-out).
    renew: bool = False
    end: bool = False
    # This request found the session ended by a time-out.
    timed_out: bool = False

    def sign_in(self, user_id: uuid.UUID, claims: dict[str, Any]) -> None:
        """From now on the session speaks for this account, under a new secret (ASVS 7.2.4)."""
        # In place: the same dict is Authlib's `request.session`.
        language = self.data.get("language")
        self.data.clear()
        self.data["claims"] = claims
        if language:
            self.data["language"] = language
        self.user_id = user_id
        self.signed_in_at = utcnow()
        self.renew = True

    def sign_out(self) -> None:
        self.end = True

    @property
    def claims(self) -> dict[str, Any] | None:
        claims = self.data.get("claims")
        return claims if isinstance(claims, dict) else None


def current(connection: HTTPConnection) -> Session:
    page_session: Session = connection.scope["page_session"]
    return page_session


def _key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta
    absolute: timedelta

    def expired(self, row: PageSession, now: datetime) -> bool:
        began = row.signed_in_at or row.created_at
        return now - row.last_seen_at > self.idle or now - began > self.absolute


class SessionStore:
    def __init__(self, database: Database, lifetimes: Lifetimes) -> None:
        self._database = database
        self.lifetimes = lifetimes

    def load(self, secret: str | None) -> Session:
        if not secret or len(secret) > 128:
            return Session()
        now = utcnow()
        with self._database.write_sessions() as db, db.begin():
            row = db.get(PageSession, _key(secret))
            if row is None:
                return Session()
            if self.lifetimes.expired(row, now):
                db.delete(row)
                return Session(timed_out=row.user_id is not None)
            return Session(
                data=copy.deepcopy(row.data), key=row.id, user_id=row.user_id,
                created_at=row.created_at, signed_in_at=row.signed_in_at,
                last_seen_at=row.last_seen_at,
            )  # fmt: skip

    def save(self, session: Session, loaded: dict[str, Any]) -> str | None:
        """Stores what changed; returns a new secret for the cookie, if one was made."""
        now = utcnow()
        with self._database.write_sessions() as db, db.begin():
            if session.end:
                if session.key:
                    db.execute(delete(PageSession).where(PageSession.id == session.key))
                return None
            changed = session.data != loaded
            if session.key and not session.renew:
                stale = session.last_seen_at is None or now - session.last_seen_at > TOUCH_EVERY
                if changed or stale:
                    row = db.get(PageSession, session.key)
                    if row is not None:
                        row.data, row.last_seen_at = session.data, now
                return None
            if not session.data:
                return None
            if session.key:
                db.execute(delete(PageSession).where(PageSession.id == session.key))
            # Sessions left to time out are removed as new ones begin.
            db.execute(
                delete(PageSession).where(PageSession.last_seen_at < now - self.lifetimes.idle)
            )
            secret = secrets.token_urlsafe(32)
            db.add(
                PageSession(
                    id=_key(secret), user_id=session.user_id, data=session.data,
                    created_at=now, signed_in_at=session.signed_in_at, last_seen_at=now,
                )
            )  # fmt: skip
            return secret


class SessionMiddleware:
    """Gives each page request its session and keeps it. The cookie is `__Host-` prefixed,
    `Secure`, `HttpOnly` and `SameSite=Lax` (`Strict` would drop it on the way back from the
    issuer), and lasts as long as the browser: the server decides when a session ends. Where
    patient systems may show the pages in a frame, it is `SameSite=None`: a browser sends no
    other cookie to a frame of another site (forms stay protected by their CSRF tokens)."""

    def __init__(self, app: ASGIApp, store: SessionStore, *, framed: bool = False) -> None:
        self.app = app
        self.store = store
        self.same_site = "None" if framed else "Lax"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope["path"]).startswith(SYSTEM_PATHS):
            await self.app(scope, receive, send)
            return
        secret = HTTPConnection(scope).cookies.get(COOKIE)
        session = await run_in_threadpool(self.store.load, secret)
        loaded = copy.deepcopy(session.data)
        scope["page_session"] = session
        scope["session"] = session.data

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                new_secret = await run_in_threadpool(self.store.save, session, loaded)
                headers = MutableHeaders(scope=message)
                if new_secret:
                    headers.append("Set-Cookie", _cookie(new_secret, self.same_site))
                elif session.end or (secret and session.key is None):
                    headers.append("Set-Cookie", _cookie("", self.same_site, max_age=0))
            await send(message)

        await self.app(scope, receive, keep)


def _cookie(value: str, same_site: str, max_age: int | None = None) -> str:
    parts = [f"{COOKIE}={value}", "Path=/", "Secure", "HttpOnly", f"SameSite={same_site}"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)
