from __future__ import annotations

from app.errors import AppError
from app.i18n import N_

# Status names as shown inside messages.
STATUS_NAMES = {
    "sent": N_("sent"),
    "received": N_("received"),
    "accepted": N_("accepted"),
    "in_progress": N_("in progress"),
    "completed": N_("completed"),
    "rejected": N_("rejected"),
    "returned": N_("returned"),
    "cancelled": N_("cancelled"),
}


class IllegalTransition(AppError):
    status = 409
    code = "illegal_transition"
    title = N_("Not possible in the current status")
    detail = N_("The referral is {status}: this action is not possible now.")
    audit_outcome = "conflict"


class PreconditionRequired(AppError):
    status = 428
    code = "precondition_required"
    title = N_("Version required")
    detail = N_("Send the version you last read in the If-Match header.")
    audit_outcome = "refused"


class StaleVersion(AppError):
    status = 412
    code = "stale_version"
    title = N_("The referral has changed")
    detail = N_("Someone changed the referral after you read it. Read it again and retry.")
    audit_outcome = "conflict"


class UnknownPatient(AppError):
    status = 422
    code = "unknown_patient"
    title = N_("Unknown patient")
    detail = N_("No patient is registered with this id.")


class UnknownService(AppError):
    status = 422
    code = "unknown_service"
    title = N_("Unknown service")
    detail = N_("No counselling service has this id.")


class NoServiceForMunicipality(AppError):
    status = 422
    code = "no_service_for_municipality"
    title = N_("No counselling service")
    detail = N_(
        "No counselling service serves the patient's home municipality {municipality}. "
        "Name a service explicitly."
    )


class NoServiceForProtectedPatient(NoServiceForMunicipality):
    """The same refusal for a patient with a security prohibition: it does not name where the
    patient lives."""

    detail = N_(
        "No counselling service serves the patient's home municipality. Name a service explicitly."
    )


class GuardianConsentForAdult(AppError):
    status = 422
    code = "guardian_consent_for_adult"
    title = N_("The patient consents themselves")
    detail = N_("A guardian consents only for a patient under 18; an adult consents themselves.")


class ConsentRequired(AppError):
    status = 422
    code = "consent_required"
    title = N_("Consent required")
    detail = N_("The patient's consent to counselling is required to send the referral.")


class UnknownReasonCode(AppError):
    status = 422
    code = "unknown_reason_code"
    title = N_("Unknown reason code")
    detail = N_("The reason code is not on the list of valid reasons for this action.")
    audit_outcome = "refused"
