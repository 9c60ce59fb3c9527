"""Finnish, Swedish and English messages from gettext catalogs (`locales/<lang>/LC_MESSAGES`).

The message ids are the English texts; `N_` marks them where they are defined so that
`pybabel extract -k N_` finds them. Finnish is the default language of the service.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Final, Literal

from babel.messages.pofile import read_po

Language = Literal["fi", "sv", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("fi", "sv", "en")
DEFAULT_LANGUAGE: Final[Language] = "fi"
DOMAIN: Final = "askel"
LOCALES_DIR: Final = Path(__file__).parent / "locales"


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


@cache
def catalog(language: Language) -> dict[str, str]:
    path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return {}
    with path.open("rb") as po_file:
        parsed = read_po(po_file, locale=language)
    return {str(m.id): str(m.string) for m in parsed if m.id and m.string}


def translate(message: str, language: Language, **params: object) -> str:
    text = catalog(language).get(message, message)
    return text.format(**params) if params else text


def negotiate_language(accept_language: str | None) -> Language:
    """The best of fi/sv/en for an `Accept-Language` header (RFC 9110 weights); Finnish if none."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    best: tuple[float, int, Language] | None = None
    for position, item in enumerate(accept_language.split(",")):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if primary not in LANGUAGES or weight <= 0:
            continue
        candidate = (weight, -position, primary)
        if best is None or candidate > best:
            best = candidate
    return best[2] if best else DEFAULT_LANGUAGE
