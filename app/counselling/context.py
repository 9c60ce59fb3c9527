"""What the tab's pages show around its records: the referral, the name of its patient and the
language the patient reads, and whether the reader may write on the tab. Read through the
referral's own rule: a referral the reader may not see is the same 404 as a missing one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.access.principal import Principal
from app.counselling.service import IN_COUNSELLING
from app.i18n import DEFAULT_LANGUAGE, LANGUAGES, Language
from app.referrals import policies as referral_policies
from app.referrals import service as referral_service
from app.referrals.models import Referral
from app.referrals.states import Status


@dataclass(frozen=True, slots=True)
class Tab:
    referral: Referral
    patient_name: str
    # The language the patient reads: the referral's preferred one, as the referrer chose it.
    patient_language: Language
    may_write: bool
    # Visits and plans are recorded while counselling goes on (the service refuses them else).
    in_counselling: bool


def tab_of(session: Session, principal: Principal, referral_id: uuid.UUID) -> Tab:
    """The referral (if the reader may see it, else 404, audited), its patient's name and
    language. The page's own service call writes the audit entry of what it shows."""
    referral = referral_policies.visible(session, principal, referral_id)
    patient = referral_service.patient_of(session, referral)
    return Tab(
        referral=referral,
        patient_name=f"{patient.given_name} {patient.family_name}",
        patient_language=_readable(referral.preferred_language, patient.language),
        may_write=referral_policies.is_service_counsellor(principal, referral),
        in_counselling=Status(referral.status) in IN_COUNSELLING,
    )


def _readable(*choices: str) -> Language:
    for choice in choices:
        if choice in LANGUAGES:
            return choice
    return DEFAULT_LANGUAGE
