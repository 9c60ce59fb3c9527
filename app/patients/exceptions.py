from __future__ import annotations

from app.errors import AppError
from app.i18n import N_

HETU_REASONS = {
    "format": N_("it is not in the form DDMMYYCNNNT"),
    "century_sign": N_("the century sign is not one of + - Y X W V U A B C D E F"),
    "date": N_("the birth date it contains does not exist"),
    "individual_number": N_("the individual number is not valid"),
    "check_character": N_("the check character does not match"),
    "future": N_("the birth date it contains is in the future"),
}


class InvalidHetuError(AppError):
    status = 422
    code = "invalid_hetu"
    title = N_("Invalid personal identity code")
    detail = N_("The personal identity code is not valid: {reason}.")


class PatientExists(AppError):
    status = 409
    code = "patient_exists"
    title = N_("Patient already registered")
    detail = N_("A patient with this personal identity code is already registered.")
    audit_outcome = "conflict"


class AnotherIdentityCode(AppError):
    status = 409
    code = "another_identity_code"
    title = N_("Patient already identified")
    detail = N_(
        "The patient registered under this temporary identifier has another personal identity"
        " code already."
    )
    audit_outcome = "conflict"
