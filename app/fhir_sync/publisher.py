"""Publishing a referral to the region's FHIR server, from the outbox.

Each event only says which referral changed; the publisher sends the referral's resources as
they are now, in reference order, and only those whose content changed since they were last
written. A resource Askel has not written before is created conditionally on its business
identifier (a resend after a crash finds the first), one written before is updated with the
version last seen (`If-Match`); when someone else changed it meanwhile, it is re-read and the
update applied to the new version. A referral the region made is written into the region's own
ServiceRequest and Task (`region.py`); bundles are `transactions.py`'s. Every resource sent is a
disclosure in the audit log.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from app.fhir_sync import region, repository, transactions
from app.fhir_sync.client import FhirClient, Stored, VersionConflict
from app.fhir_sync.links import NEVER_UPDATED, Links, changed, content_hash, search_match
from app.fhir_sync.models import FhirLink
from app.fhir_sync.resources import Outbound, ReferralRecords
from app.jobs import outbox
from app.jobs.models import OutboxEvent
from app.jobs.worker import Handler

PREFIX = "referral."
# Published beside the referral but holding nothing of the patient's: the services, the staff
# and their calendars. Sending them discloses no patient data, so they are not in the
# patient's access report.
NOT_THE_PATIENTS = frozenset({"Organization", "Practitioner", "Schedule"})


def _write(client: FhirClient, outbound: Outbound, link: FhirLink | None) -> Stored:
    kind, body = outbound.resource_type, outbound.body
    if link is not None and link.region_owned:
        return region.write_into(client, link, body)
    if link is None:
        stored = client.create_unless_exists(kind, body, search_match(outbound))
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


def _one_by_one(client: FhirClient, links: Links, records: ReferralRecords) -> list[FhirLink]:
    written = []
    for outbound, link in changed(links, records):
        stored = _write(client, outbound, link)
        written.append(links.keep(outbound, content_hash(outbound.body), stored))
    return written


def publish_referral(
    session: Session,
    client: FhirClient,
    referral_id: uuid.UUID,
    *,
    transaction: bool = False,
    bundle_limit: int = transactions.MEDPLUM_LIMIT,
) -> int:
    """Bring the region's copy of the referral up to date, resource by resource or (for servers
    whose transactions are atomic) in transaction bundles; the number of resources written."""
    repository.lock_referral(session, referral_id)
    records = repository.records(session, referral_id)
    if records is None:
        return 0
    region.find_records(session, client, records)
    links = Links(session, referral_id)
    if transaction:
        written = transactions.publish(client, links, records, bundle_limit)
    else:
        written = _one_by_one(client, links, records)
    audit.record_many(
        session,
        actor=None,
        action=AuditAction.disclose,
        resource_type="FHIR",
        accesses=[
            (f"{link.resource_type}/{link.peer_id}", records.patient.id)
            for link in written
            if link.resource_type not in NOT_THE_PATIENTS
        ],
        recipient=f"{records.region_code}: {client.base_url}",
    )
    session.flush()
    return len(written)


def handler(
    client: FhirClient, *, transaction: bool = False, bundle_limit: int = transactions.MEDPLUM_LIMIT
) -> Handler:
    """The outbox worker's handler for referral events."""

    def publish(session: Session, event: OutboxEvent) -> None:
        publish_referral(
            session, client, event.aggregate_id, transaction=transaction, bundle_limit=bundle_limit
        )

    return publish


def republish_all(session: Session) -> int:
    """Queue every referral the region has received for publishing again, after the mappings
    changed (the codes THL publishes, a new element): each resource whose content differs is
    written, the rest are left as they are. The number of referrals queued."""
    statement = select(FhirLink.referral_id).distinct()
    queued = 0
    for referral_id in session.scalars(statement):
        outbox.enqueue(
            session,
            aggregate_type="referral",
            aggregate_id=referral_id,
            event_type=f"{PREFIX}republished",
            payload={"referral_id": str(referral_id)},
        )
        queued += 1
    return queued
