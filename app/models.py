"""Every domain's tables, imported in one place so that Alembic and the tests see all of them."""

from app.access.audit.models import AuditEvent
from app.access.grants.models import AccessGrant
from app.access.models import User
from app.consents.models import ConsentDecision
from app.counselling.models import PlanVersion, Visit
from app.families.models import Guardian
from app.fhir_sync.models import FhirLink, SyncCursor
from app.jobs.models import OutboxEvent
from app.kit.idempotency import IdempotencyRecord
from app.kit.models import Base
from app.organisations.models import CounsellingService, Organisation, ServiceCatchment
from app.patients.models import Patient
from app.referrals.models import ReasonCode, Referral, ReferralEvent
from app.scheduling.models import (
    Appointment,
    AvailabilityException,
    AvailabilityRule,
    CalendarToken,
    Slot,
    SlotHold,
)
from app.statistics.models import FactBuild, RecordKey, ReferralFact, StaleReferral, VisitFact
from app.web.models import PageSession

__all__ = [
    "AccessGrant",
    "Appointment",
    "AuditEvent",
    "AvailabilityException",
    "AvailabilityRule",
    "Base",
    "CalendarToken",
    "ConsentDecision",
    "CounsellingService",
    "FactBuild",
    "FhirLink",
    "Guardian",
    "IdempotencyRecord",
    "Organisation",
    "OutboxEvent",
    "PageSession",
    "Patient",
    "PlanVersion",
    "ReasonCode",
    "RecordKey",
    "Referral",
    "ReferralEvent",
    "ReferralFact",
    "ServiceCatchment",
    "Slot",
    "SlotHold",
    "StaleReferral",
    "SyncCursor",
    "User",
    "Visit",
    "VisitFact",
]
