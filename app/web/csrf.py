"""Cross-site request forgery: one random token per session, in every form as a hidden field and
in htmx's requests as a header; a page changes state only by POST, and only with the token."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends
from starlette.datastructures import FormData
from starlette.requests import Request

from app.errors import AppError
from app.i18n import N_
from app.web import sessions

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"


class CsrfRefused(AppError):
    status = 403
    code = "csrf_token_invalid"
    title = N_("The form has expired")
    detail = N_("The form was not sent from this session. Open the page again and resend it.")


def csrf_token(request: Request) -> str:
    data = sessions.current(request).data
    token = data.get("csrf")
    if not isinstance(token, str):
        token = data["csrf"] = secrets.token_urlsafe(32)
    return token


async def checked_form(request: Request) -> FormData:
    """The posted form, once its token has been found to be this session's."""
    form = await request.form()
    sent = form.get(FIELD) or request.headers.get(HEADER)
    expected = sessions.current(request).data.get("csrf")
    if not (
        isinstance(sent, str)
        and isinstance(expected, str)
        and hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise CsrfRefused()
    return form


# A page's posted form, its token checked; usable by a page that is a plain function.
CheckedForm = Annotated[FormData, Depends(checked_form)]
