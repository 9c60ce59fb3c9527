"""What the access administrators' pages show of grants: each with its counsellor, service and
status, the people who granted, attested, revoked and last confirmed it by their names, and
the access review with each grant once, with every reason it is listed for."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from app.access.grants import repository, service
from app.access.grants.models import AccessGrant
from app.access.models import User
from app.i18n import N_, Language
from app.organisations import service as organisations

STATUSES = {
    "revoked": N_("Revoked"),
    "expired": N_("Expired"),
    "unattested": N_("Awaiting attestation"),
    "upcoming": N_("Not yet in effect"),
    "effective": N_("In effect"),
}
# Why a grant is on the access review, in the order of the API's answer.
REVIEW_REASONS = {
    "unused": N_("Not used for 90 days"),
    "expiring": N_("Expires within 30 days"),
    "unattested": N_("Not attested"),
    "attested_by_non_admin": N_("Attested by someone no longer an access administrator"),
}
# The reasons each grant of a review is listed for, by its id.
Reasons = dict[uuid.UUID, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Shown:
    grant: AccessGrant
    counsellor: User
    service_name: str
    status: str
    reasons: tuple[str, ...] = ()

    @property
    def status_told(self) -> bool:
        """Whether the status says more than the review's reasons: a grant awaiting its
        attestation is listed for that already, and is said so once."""
        return self.status not in self.reasons


@dataclass(frozen=True, slots=True)
class Shelf:
    """Grants as shown, and the names of the people their records name by username."""

    rows: list[Shown]
    names: dict[str, str] = field(default_factory=dict)

    def person(self, username: str | None) -> str:
        """A person's name; their username where no one account has it."""
        return self.names.get(username, username) if username else ""


def status(grant: AccessGrant, today: date) -> str:
    if grant.revoked_at is not None:
        return "revoked"
    if grant.valid_until < today:
        return "expired"
    if grant.attested_at is None:
        return "unattested"
    return "effective" if service.is_effective(grant, today) else "upcoming"


def service_names(session: Session, language: Language) -> dict[uuid.UUID, str]:
    swedish = language == "sv"
    return {s.id: s.name_sv if swedish else s.name_fi for s in organisations.directory(session)}


def shown(
    session: Session,
    held: Sequence[tuple[AccessGrant, User]],
    language: Language,
    today: date,
    reasons: Reasons | None = None,
) -> Shelf:
    services = service_names(session, language)
    people = {
        username
        for grant, _user in held
        for username in (grant.granted_by, grant.attested_by, grant.revoked_by,
                         grant.recertified_by)
        if username
    }  # fmt: skip
    rows = [
        Shown(
            grant=grant,
            counsellor=user,
            service_name=services.get(grant.service_id, ""),
            status=status(grant, today),
            reasons=(reasons or {}).get(grant.id, ()),
        )
        for grant, user in held
    ]
    return Shelf(rows, repository.display_names(session, people))


def reviewed(found: service.Review) -> tuple[list[tuple[AccessGrant, User]], Reasons]:
    """The review's grants, each once in the order first listed, and the reasons of each."""
    held: dict[uuid.UUID, tuple[AccessGrant, User]] = {}
    reasons: Reasons = {}
    for reason in REVIEW_REASONS:
        listed: Iterable[tuple[AccessGrant, User]] = getattr(found, reason)
        for grant, user in listed:
            held.setdefault(grant.id, (grant, user))
            reasons[grant.id] = (*reasons.get(grant.id, ()), reason)
    return list(held.values()), reasons


def counsellor_names(session: Session, usernames: Sequence[str]) -> list[str]:
    """The counsellors' names, in order (a username where no one account has it)."""
    names = repository.display_names(session, usernames)
    return sorted(names.get(username, username) for username in usernames)


def counsellors(session: Session, language: Language) -> dict[str, str]:
    """Every active counsellor who could be given a grant, by account id, named with their
    service; in the order of their services' and their own names."""
    services = service_names(session, language)
    labelled = [
        (services.get(user.service_id, "") if user.service_id else "", user.display_name, user.id)
        for user in repository.counsellors(session, None)
    ]
    return {str(user_id): f"{name} ({where})" for where, name, user_id in sorted(labelled)}


def service_of(session: Session, user_id: str) -> str | None:
    """The service of the counsellor a grant form names: the one a grant can be for."""
    try:
        chosen = session.get(User, uuid.UUID(user_id))
    except ValueError:
        return None
    return str(chosen.service_id) if chosen and chosen.service_id else None
