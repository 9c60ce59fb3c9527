from __future__ import annotations

from app.errors import AppError
from app.i18n import N_


class NotACounsellorOfTheService(AppError):
    status = 422
    code = "not_a_counsellor_of_the_service"
    title = N_("Not a counsellor of the service")
    detail = N_("Access to a service can be granted only to a counsellor working in it.")


class GrantNotAttestable(AppError):
    status = 409
    code = "grant_not_attestable"
    title = N_("Cannot be attested")
    detail = N_("The grant has been attested or revoked already.")
