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


def publish_referral(session: Session, client: FhirClient, referral_id: uuid.UUID) -> int:
    """Bring the region's copy of the referral up to date; the number of resources written."""
    repository.lock_referral(session, referral_id)
    records = repository.records(session, referral_id)
    if records is None:
        return 0
    links = repository.links(session, referral_id)

    def known(resource_type: str, key: uuid.UUID) -> FhirLink | None:
        if (resource_type, key) not in links:
            found = repository.link_for(session, resource_type, key)
            if found is not None:
                links[(resource_type, key)] = found
        return links.get((resource_type, key))

    def refer(resource_type: str, key: uuid.UUID) -> Resource:
        link = known(resource_type, key)
        assert link is not None, f"{resource_type} {key} is referred to before it was sent"
        return {"reference": f"{resource_type}/{link.peer_id}"}

    written: list[FhirLink] = []
    for outbound in referral_set(records, refer):
        digest = content_hash(outbound.body)
        link = known(outbound.resource_type, outbound.key)
        if link is not None and (
            link.content_hash == digest or outbound.resource_type in NEVER_UPDATED
        ):
            continue
        stored = _write(client, outbound, link, refer)
        if link is None:
            link = repository.add_link(
                session,
                FhirLink(
                    resource_type=outbound.resource_type,
                    askel_key=outbound.key,
                    referral_id=referral_id,
                    peer_id=stored.id,
                    peer_version=stored.version,
                    content_hash=digest,
                ),
            )
            links[(outbound.resource_type, outbound.key)] = link
        else:
            link.peer_id, link.peer_version, link.content_hash = stored.id, stored.version, digest
            link.published_at = utcnow()
        written.append(link)
    audit.record_many(
        session,
        actor=None,
        action=AuditAction.disclose,
        resource_type="FHIR",
        accesses=[(f"{link.resource_type}/{link.peer_id}", records.patient.id) for link in written],
    )
    session.flush()
    return len(written)


def handler(client: FhirClient) -> Handler:
    """The outbox worker's handler for referral events."""

    def publish(session: Session, event: OutboxEvent) -> None:
        publish_referral(session, client, event.aggregate_id)

    return publish
