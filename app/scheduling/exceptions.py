from __future__ import annotations

from app.errors import AppError
from app.i18n import N_


class SlotUnavailable(AppError):
    status = 409
    code = "slot_unavailable"
    title = N_("Slot not available")
    detail = N_("The slot has just been taken or held by someone else. Choose another slot.")


class HoldExpired(AppError):
    status = 409
    code = "hold_expired"
    title = N_("Hold expired")
    detail = N_("The hold on the slot has expired or is not yours. Hold the slot again.")


class SlotOfAnotherService(AppError):
    status = 422
    code = "slot_of_another_service"
    title = N_("Slot of another service")
    detail = N_("The slot belongs to another counselling service than the referral.")


class ReferralNotBookable(AppError):
    status = 409
    code = "referral_not_bookable"
    title = N_("The referral cannot be booked")
    detail = N_("Appointments can be booked only for open referrals.")


class AppointmentNotBooked(AppError):
    status = 409
    code = "appointment_not_booked"
    title = N_("Appointment not booked")
    detail = N_("The appointment is no longer booked, so this is not possible.")


class AppointmentNotStarted(AppError):
    status = 409
    code = "appointment_not_started"
    title = N_("Appointment has not begun")
    detail = N_("An appointment can be marked attended or missed only once it has begun.")


class ModeNotOffered(AppError):
    status = 422
    code = "mode_not_offered"
    title = N_("Mode not offered")
    detail = N_("The slot is not offered in that mode.")


class TooManyHolds(AppError):
    status = 409
    code = "too_many_holds"
    title = N_("Too many holds")
    detail = N_("You are holding several slots already. Book or let them lapse first.")


class AppointmentsBooked(AppError):
    status = 409
    code = "appointments_booked"
    title = N_("Appointments still booked")
    detail = N_(
        "The referral has appointments still to come. Closing it cancels them: confirm with "
        "cancel_booked_appointments, or deal with them first."
    )


class HoldNotAllowed(AppError):
    status = 403
    code = "hold_not_allowed"
    title = N_("Not allowed to hold this slot")
    detail = N_(
        "A slot is held by the counsellors of its service, or for a referral sent to the "
        "service by those who may book for it: name the referral."
    )
    audit_outcome = "refused"
