"""A patient's access report as the patient reads it, in their language: each entry's who (the
person's name and title, not an account name), where, when (Helsinki time), why and what, and
the proof of each entry against the log's signed head.

The printable page and the PDF show exactly these texts: they are put into words here once,
so that the two can never tell the patient different things."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from app.access.audit import labels, merkle, sealing
from app.access.audit.models import AuditEvent, AuditTreeHead
from app.access.audit.reports import AccessReport, Directory
from app.i18n import Language, translate
from app.kit.clock import utcnow
from app.organisations.models import Organisation
from app.web.templating import ROLE_NAMES, clock_time, finnish_date

# Shown where there is nothing to say (an en dash).
NONE = "\u2013"


@dataclass(frozen=True, slots=True)
class Proof:
    """An entry's place in the tree of the signed head, and the hashes that lead to its root."""

    position: int
    leaf_hash: str
    path: list[str]


@dataclass(frozen=True, slots=True)
class Line:
    """One entry of the report, in words."""

    seq: int
    when: str
    who: str
    title: str
    organisation: str
    purpose: str
    action: str
    data: str
    outcome: str | None  # only when the attempt was refused or failed
    recipient: str | None
    proof: Proof | None


@dataclass(frozen=True, slots=True)
class Head:
    """The signed tree head the proofs lead to, and the key that signed it."""

    size: int
    root: str
    signed_at: str  # in words, Helsinki time
    signed_at_exactly: str  # as the signature covers it
    key_id: str
    signature: str
    public_key: str


@dataclass(frozen=True, slots=True)
class Sheet:
    language: Language
    patient_name: str
    controller: str
    since: str
    until: str
    accesses: list[Line]
    disclosures: list[Line]
    head: Head | None
    unsealed: int  # entries too new to have a proof yet

    def text(self, message: str, **params: object) -> str:
        return translate(message, self.language, **params)


def when(moment: datetime, language: Language) -> str:
    """29.11.2026 klo 8.00 (fi), 29.11.2026 kl. 8.00 (sv), 29.11.2026 8:00 (en)."""
    return f"{finnish_date(moment)} {clock_time(moment, language)}"


def organisation_name(organisation: Organisation | None, language: Language) -> str:
    if organisation is None:
        return NONE
    return organisation.name_sv if language == "sv" else organisation.name_fi


def _title(language: Language, profession: str | None, roles: Sequence[str]) -> str:
    if profession is not None and profession in labels.PROFESSIONS:
        return translate(labels.PROFESSIONS[profession], language)
    named = [ROLE_NAMES[role] for role in sorted(roles) if role in ROLE_NAMES]
    return ", ".join(translate(name, language) for name in named) or NONE


def _proof(event: AuditEvent, proofs: dict[int, sealing.Inclusion]) -> Proof | None:
    found = proofs.get(event.seq)
    if found is None:
        return None
    leaf = merkle.leaf_hash(found.leaf.encode()).hex()
    return Proof(found.position, leaf, list(found.path))


def _word(table: Mapping[str, str], code: str | None, otherwise: str, language: Language) -> str:
    return translate(table.get(code, otherwise) if code else otherwise, language)


def _line(
    event: AuditEvent,
    language: Language,
    directory: Directory,
    proofs: dict[int, sealing.Inclusion],
) -> Line:
    person, process = directory.person(event), None
    if person is not None:
        who, title = person.name, _title(language, person.profession, person.roles)
    elif event.actor is None:
        who, title = translate(labels.ASKEL_ITSELF, language), NONE
    elif (process := directory.process(event)) is not None:
        who, title = translate(process.name, language), translate(process.work, language)
    else:
        who = translate(labels.UNKNOWN_PERSON, language, username=event.actor)
        title = _title(language, None, (event.actor_roles or "").split(","))
    unrecorded = process.purpose if process and process.purpose else labels.NO_PURPOSE
    refused = event.outcome != "success"
    return Line(
        seq=event.seq,
        when=when(event.occurred_at, language),
        who=who,
        title=title,
        organisation=organisation_name(directory.organisation(event), language),
        purpose=_word(labels.PURPOSES, event.purpose, unrecorded, language),
        action=_word(labels.ACTIONS, event.action, event.action, language),
        data=_word(labels.RESOURCES, event.resource_type, labels.OTHER_RESOURCE, language),
        outcome=_word(labels.OUTCOMES, event.outcome, event.outcome, language) if refused else None,
        recipient=event.recipient,
        proof=_proof(event, proofs),
    )


def _head(head: AuditTreeHead | None, language: Language) -> Head | None:
    if head is None:
        return None
    return Head(
        size=head.size,
        root=head.root,
        signed_at=when(head.signed_at, language),
        signed_at_exactly=head.signed_at.isoformat(),
        key_id=head.key_id,
        signature=head.signature,
        public_key=sealing.public_key_bytes().hex(),
    )


def sheet(
    report: AccessReport,
    directory: Directory,
    language: Language,
    *,
    patient_name: str,
    controller: Organisation | None,
) -> Sheet:
    lines = [
        _line(event, language, directory, report.proofs)
        for event in [*report.accesses, *report.disclosures]
    ]
    accesses, disclosures = lines[: len(report.accesses)], lines[len(report.accesses) :]
    return Sheet(
        language=language,
        patient_name=patient_name,
        controller=organisation_name(controller, language),
        since=finnish_date(report.since),
        until=finnish_date(utcnow()),
        accesses=accesses,
        disclosures=disclosures,
        head=_head(report.head, language),
        unsealed=sum(1 for line in lines if line.proof is None),
    )
