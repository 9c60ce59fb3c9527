"""Where each of a referral's resources lives on the region's server, and which of them changed
since they were last written there: what both ways of publishing (one by one, or in
transaction bundles) start from."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator

from sqlalchemy.orm import Session

from app.fhir_sync import region, repository
from app.fhir_sync.client import Stored
from app.fhir_sync.models import FhirLink
from app.fhir_sync.resources import (
    Outbound,
    ReferralRecords,
    Resource,
    business_identifier,
    referral_set,
)
from app.kit.clock import utcnow

# The region's system holds the patient: Askel finds or creates them, never rewrites them.
NEVER_UPDATED = frozenset({"Patient"})


def content_hash(body: Resource) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def search_match(outbound: Outbound) -> str:
    """The search that finds what an earlier send of the resource created."""
    if outbound.resource_type == "Patient":
        # By the person's first identifier: the identity code, or the temporary one until the
        # code arrives.
        first = outbound.body["identifier"][0]
        return f"identifier={first['system']}|{first['value']}"
    if outbound.resource_type == "Provenance":
        # Provenance has no identifier: the one naming the referral's request is the one.
        return f"target={outbound.body['target'][0]['reference']}"
    identifier = business_identifier(outbound.key)
    return f"identifier={identifier['system']}|{identifier['value']}"


class Links:
    """The referral's links, and those of shared resources (a patient, a schedule) found on
    demand; references to resources about to be created in a bundle go through `pending`."""

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


def changed(links: Links, records: ReferralRecords) -> Iterator[tuple[Outbound, FhirLink | None]]:
    """The resources whose content differs from what the peer was last sent, each with its
    link (None: not on the peer yet). Into a region-owned resource goes only what Askel answers
    for. A generator: each resource is built after those before it were written."""
    for outbound in referral_set(records, links.refer):
        link = links.known(outbound.resource_type, outbound.key)
        if link is not None and link.region_owned:
            outbound = region.answered_for(outbound)
        if link is not None and (
            link.content_hash == content_hash(outbound.body)
            or outbound.resource_type in NEVER_UPDATED
        ):
            continue
        yield outbound, link
