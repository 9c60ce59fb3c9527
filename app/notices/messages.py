"""The texts of notices, in the patient's language. They say when and where, never why: an SMS
is read on a lock screen.

A patient registered with a language Askel has no texts in (Arabic, Russian, …) gets the notice in
Finnish and in Swedish, one after the other: the region serves in both national languages, the
register tells us no second language of theirs, and which of the two they read is not ours to
guess. A language Askel has (fi, sv, en, in any spelling such as `sv-FI`) is always used."""

from __future__ import annotations

from collections.abc import Callable
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
# For a language without texts: both national languages (see above).
NATIONAL: tuple[Language, ...] = ("fi", "sv")


def notice_languages(language: str) -> tuple[Language, ...]:
    """The languages a notice to a patient registered with `language` is written in."""
    primary = language.strip().lower().replace("_", "-").split("-")[0]
    return next(((known,) for known in LANGUAGES if known == primary), NATIONAL)


def render(kind: str, language: str, start_at: datetime, place: Callable[[Language], str]) -> str:
    """The notice, with the place named by `place` in each language it is written in."""
    local = start_at.astimezone(HELSINKI)
    day, time = f"{local:%d.%m.%Y}", f"{local:%H.%M}"
    return "\n".join(
        translate(TEXTS[kind], chosen, day=day, time=time, place=place(chosen))
        for chosen in notice_languages(language)
    )
