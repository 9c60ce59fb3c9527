from __future__ import annotations

from app.errors import AppError
from app.i18n import N_


class ReferralNotInCounselling(AppError):
    status = 409
    code = "referral_not_in_counselling"
    title = N_("Counselling has not begun")
    detail = N_("Visits and plans are recorded for accepted referrals that are not yet closed.")


class VisitAlreadyCorrected(AppError):
    status = 409
    code = "visit_already_corrected"
    title = N_("Already corrected")
    detail = N_("This record has been corrected already; correct the newest version.")


class AppointmentOfAnotherReferral(AppError):
    status = 422
    code = "appointment_of_another_referral"
    title = N_("Appointment of another referral")
    detail = N_("The appointment does not belong to this referral.")


class PlanVersionNotFound(AppError):
    status = 404
    code = "plan_version_not_found"
    title = N_("No such plan version")
    detail = N_("The referral has no activity plan, or no plan of that version.")
