"""The population register's non-disclosure order (turvakielto).

A protected patient's home municipality and phone are shown only to those who must act on them:
Askel's own processes (the router of referrals, the sender of notices: no principal) and the
patient system that routes and notifies with Askel (`Permission.protected_details_read`).
Everyone else reads them as null, and no text, calendar, export or statistic beyond the
controller carries them. Each read by someone allowed is an audit entry of its own
(`PROTECTED`), beside the entry of the record it was read with, so that an access report can
tell who saw the details the order protects.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from app.access.audit import service as audit
from app.access.audit.models import AuditAction
from app.access.permissions import Permission, has_permission
from app.access.principal import Principal
from app.patients.models import Patient
from app.patients.schemas import PatientRead

PROTECTED = "ProtectedDetails"
# The fields of a patient the order keeps from disclosure (Askel keeps no address).
PROTECTED_FIELDS = ("home_municipality_code", "phone")


def is_protected(patient: Patient | PatientRead) -> bool:
    """Whether the patient's population-register details are under a non-disclosure order."""
    return bool(patient.security_prohibition)


def may_see(principal: Principal | None) -> bool:
    """Whether the reader may see protected details: Askel's own processes (no principal) and
    the roles that must route and notify."""
    return principal is None or has_permission(principal, Permission.protected_details_read)


def withheld_from(principal: Principal | None, patient: Patient | PatientRead) -> bool:
    """Whether the patient's protected details, and what would tell them (the home
    municipality's service), are kept from this reader."""
    return is_protected(patient) and not may_see(principal)


def record_access(
    session: Session,
    actor: Principal | None,
    patient_id: uuid.UUID,
    *,
    action: AuditAction = AuditAction.read,
    recipient: str | None = None,
) -> None:
    """Audit a use of a protected patient's protected details, in the caller's transaction."""
    audit.record_on_patient(session, actor, action, PROTECTED, patient_id, recipient=recipient)


def masked(patient: PatientRead) -> PatientRead:
    """The patient with the protected details left out (null)."""
    return patient.model_copy(update=dict.fromkeys(PROTECTED_FIELDS))


def shown(session: Session, principal: Principal, patient: Patient | PatientRead) -> PatientRead:
    """The patient as this reader may see them: a protected patient's details masked for a
    reader who may not see them, audited as a protected access for one who may."""
    read = patient if isinstance(patient, PatientRead) else PatientRead.model_validate(patient)
    if not is_protected(read):
        return read
    if not may_see(principal):
        return masked(read)
    if any(getattr(read, field) is not None for field in PROTECTED_FIELDS):
        record_access(session, principal, read.id)
    return read


def routing_municipality(session: Session, principal: Principal | None, patient: Patient) -> str:
    """The home municipality, for routing the patient's referral to its service (Askel's own
    use, whoever asked for it); a protected patient's is audited as a protected access."""
    if is_protected(patient):
        record_access(session, principal, patient.id, action=AuditAction.query)
    return patient.home_municipality_code
