"""`Idempotency-Key` for creating requests: a retry with the same key and body gets the first
answer again and creates nothing; the same key with another body is refused.

The key is claimed in the request's own transaction before any work, in one statement that
inserts it unless it is there (`INSERT … ON CONFLICT DO NOTHING RETURNING`): a concurrent twin
waits for the first request's transaction (PostgreSQL's unique index; SQLite's one writer) and
then finds the key taken, with the finished answer.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Annotated, TypeVar

from fastapi import Header
from pydantic import BaseModel
from sqlalchemy import Insert, String, Text, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.config import get_settings
from app.errors import AppError
from app.i18n import N_
from app.kit.clock import utcnow
from app.kit.crypto import derive_key, keyed_hash
from app.kit.models import Base, UTCDateTime

Response = TypeVar("Response", bound=BaseModel)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="A unique key per intended request; a retry with it creates nothing new.",
    ),
]


class IdempotencyKeyReused(AppError):
    status = 422
    code = "idempotency_key_reused"
    title = N_("Idempotency key already used")
    detail = N_("This Idempotency-Key was already used for a different request.")


class IdempotencyKeyInFlight(AppError):
    status = 409
    code = "idempotency_key_in_flight"
    title = N_("Request already in progress")
    detail = N_("A request with this Idempotency-Key is still being processed; retry shortly.")


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"

    owner: Mapped[str] = mapped_column(String(128), primary_key=True)
    scope: Mapped[str] = mapped_column(String(128), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


@cache
def _fingerprint_key() -> bytes:
    return derive_key(get_settings().hetu_key.get_secret_value(), "askel idempotency v1")


def _fingerprint(body: BaseModel) -> str:
    # Keyed: a plain hash of a body holding an identity code could be reversed by brute force.
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True)
    return keyed_hash(_fingerprint_key(), canonical)


def _claim(session: Session, identity: dict[str, str], request_hash: str) -> bool:
    """Insert the key unless it is there; whether this request inserted it."""
    row = {**identity, "request_hash": request_hash, "created_at": utcnow()}
    keys = ["owner", "scope", "key"]
    statement: Insert
    if session.get_bind().dialect.name == "postgresql":
        statement = postgresql.insert(IdempotencyRecord).on_conflict_do_nothing(index_elements=keys)
    else:
        statement = sqlite.insert(IdempotencyRecord).on_conflict_do_nothing(index_elements=keys)
    statement = statement.values(row)
    return session.execute(statement.returning(IdempotencyRecord.key)).first() is not None


class Idempotency:
    """One creating request's claim on its key (a no-op when the client sent none)."""

    def __init__(
        self, session: Session, *, owner: str, scope: str, key: str | None, body: BaseModel
    ) -> None:
        self._session = session
        self._identity: dict[str, str] | None = None
        self._previous: IdempotencyRecord | None = None
        if key is None:
            return
        request_hash = _fingerprint(body)
        identity = {"owner": owner, "scope": scope, "key": key}
        if _claim(session, identity, request_hash):
            self._identity = identity
            return
        # Taken: the insert waited for the transaction that took it, which has ended.
        existing = session.scalar(select(IdempotencyRecord).filter_by(**identity))
        if existing is not None and existing.request_hash != request_hash:
            raise IdempotencyKeyReused()
        if existing is None or existing.response is None:
            raise IdempotencyKeyInFlight()
        self._previous = existing

    def replay(self, model: type[Response]) -> Response | None:
        """The first answer, when this is a retry."""
        if self._previous is None or self._previous.response is None:
            return None
        return model.model_validate_json(self._previous.response)

    def remember(self, response: Response) -> Response:
        if self._identity is not None:
            self._session.execute(
                update(IdempotencyRecord)
                .filter_by(**self._identity)
                .values(response=response.model_dump_json())
                .execution_options(synchronize_session=False)
            )
        return response
