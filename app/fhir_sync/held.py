"""A referral as Askel holds it, read back through Askel's own FHIR endpoint: where the
`Location` of a ServiceRequest posted to /fhir points.

The representation is the ServiceRequest Askel publishes to the region, with two differences:
it names the region's identifier beside Askel's, and everything it refers to (the patient, the
referrer, the service) is referred to by Askel's business identifier, since those resources live
on the region's server, not here. Logical references are not what the Physical Activity IG's
profile allows, so no profile is claimed.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from app.access.principal import Principal
from app.errors import NotFound, RefusalContext
from app.fhir_sync import repository
from app.fhir_sync.parts import Resource, business_identifier, instant
from app.fhir_sync.resources import service_request
from app.referrals.models import Referral

RESOURCE = "Referral"


def _logical(resource_type: str, key: uuid.UUID) -> Resource:
    return {"type": resource_type, "identifier": business_identifier(key)}


def held_service_request(session: Session, referral_id: uuid.UUID) -> Resource:
    """The referral as a ServiceRequest, with its version (what a post of it answers)."""
    records = repository.records(session, referral_id)
    if records is None:
        raise NotFound(refusal=RefusalContext(RESOURCE, str(referral_id)))
    referral = records.referral
    body = service_request(records, _logical).body
    body.pop("meta", None)
    if referral.source_identifier is not None:
        source_system, _, value = referral.source_identifier.partition("|")
        body["identifier"] = [{"system": source_system, "value": value}, *body["identifier"]]
    meta = {"versionId": str(referral.version), "lastUpdated": instant(referral.updated_at)}
    return {**body, "id": str(referral.id), "meta": meta}


def read_service_request(
    session: Session, principal: Principal, referral_id: uuid.UUID
) -> Resource:
    """The referral as a ServiceRequest: an audited read."""
    held = held_service_request(session, referral_id)
    referral = session.get(Referral, referral_id)  # loaded above: no second query
    assert referral is not None
    audit.record(
        session,
        actor=principal,
        action=AuditAction.read,
        resource_type=RESOURCE,
        resource_id=referral_id,
        patient_id=referral.patient_id,
    )
    return held
