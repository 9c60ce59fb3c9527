"""The organisations and practitioners a referral's resources refer to, published beside them.

The Physical Activity IG wants literal references where Askel knows people and services only by
code (a Task's requester and owner, a request's requester and its notes' author), so Askel
publishes an Organization for each counselling service and referring organisation and a
Practitioner for each user it names. Like a counsellor's Schedule, each is shared by every
referral that names it: created once, conditionally on its identifier.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from app.classifications.avohilmo import occupation
from app.fhir_sync.mappings import fixed, meta
from app.fhir_sync.parts import (
    Outbound,
    ReferralRecords,
    Resource,
    business_identifier,
    identifier,
    named_key,
)


def _organization(
    key: uuid.UUID, kind: str, code: str, name: str | None, oid: str | None
) -> Outbound:
    identifiers = [business_identifier(key), identifier(kind, code)]
    if oid:
        identifiers.append(identifier("register_oid", f"urn:oid:{oid}"))
    body: Resource = {
        "resourceType": "Organization",
        **meta("Organization"),
        "identifier": identifiers,
        **fixed("Organization"),
    }
    if name:
        body["name"] = name
    return Outbound("Organization", key, body)


def practitioner(
    subject: str,
    name: str | None,
    register_number: str | None = None,
    profession: str | None = None,
) -> Outbound:
    """A user as a Practitioner: their Terhikki number where known, and their occupational
    class (Ammattiluokitus, as FinnishBase codes a qualification) where their profession
    has one."""
    key = named_key("practitioner", subject)
    identifiers = [business_identifier(key), identifier("practitioner", subject)]
    if register_number:
        identifiers.append(identifier("terhikki", register_number))
    body: Resource = {
        "resourceType": "Practitioner",
        **meta("Practitioner"),
        "identifier": identifiers,
        **fixed("Practitioner"),
    }
    if name:
        body["name"] = [{"text": name}]
    occupational_class = occupation(profession)
    if occupational_class is not None:
        body["qualification"] = [{"code": {"coding": [occupational_class.coding()]}}]
    return Outbound("Practitioner", key, body)


def _named_users(records: ReferralRecords) -> dict[str, str | None]:
    """Every user the referral's resources name, by account name, with the name they go by."""
    referral = records.referral
    named = [(referral.referrer_subject, referral.referrer_name)]
    named += [(b.counsellor.username, b.counsellor.display_name) for b in records.bookings]
    named += [(v.visit.counsellor_subject, v.visit.counsellor_name) for v in records.visits]
    if records.plan is not None:
        named.append((records.plan.author_subject, records.plan.author_name))
    users: dict[str, str | None] = {}
    for subject, name in named:
        users[subject] = users.get(subject) or name
    return users


def parties(records: ReferralRecords) -> Iterator[Outbound]:
    """The service, the referrer's organisation and the named users, before what refers to
    them."""
    service = records.service
    yield _organization(service.id, "service", service.code, service.name_fi, service.oid)
    code = records.referral.referrer_organisation
    key = named_key("organisation", code)
    yield _organization(key, "organisation", code, None, records.referrer_organisation_oid)
    for subject, name in _named_users(records).items():
        yield practitioner(
            subject, name, records.register_numbers.get(subject), records.professions.get(subject)
        )
