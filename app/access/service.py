"""Matching a verified token to the account it speaks for."""

from __future__ import annotations

import dataclasses

from sqlalchemy.orm import Session

from app.access import repository
from app.access.grants import service as grants
from app.access.principal import LOCAL_ISSUER, Principal, Profession, Role
from app.errors import AccountRefused, RefusalContext
from app.i18n import N_
from app.kit.clock import today_in_helsinki


def resolve_account(session: Session, claimed: Principal) -> Principal:
    """The caller as an active account of Askel (OWASP ASVS 7.4.2: a disabled account, or one
    whose organisation has changed, loses access on its very next request).

    A role counts only when both the token and the account hold it: the identity provider
    vouches for who the caller is, Askel's account for what they may do here; profession and
    name come from the account.
    """
    today = today_in_helsinki()
    found = repository.active_account(session, claimed.issuer, claimed.subject, today)
    refusal = RefusalContext("Account")
    if found is None:
        raise AccountRefused(reason=N_("the account is not active"), refusal=refusal)
    user, organisation = found.user, found.organisation
    if organisation.code != claimed.organisation:
        raise AccountRefused(
            reason=N_("the token names another organisation than the account"), refusal=refusal
        )
    roles = {role for role in claimed.roles if role in user.roles}
    # The seed's rule 5 and 6: a counsellor reaches the tab and booking only through a grant
    # the region gave and the municipality attested, valid today; checked on every request.
    if Role.counsellor in roles and not grants.note_use(found.grants, today):
        roles.discard(Role.counsellor)
    return dataclasses.replace(
        claimed,
        roles=frozenset(roles),
        organisation_id=organisation.id,
        organisation_kind=organisation.kind,
        profession=Profession(user.profession) if user.profession else None,
        name=user.display_name,
        user_id=user.id,
        service_id=user.service_id,
    )


def local_principal(session: Session, username: str) -> Principal:
    """A local account as a request would see it with a token of all the account's roles: for
    work done in-process on its behalf (benchmarks, tests of concurrent writers)."""
    found = repository.active_user_with_organisation(session, LOCAL_ISSUER, username)
    if found is None:
        raise LookupError(f"no active local account {username!r}")
    user, organisation = found
    roles = frozenset(Role(role) for role in user.roles)
    claimed = Principal(user.username, organisation.code, roles, LOCAL_ISSUER)
    return resolve_account(session, claimed)
