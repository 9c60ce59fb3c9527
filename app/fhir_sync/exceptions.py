from __future__ import annotations

from app.errors import AppError
from app.i18n import N_


class InvalidFhirResource(AppError):
    status = 422
    code = "invalid_fhir_resource"
    title = N_("Invalid FHIR resource")
    detail = N_("The resource is not valid FHIR R4 or lacks what a referral needs: {reason}.")


class UnknownRequester(AppError):
    status = 422
    code = "unknown_requester"
    title = N_("Unknown requester")
    detail = N_("The requesting clinician has no active account in Askel.")


class UnregisteredPatient(AppError):
    status = 422
    code = "unregistered_patient"
    title = N_("Patient not registered")
    detail = N_(
        "The patient is not registered in Askel. Send the Patient in the same transaction bundle."
    )
