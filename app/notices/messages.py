"""The texts of notices, in the patient's language. They say when and where, never why: an SMS
is read on a lock screen."""

from __future__ import annotations

from datetime import datetime

from app.i18n import LANGUAGES, N_, Language, translate
from app.kit.clock import HELSINKI

TEXTS = {
    "booked": N_("Physical-activity counselling: your appointment is on {day} at {time}, {place}."),
    "reminder": N_("Reminder: physical-activity counselling on {day} at {time}, {place}."),
    "cancelled": N_("Your counselling appointment on {day} at {time} is cancelled."),
    "rescheduled": N_(
        "Physical-activity counselling: your appointment is now {day} at {time}, {place}."
    ),
}


def render(kind: str, language: str, start_at: datetime, place: str) -> str:
    local = start_at.astimezone(HELSINKI)
    chosen: Language = language if language in LANGUAGES else "fi"
    return translate(
        TEXTS[kind], chosen, day=f"{local:%d.%m.%Y}", time=f"{local:%H.%M}", place=place
    )
