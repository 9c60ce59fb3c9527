"""Where the demo's users work: each request they make is the service function its endpoint
calls, as the account the endpoint would resolve from their development token, with a request
id of its own, on the clock the history sets. Requests share a transaction until the outbox
worker has notices to send (real use commits each one; what is left is the same)."""

from __future__ import annotations

import heapq
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.access import repository as accounts
from app.access import service as access_service
from app.access.principal import LOCAL_ISSUER, Principal, Profession, Role
from app.db import Database
from app.jobs.models import OutboxEvent
from app.jobs.worker import Handler, run_once
from app.kit.clock import today_in_helsinki, utcnow
from app.kit.request_context import request_id_var
from app.notices import service as notices
from app.notices.channel import Notice

BATCH = 50


class UnsentHistory:
    """The notice channel of the demo's past: the worker delivered each notice when it fell
    due, and the audit log names where it went, which is nowhere (nobody is at the numbers of
    invented patients, and a fresh demo's notice file starts empty)."""

    recipient = "nobody: the demo's history, not sent"

    def __init__(self) -> None:
        self.sent = 0

    def send(self, notice: Notice) -> None:
        """Counts the notice as delivered; nothing leaves."""
        self.sent += 1


class Desk:
    """The history's requests, in a transaction that `commit` ends."""

    def __init__(self, database: Database, rng: random.Random) -> None:
        self.database = database
        self._rng = rng
        self._session: Session | None = None
        # When the notices queued so far fall due, soonest first (the worker has nothing to do
        # until then).
        self._due: list[datetime] = []
        self._resolved: dict[str, tuple[date, Principal]] = {}
        self.requests = 0
        self.channel = channel = UnsentHistory()
        self._handlers: dict[str, Handler] = {
            notices.PREFIX: lambda session, event: notices.deliver(session, event, channel)
        }
        with database.read_sessions() as session:
            self._claims = {
                user.username: _claim(user.username, organisation.code, user.roles,
                                      user.profession, user.display_name)
                for user, organisation, _service in accounts.users_for_listing(session)
            }  # fmt: skip

    @contextmanager
    def request(
        self, username: str, *, refusable: bool = False
    ) -> Iterator[tuple[Session, Principal]]:
        """One request by the user, their account resolved as the API would. A request that
        may be refused runs in a savepoint: a refusal undoes it alone, as its own transaction's
        rollback would (any other error ends the history)."""
        principal = self._principal(self._current(), username)
        with self.job(refusable=refusable) as session:
            yield session, principal

    @contextmanager
    def job(self, *, refusable: bool = False) -> Iterator[Session]:
        """One run of a job (`askel slots materialise`), in no one's name."""
        session = self._current()
        token = request_id_var.set(uuid.UUID(int=self._rng.getrandbits(128), version=4).hex)
        try:
            if refusable:
                with session.begin_nested():
                    yield session
            else:
                yield session
        finally:
            request_id_var.reset(token)
        self.requests += 1

    def _current(self) -> Session:
        if self._session is None:
            self._session = self.database.write_sessions()
            event.listen(self._session, "after_flush", self._note_notices)
            self._session.begin()
        return self._session

    def _note_notices(self, session: Session, _flush: object) -> None:
        for queued in (*session.new, *session.dirty):
            if isinstance(queued, OutboxEvent) and queued.event_type.startswith(notices.PREFIX):
                heapq.heappush(self._due, queued.next_attempt_at)

    def _principal(self, session: Session, username: str) -> Principal:
        # Resolved once a day, as the API resolves each request: that is when an account's
        # grant is checked and its use noted.
        today = today_in_helsinki()
        known = self._resolved.get(username)
        if known is None or known[0] != today:
            known = today, access_service.resolve_account(session, self._claims[username])
            self._resolved[username] = known
        return known[1]

    def commit(self) -> None:
        if self._session is not None:
            self._session.commit()
            self._session.close()
            self._session = None

    def deliver_notices(self) -> int:
        """What `askel worker` does: every notice due now goes out, each in its own transaction
        (nothing is done while none is due)."""
        now = utcnow()
        if not self._due or self._due[0] > now:
            return 0
        while self._due and self._due[0] <= now:
            heapq.heappop(self._due)
        self.commit()
        delivered = 0
        while (handled := run_once(self.database, self._handlers, batch=BATCH)) > 0:
            delivered += handled
            if handled < BATCH:  # the worker found no more
                break
        return delivered


def _claim(
    username: str, organisation: str, roles: list[str], profession: str | None, name: str
) -> Principal:
    """What a development token of the user says about them."""
    return Principal(
        subject=username,
        organisation=organisation,
        roles=frozenset(Role(role) for role in roles),
        issuer=LOCAL_ISSUER,
        profession=Profession(profession) if profession else None,
        name=name,
    )
