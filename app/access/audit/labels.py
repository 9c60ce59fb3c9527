"""The log's codes in words a patient understands (English message ids, translated where they
are shown): what was done, to which of their data, why, and with what outcome."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.i18n import N_

ACTIONS: Mapping[str, str] = {
    "create": N_("Recorded"),
    "read": N_("Viewed"),
    "update": N_("Modified"),
    "query": N_("Searched for"),
    "disclose": N_("Disclosed"),
    "accept": N_("Accepted"),
    "reject": N_("Declined"),
    "return": N_("Returned"),
    "start": N_("Started"),
    "complete": N_("Completed"),
    "cancel": N_("Cancelled"),
    "book_by_service": N_("Left for the service to book"),
}
# The kinds of records the log names; anything else (a refused address) is other data.
RESOURCES: Mapping[str, str] = {
    "Patient": N_("Personal details"),
    "Referral": N_("Referral"),
    "Appointment": N_("Appointment"),
    "Visit": N_("Counselling visit record"),
    "ActivityPlan": N_("Activity plan"),
    "Outcome": N_("Outcome of the counselling"),
    "CounsellingTab": N_("Counselling records"),
    "FHIR": N_("Referral and counselling data sent to the region's patient records"),
    "Notice": N_("Text message about an appointment"),
    "Consent": N_("Consent to research"),
    "ResearchExtract": N_("Data for a research study"),
    "AccessReport": N_("Access report"),
    "AuditLog": N_("Log of data use"),
    "AuditExport": N_("Log of data use"),
    "AccessGrant": N_("Access right"),
    "Statistics": N_("Statistics"),
    "ProtectedDetails": N_("Home municipality and phone under a security prohibition"),
}
OTHER_RESOURCE = N_("Other data")
PURPOSES: Mapping[str, str] = {
    "care": N_("Health care"),
    "counselling": N_("Physical activity counselling"),
    "statistics": N_("Statistics"),
    "research": N_("Research"),
    "audit": N_("Supervision of data use"),
}
NO_PURPOSE = N_("Not recorded")
OUTCOMES: Mapping[str, str] = {
    "success": N_("Allowed"),
    "not_found": N_("Refused: not found"),
    "refused": N_("Refused: no right"),
    "conflict": N_("Not done: changed meanwhile"),
}
PROFESSIONS: Mapping[str, str] = {
    "doctor": N_("Doctor"),
    "nurse": N_("Nurse"),
    "physiotherapist": N_("Physiotherapist"),
    "counsellor": N_("Physical activity counsellor"),
}
ASKEL_ITSELF = N_("Askel, automatically")
UNKNOWN_PERSON = N_("Account not found in Askel: {username}")


@dataclass(frozen=True, slots=True)
class Process:
    """One of Askel's own processes, as a patient reads it: its name, what it does, and why
    (where the log records no purpose for it)."""

    name: str
    work: str
    purpose: str | None = None


# Askel's own processes that write the log under an account name of their own, by that name
# and the roles recorded with it: the demo's data loader (`app/demo/region.py`) and the poller
# of the region's referrals (`app/fhir_sync/poller.py`). They are no one's account: named as
# what they are, not as an account Askel cannot find.
PROCESSES: Mapping[tuple[str, str], Process] = {
    ("demo-data", ""): Process(
        N_("Demo data"),
        N_("Sample data loaded for trying out Askel"),
        N_("Demonstration of the service"),
    ),
    ("askel-poller", "integration"): Process(
        ASKEL_ITSELF, N_("Referrals fetched from the region's patient records")
    ),
}
