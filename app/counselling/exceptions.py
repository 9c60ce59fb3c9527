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


class RecordDatedOutsideReferral(AppError):
    status = 422
    code = "dated_outside_referral"
    title = N_("Date outside the referral")
    detail = N_(
        "A visit or a plan must be dated between the day the referral was sent ({sent_on}) "
        "and today ({today})."
    )


class AppointmentNotAttended(AppError):
    status = 409
    code = "appointment_not_attended"
    title = N_("The appointment was not held")
    detail = N_("A visit cannot be recorded for an appointment that was cancelled or missed.")


class AppointmentHasVisit(AppError):
    status = 409
    code = "appointment_has_visit"
    title = N_("The appointment has a visit")
    detail = N_("A visit is recorded for this appointment already: correct that record instead.")


class CorrectionDropsFields(AppError):
    status = 422
    code = "correction_drops_fields"
    title = N_("The correction would erase recorded data")
    detail = N_(
        "A correction is the whole record as it should stand. It leaves out fields that the "
        "record holds ({fields}): send them as they are, or as null to remove them."
    )
