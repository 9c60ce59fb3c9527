from __future__ import annotations

import pytest

from app.i18n import catalog, negotiate_language, translate


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "fi"),
        ("", "fi"),
        ("sv", "sv"),
        ("SV-se", "sv"),
        ("en-US,en;q=0.9", "en"),
        ("fr, de;q=0.8", "fi"),
        ("fi;q=0.2, sv;q=0.9, en;q=0.5", "sv"),
        ("sv;q=0, en", "en"),
        ("en;q=abc, sv", "sv"),
        ("en, sv", "en"),
    ],
)
def test_language_negotiation(header: str | None, expected: str) -> None:
    assert negotiate_language(header) == expected


def test_catalogs_load_from_gettext_files() -> None:
    assert catalog("fi")["Not found"] == "Ei löytynyt"
    assert catalog("sv")["Not found"] == "Hittades inte"


def test_translation_formats_parameters() -> None:
    text = "The bearer token was not accepted: {reason}."
    assert translate(text, "fi", reason="x") == "Tunnistetta ei hyväksytty: x."
    assert translate(text, "en", reason="x") == "The bearer token was not accepted: x."


def test_finnish_and_swedish_catalogs_hold_the_same_messages() -> None:
    assert set(catalog("fi")) == set(catalog("sv"))
