"""Matching a verified token to the account it speaks for."""

from __future__ import annotations

import dataclasses

from sqlalchemy.orm import Session

from app.access import repository
from app.access.principal import Principal, Profession
from app.errors import InvalidToken
from app.i18n import N_


def resolve_account(session: Session, claimed: Principal) -> Principal:
    """The caller as an active account of Askel (OWASP ASVS 7.4.2: a disabled account, or one
    whose organisation has changed, loses access on its very next request).

    A role counts only when both the token and the account hold it: the identity provider
    vouches for who the caller is, Askel's account for what they may do here; profession and
    name come from the account.
    """
    found = repository.active_user_with_organisation(session, claimed.issuer, claimed.subject)
    if found is None:
        raise InvalidToken(reason=N_("the account is not active"))
    user, organisation_code = found
    if organisation_code != claimed.organisation:
        raise InvalidToken(reason=N_("the token names another organisation than the account"))
    return dataclasses.replace(
        claimed,
        roles=frozenset(role for role in claimed.roles if role in user.roles),
        profession=Profession(user.profession) if user.profession else None,
        name=user.display_name,
        user_id=user.id,
        service_id=user.service_id,
    )
