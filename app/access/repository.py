from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Date, Row, and_, bindparam, select
from sqlalchemy.orm import Session

from app.access.grants.models import AccessGrant
from app.access.grants.repository import effective_on
from app.access.models import User
from app.access.principal import LOCAL_ISSUER
from app.organisations.models import CounsellingService, Organisation


def active_user_with_organisation(
    session: Session, issuer: str, username: str
) -> Row[User, Organisation] | None:
    return _active_with_organisation(session, issuer, User.username == username)


def active_user_by_register_number(
    session: Session, issuer: str, register_number: str
) -> Row[User, Organisation] | None:
    """The account of the professional with this Terhikki number, as the patient system names
    them."""
    return _active_with_organisation(session, issuer, User.register_number == register_number)


def _active_with_organisation(
    session: Session, issuer: str, which: ColumnElement[bool]
) -> Row[User, Organisation] | None:
    statement = (
        select(User, Organisation)
        .join(Organisation, User.organisation_id == Organisation.id)
        .where(User.issuer == issuer, which, User.active.is_(True))
        .order_by(User.username)
    )
    return session.execute(statement).first()


@dataclass(frozen=True, slots=True)
class Account:
    user: User
    organisation: Organisation
    # The grants effective on the day asked in the user's service (a counsellor's access).
    grants: list[AccessGrant]


# Read on every request: built once, as composing it costs about as much as running it.
_ACTIVE_ACCOUNT = (
    select(User, Organisation, AccessGrant)
    .join(Organisation, User.organisation_id == Organisation.id)
    .outerjoin(
        AccessGrant,
        and_(
            AccessGrant.user_id == User.id,
            AccessGrant.service_id == User.service_id,
            *effective_on(bindparam("on", type_=Date)),
        ),
    )
    .where(
        User.issuer == bindparam("issuer"),
        User.username == bindparam("username"),
        User.active.is_(True),
    )
)


def active_account(session: Session, issuer: str, username: str, on: date) -> Account | None:
    """The active account with its organisation and its grants effective on `on`, in one
    statement: read afresh on every request, never kept between them."""
    parameters = {"issuer": issuer, "username": username, "on": on}
    rows = session.execute(_ACTIVE_ACCOUNT, parameters).all()
    if not rows:
        return None
    user, organisation, _grant = rows[0]
    return Account(user, organisation, [grant for *_, grant in rows if grant is not None])


def users_for_listing(
    session: Session,
) -> Sequence[Row[User, Organisation, CounsellingService | None]]:
    statement = (
        select(User, Organisation, CounsellingService)
        .join(Organisation, User.organisation_id == Organisation.id)
        .outerjoin(CounsellingService, User.service_id == CounsellingService.id)
        .where(User.active.is_(True), User.issuer == LOCAL_ISSUER)
        .order_by(Organisation.code, User.username)
    )
    return session.execute(statement).all()
