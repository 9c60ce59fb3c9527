"""A minor's guardians."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.access.permissions import RecordUser
from app.db import WriteSession
from app.errors import NotFound, ValidationFailed, problem_responses
from app.families import service
from app.families.exceptions import NotAMinor
from app.families.schemas import GuardianRead, Guardians, GuardiansIn

router = APIRouter(tags=["children and families"])


@router.get(
    "/patients/{patient_id}/guardians", responses=problem_responses(NotFound, ValidationFailed)
)
def list_guardians(
    patient_id: uuid.UUID, principal: RecordUser, session: WriteSession
) -> Guardians:
    """A minor's guardians (the clinicians and counsellors who may see a referral of the
    patient's; 404 to anyone else)."""
    minor, found = service.guardians(session, principal, patient_id)
    return Guardians(minor=minor, guardians=[GuardianRead.model_validate(g) for g in found])


@router.put(
    "/patients/{patient_id}/guardians",
    responses=problem_responses(NotFound, NotAMinor, ValidationFailed),
)
def replace_guardians(
    patient_id: uuid.UUID, body: GuardiansIn, principal: RecordUser, session: WriteSession
) -> Guardians:
    """Record a minor's guardians, in place of those recorded before (the same people). The
    guardians who receive notices are told of the child's appointments in their own language,
    beside the child if the child has a phone of their own. 422 `not_a_minor` for a patient of
    18 or over. Sending the same list again changes nothing but the audit log."""
    found = service.replace(session, principal, patient_id, body)
    return Guardians(minor=True, guardians=[GuardianRead.model_validate(g) for g in found])
