from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from app.access.models import User
from app.access.principal import LOCAL_ISSUER
from app.organisations.models import CounsellingService, Organisation


def active_user_with_organisation(
    session: Session, issuer: str, username: str
) -> Row[User, Organisation] | None:
    statement = (
        select(User, Organisation)
        .join(Organisation, User.organisation_id == Organisation.id)
        .where(User.issuer == issuer, User.username == username, User.active.is_(True))
    )
    return session.execute(statement).first()


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
