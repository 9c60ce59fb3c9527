"""What auditors read of the log: a search, and a patient's access report with each entry's
proof of being in the log. The API and the pages call these, so that the same reads leave the
same entries: each search and each report is itself logged, in the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from app.access.audit import labels, repository, sealing, service
from app.access.audit.models import AuditAction, AuditEvent, AuditTreeHead
from app.access.models import User
from app.access.principal import Principal
from app.kit.clock import utcnow
from app.kit.types import INT64_MAX
from app.organisations.models import Organisation
from app.patients import repository as patients

# The Client Data Act: the controller answers for at least two years back.
REPORT_PERIOD = timedelta(days=2 * 366)
# What a report reads at most: more than two years of any one patient's care.
REPORT_MOST = 100000


class EntryCursor(BaseModel):
    """A search's sort key: the entry's number."""

    model_config = ConfigDict(extra="forbid")

    s: Annotated[int, Field(ge=1, le=INT64_MAX)]


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """What a search of the log asks for; None asks nothing of that column."""

    patient_id: uuid.UUID | None = None
    actor: str | None = None
    action: str | None = None
    outcome: str | None = None
    purpose: str | None = None
    start: datetime | None = None
    end: datetime | None = None


def search(
    session: Session,
    principal: Principal,
    where: SearchFilter,
    *,
    before_seq: int | None,
    limit: int,
) -> Sequence[AuditEvent]:
    """Entries newest first, `limit` of them before the entry numbered `before_seq`; the search
    is logged (after it is read: it never finds itself)."""
    found = repository.search(session, **asdict(where), before_seq=before_seq, limit=limit)
    service.record(
        session, actor=principal, action=AuditAction.query, resource_type="AuditLog",
        patient_id=where.patient_id,
    )  # fmt: skip
    return found


@dataclass(frozen=True, slots=True)
class AccessReport:
    """Who has seen or changed the patient's data since `since`, oldest first, and to whom it
    was disclosed; the proofs (by entry number) of the entries sealed under `head`."""

    patient_id: uuid.UUID
    since: datetime
    accesses: list[AuditEvent]
    disclosures: list[AuditEvent]
    head: AuditTreeHead | None
    proofs: dict[int, sealing.Inclusion] = field(default_factory=dict)


def access_report(
    session: Session, principal: Principal, patient_id: uuid.UUID, since: datetime | None
) -> AccessReport:
    """The patient's access report (Client Data Act 703/2023, § 11), two years back unless
    `since` says otherwise; reading it is logged as a read of the patient's data."""
    start = since or utcnow() - REPORT_PERIOD
    # A record made under a temporary identifier and merged into the patient's is theirs too.
    merged = patients.merged_into(session, patient_id)
    events = list(
        repository.search(
            session, patient_id=patient_id, merged_ids=merged, start=start, limit=REPORT_MOST
        )
    )
    events.reverse()
    service.record_on_patient(session, principal, AuditAction.read, "AccessReport", patient_id)
    head = repository.newest_head(session)
    return AccessReport(
        patient_id=patient_id,
        since=start,
        accesses=[event for event in events if event.action != AuditAction.disclose],
        disclosures=[event for event in events if event.action == AuditAction.disclose],
        head=head,
        proofs=sealing.inclusions(session, events, head) if head is not None else {},
    )


@dataclass(frozen=True, slots=True)
class Person:
    """The person (or system) behind an entry's account, as a patient would want to read it."""

    name: str
    profession: str | None
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Directory:
    """The people and organisations the entries name: who made each entry, and where."""

    people: dict[tuple[str | None, str], Person]
    organisations: dict[str, Organisation]

    def person(self, event: AuditEvent) -> Person | None:
        """None for Askel's own work (no account), or an account no longer found."""
        return self.people.get((event.actor_issuer, event.actor)) if event.actor else None

    def process(self, event: AuditEvent) -> labels.Process | None:
        """The one of Askel's own processes that made the entry under an account name of its
        own; None for a person's entry, and for an account name no process has (an account
        really not found)."""
        if event.actor is None or self.person(event) is not None:
            return None
        return labels.PROCESSES.get((event.actor, event.actor_roles or ""))

    def organisation(self, event: AuditEvent) -> Organisation | None:
        """Where the person worked when the entry was made."""
        code = event.actor_organisation
        return self.organisations.get(code) if code else None


def directory(session: Session, events: Iterable[AuditEvent]) -> Directory:
    """The accounts and organisations of the entries, read at once."""
    chosen = list(events)
    wanted = {(event.actor_issuer, event.actor) for event in chosen if event.actor}
    codes = {event.actor_organisation for event in chosen if event.actor_organisation}
    accounts = repository.accounts_named(session, {username for _, username in wanted})
    people: dict[tuple[str | None, str], Person] = {}
    for issuer, username in wanted:
        user = _account_of(accounts, issuer, username)
        if user is not None:
            people[(issuer, username)] = Person(user.display_name, user.profession,
                                                tuple(user.roles))  # fmt: skip
    return Directory(people, repository.organisations_by_code(session, codes))


def _account_of(accounts: Sequence[User], issuer: str | None, username: str) -> User | None:
    """The account of an entry: by issuer and username; an entry from before issuers were
    recorded names its account by username alone, when only one account has it."""
    same = [user for user in accounts if user.username == username]
    if issuer is not None:
        same = [user for user in same if user.issuer == issuer]
    return same[0] if len(same) == 1 else None
