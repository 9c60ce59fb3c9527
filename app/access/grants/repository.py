from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.access.grants.models import AccessGrant
from app.access.models import User
from app.kit.pagination import beyond


def effective_on(on: date | ColumnElement[date]) -> list[ColumnElement[bool]]:
    """What makes a grant effective on a day, given or a parameter (`service.is_effective`, as
    conditions)."""
    return [
        AccessGrant.attested_at.is_not(None),
        AccessGrant.revoked_at.is_(None),
        AccessGrant.valid_from <= on,
        AccessGrant.valid_until >= on,
    ]


def get(session: Session, grant_id: uuid.UUID) -> AccessGrant | None:
    return session.get(AccessGrant, grant_id)


def listing(
    session: Session,
    organisation_id: uuid.UUID | None,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int | None = None,
) -> Sequence[tuple[AccessGrant, User]]:
    """Grants with their holders, oldest first; only the staff of one organisation when given,
    only those after `after` (creation time, id), at most `limit`."""
    statement = select(AccessGrant, User).join(User, User.id == AccessGrant.user_id)
    if organisation_id is not None:
        statement = statement.where(User.organisation_id == organisation_id)
    if after is not None:
        created_at, grant_id = after
        statement = statement.where(
            beyond((AccessGrant.created_at, created_at, False), (AccessGrant.id, grant_id, False))
        )
    statement = statement.order_by(AccessGrant.created_at, AccessGrant.id).limit(limit)
    return [(grant, user) for grant, user in session.execute(statement).all()]


def access_admins_by_organisation(session: Session) -> dict[uuid.UUID, set[str]]:
    """The usernames of the active access admins of each organisation."""
    admins: dict[uuid.UUID, set[str]] = {}
    for user in session.scalars(select(User).where(User.active.is_(True))):
        if "access_admin" in user.roles:
            admins.setdefault(user.organisation_id, set()).add(user.username)
    return admins


def counsellors(session: Session, organisation_id: uuid.UUID | None) -> Sequence[User]:
    statement = select(User).where(User.active.is_(True), User.service_id.is_not(None))
    if organisation_id is not None:
        statement = statement.where(User.organisation_id == organisation_id)
    return [user for user in session.scalars(statement) if "counsellor" in user.roles]


def display_names(session: Session, usernames: Iterable[str]) -> dict[str, str]:
    """The names of the accounts a grant's `granted_by`, `attested_by`… name (by username,
    as the grant keeps them); a username two issuers' accounts share is left out, unnamed."""
    wanted = set(usernames)
    if not wanted:
        return {}
    found: dict[str, set[str]] = {}
    for username, name in session.execute(
        select(User.username, User.display_name).where(User.username.in_(wanted))
    ):
        found.setdefault(username, set()).add(name)
    return {username: names.pop() for username, names in found.items() if len(names) == 1}
