from __future__ import annotations

from app.errors import AppError
from app.i18n import N_


class NotAMinor(AppError):
    status = 422
    code = "not_a_minor"
    title = N_("Not a minor")
    detail = N_(
        "Guardians are recorded for patients under 18. An adult's representative is not"
        " recorded here."
    )
