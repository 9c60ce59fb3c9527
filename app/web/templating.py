"""Templates, in the reader's language and in Finnish formats: dates `29.11.2026`, times
`klo 8.00` / `kl. 8.00`, weeks from Monday, Helsinki time. Texts are the catalogs' English
message ids, translated by `_()` in the templates; a page's strings are never built in Python."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import HTMLResponse

from app.i18n import LANGUAGES, N_, Language, negotiate_language, translate
from app.kit.clock import HELSINKI
from app.web import sessions
from app.web.csrf import csrf_token

TEMPLATES = Path(__file__).resolve().parent / "templates"
# Scripts and styles only from Askel itself, never inline; forms post only to Askel.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
ROLE_NAMES: Mapping[str, str] = {
    "clinician": N_("Clinician"),
    "counsellor": N_("Counsellor"),
    "access_admin": N_("Access administrator"),
    "auditor": N_("Auditor"),
    "statistician": N_("Statistician"),
    "data_steward": N_("Data steward"),
    "integration": N_("Integration"),
}
LANGUAGE_NAMES: Mapping[Language, str] = {"fi": "suomi", "sv": "svenska", "en": "English"}
_TIME_PREFIX: Mapping[Language, str] = {"fi": "klo ", "sv": "kl. ", "en": ""}

environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@pass_context
def _place(context: Context, stored: str) -> str:
    """A place a time carries by name, in the page's language where the page was given the
    names (`place_names`); as stored otherwise."""
    names = context.get("place_names") or {}
    return str(names.get(stored, stored))


environment.globals["place"] = _place


def page_language(request: Request) -> Language:
    """The language chosen in this session, else the browser's preference."""
    chosen = sessions.current(request).data.get("language")
    if chosen in LANGUAGES:
        return chosen  # type: ignore[no-any-return]
    return negotiate_language(request.headers.get("accept-language"))


def finnish_date(value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(HELSINKI).date()
    return f"{value.day}.{value.month}.{value.year}"


def clock_time(value: datetime, language: Language) -> str:
    local = value.astimezone(HELSINKI)
    separator = ":" if language == "en" else "."
    return f"{_TIME_PREFIX[language]}{local.hour}{separator}{local.minute:02d}"


def _formats(language: Language) -> dict[str, Any]:
    def date_and_time(value: datetime) -> str:
        return f"{finnish_date(value)} {clock_time(value, language)}"

    def weekday(value: date) -> str:
        return format_date(value, "EEEE", locale=language)

    def gettext(message: str, **params: object) -> str:
        return translate(message, language, **params)

    def role_name(role: str) -> str:
        return gettext(ROLE_NAMES.get(role, role))

    return {
        "_": gettext,
        "role_name": role_name,
        "date": finnish_date,
        "time": lambda value: clock_time(value, language),
        "date_and_time": date_and_time,
        "weekday": weekday,
    }


def formats_in(language: Language) -> dict[str, Any]:
    """The texts and formats of another language than the reader's, for a sheet written for
    the patient (`_`, the dates and times, and the page's `language`)."""
    return {**_formats(language), "language": language}


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = None,
    policy: str = PAGE_POLICY,
) -> HTMLResponse:
    """The page (or, for htmx, one `block` of it) in the reader's language."""
    language = page_language(request)
    values = {
        "request": request,
        "language": language,
        "languages": LANGUAGE_NAMES,
        "csrf": csrf_token(request),
        "principal": getattr(request.state, "principal", None),
        # What the last change did, said once on the page it led to.
        "flash": sessions.current(request).data.pop("flash", None),
        **_formats(language),
        **(context or {}),
    }
    loaded = environment.get_template(template)
    if block is None:
        html = loaded.render(values)
    else:
        html = "".join(loaded.blocks[block](loaded.new_context(values)))
    framing = request.app.state.settings.frame_origins
    if framing:
        # Only the configured patient systems may show the pages in a frame.
        policy = policy.replace("frame-ancestors 'none'", f"frame-ancestors {' '.join(framing)}")
    headers = {"Content-Security-Policy": policy, "Content-Language": language}
    return HTMLResponse(html, status_code=status_code, headers=headers)
