"""Publishing a referral to the region's FHIR server, from the outbox.

Each event only says which referral changed; the publisher sends the referral's resources as
they are now, in reference order, and only those whose content changed since they were last
written. A resource Askel has not written before is created conditionally on its business
identifier (a resend after a crash finds the first), one written before is updated with the
version last seen (`If-Match`); when someone else changed it meanwhile, it is re-read and the
update applied to the new version. Every resource sent is a disclosure in the audit log.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import Session

from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from app.fhir_sync import repository
from app.fhir_sync.client import FhirClient, Stored, VersionConflict
from app.fhir_sync.mappings import system
from app.fhir_sync.models import FhirLink
from app.fhir_sync.resources import (
    Outbound,
    Refer,
    ReferralRecords,
    Resource,
    business_identifier,
    referral_set,
)
from app.jobs.models import OutboxEvent
from app.jobs.worker import Handler
from app.kit.clock import utcnow

PREFIX = "referral."
# The region's system holds the patient: Askel finds or creates them, never rewrites them.
NEVER_UPDATED = frozenset({"Patient"})


def content_hash(body: Resource) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _match(outbound: Outbound, refer: Refer) -> str:
    """The search that finds what an earlier send of the resource created."""
    if outbound.resource_type == "Patient":
        return f"identifier={system('hetu')}|{outbound.body['identifier'][0]['value']}"
    if outbound.resource_type == "Provenance":
        # Provenance has no identifier: the one naming the referral's request is the one.
        referral_id = outbound.body["target"][0]["reference"]
        return f"target={referral_id}"
    identifier = business_identifier(outbound.key)
    return f"identifier={identifier['system']}|{identifier['value']}"


def _write(client: FhirClient, outbound: Outbound, link: FhirLink | None, refer: Refer) -> Stored:
    kind, body = outbound.resource_type, outbound.body
    if link is None:
        stored = client.create_unless_exists(kind, body, _match(outbound, refer))
        if stored.created or kind in NEVER_UPDATED:
            return stored
        # Found, not created: written before a crash lost the link; bring it up to date.
        link_version = stored.version
        peer_id = stored.id
    else:
        link_version, peer_id = link.peer_version, link.peer_id
    try:
        return client.update(kind, peer_id, body, link_version)
    except VersionConflict:
        return client.update(kind, peer_id, body, client.read(kind, peer_id).version)


class _Links:
    """The referral's links, and those of shared resources (a patient, a schedule) found on
    demand; references to resources not yet on the peer go through `pending`."""

    def __init__(self, session: Session, referral_id: uuid.UUID) -> None:
        self._session = session
        self.referral_id = referral_id
        self.by_key = repository.links(session, referral_id)
        self.pending: dict[tuple[str, uuid.UUID], str] = {}

    def known(self, resource_type: str, key: uuid.UUID) -> FhirLink | None:
        if (resource_type, key) not in self.by_key:
            found = repository.link_for(self._session, resource_type, key)
            if found is not None:
                self.by_key[(resource_type, key)] = found
        return self.by_key.get((resource_type, key))

    def refer(self, resource_type: str, key: uuid.UUID) -> Resource:
        if (resource_type, key) in self.pending:
            return {"reference": self.pending[(resource_type, key)]}
        link = self.known(resource_type, key)
        assert link is not None, f"{resource_type} {key} is referred to before it was sent"
        return {"reference": f"{resource_type}/{link.peer_id}"}

    def keep(self, outbound: Outbound, digest: str, stored: Stored) -> FhirLink:
        link = self.known(outbound.resource_type, outbound.key)
        if link is None:
            link = repository.add_link(
                self._session,
                FhirLink(
                    resource_type=outbound.resource_type,
                    askel_key=outbound.key,
                    referral_id=self.referral_id,
                    peer_id=stored.id,
                    peer_version=stored.version,
                    content_hash=digest,
                ),
            )
            self.by_key[(outbound.resource_type, outbound.key)] = link
        else:
            link.peer_id, link.peer_version, link.content_hash = stored.id, stored.version, digest
            link.published_at = utcnow()
        return link


def _changed(links: _Links, records: ReferralRecords) -> Iterator[tuple[Outbound, str]]:
    """The resources whose content differs from what the peer was last sent."""
    for outbound in referral_set(records, links.refer):
        digest = content_hash(outbound.body)
        link = links.known(outbound.resource_type, outbound.key)
        if link is not None and (
            link.content_hash == digest or outbound.resource_type in NEVER_UPDATED
        ):
            continue
        yield outbound, digest


def _one_by_one(client: FhirClient, links: _Links, records: ReferralRecords) -> list[FhirLink]:
    written = []
    for outbound, digest in _changed(links, records):
        link = links.known(outbound.resource_type, outbound.key)
        stored = _write(client, outbound, link, links.refer)
        written.append(links.keep(outbound, digest, stored))
    return written


def _entry(outbound: Outbound, link: FhirLink | None, links: _Links) -> dict[str, Any]:
    kind = outbound.resource_type
    if link is None:
        request = {"method": "POST", "url": kind}
        match = _match(outbound, links.refer)
        if "urn:uuid:" not in match:  # a Provenance of a request new in this bundle is new too
            request["ifNoneExist"] = match
        return {"fullUrl": f"urn:uuid:{outbound.key}", "resource": outbound.body,
                "request": request}  # fmt: skip
    return {
        "fullUrl": f"{kind}/{link.peer_id}",
        "resource": {**outbound.body, "id": link.peer_id},
        "request": {"method": "PUT", "url": f"{kind}/{link.peer_id}",
                    "ifMatch": f'W/"{link.peer_version}"'},
    }  # fmt: skip


def _as_transaction(client: FhirClient, links: _Links, records: ReferralRecords) -> list[FhirLink]:
    """Everything that changed in one transaction bundle: the region sees the whole new state of
    the referral or none of it. When someone else changed one of the resources meanwhile (412),
    their versions are read again and the bundle is sent once more."""
    changes = []
    for outbound, digest in _changed(links, records):
        if links.known(outbound.resource_type, outbound.key) is None:
            links.pending[(outbound.resource_type, outbound.key)] = f"urn:uuid:{outbound.key}"
        changes.append((outbound, digest))
    if not changes:
        return []
    linked = [(o, links.known(o.resource_type, o.key)) for o, _ in changes]
    try:
        stored = client.transaction([_entry(o, link, links) for o, link in linked])
    except VersionConflict:
        for outbound, link in linked:
            if link is not None:
                link.peer_version = client.read(outbound.resource_type, link.peer_id).version
        stored = client.transaction([_entry(o, link, links) for o, link in linked])
    written = []
    for (outbound, digest), (_, link), where in zip(changes, linked, stored, strict=True):
        if link is None and not where.created and outbound.resource_type not in NEVER_UPDATED:
            # Found by its identifier (sent before a crash lost the link): bring it up to date.
            where = client.update(outbound.resource_type, where.id, outbound.body, where.version)
        written.append(links.keep(outbound, digest, where))
    links.pending.clear()
    return written


def publish_referral(
    session: Session, client: FhirClient, referral_id: uuid.UUID, *, transaction: bool = False
) -> int:
    """Bring the region's copy of the referral up to date, resource by resource or (for servers
    whose transactions are atomic) in one transaction; the number of resources written."""
    repository.lock_referral(session, referral_id)
    records = repository.records(session, referral_id)
    if records is None:
        return 0
    links = _Links(session, referral_id)
    written = (_as_transaction if transaction else _one_by_one)(client, links, records)
    audit.record_many(
        session,
        actor=None,
        action=AuditAction.disclose,
        resource_type="FHIR",
        accesses=[(f"{link.resource_type}/{link.peer_id}", records.patient.id) for link in written],
        recipient=f"{records.region_code}: {client.base_url}",
    )
    session.flush()
    return len(written)


def handler(client: FhirClient, *, transaction: bool = False) -> Handler:
    """The outbox worker's handler for referral events."""

    def publish(session: Session, event: OutboxEvent) -> None:
        publish_referral(session, client, event.aggregate_id, transaction=transaction)

    return publish
