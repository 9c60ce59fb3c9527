from __future__ import annotations

from app.errors import AppError
from app.i18n import N_


class NoConsentToStudy(AppError):
    status = 403
    code = "research_consent_missing"
    title = N_("No consent to research use")
    detail = N_(
        "No client has a consent to this study in force. Data recorded in counselling are used "
        "for research only with the client's consent."
    )
    audit_outcome = "refused"
