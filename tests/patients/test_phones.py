"""Phone numbers as Finns write them become E.164; what cannot be read as a number is None."""

from __future__ import annotations

import pytest

from app.patients.phones import to_e164


@pytest.mark.parametrize(("written", "e164"), [
    ("040 123 4567", "+358401234567"),
    ("0401234567", "+358401234567"),
    ("040-123 4567", "+358401234567"),
    ("040.123.4567", "+358401234567"),
    ("+358 40 1234567", "+358401234567"),
    ("+358401234567", "+358401234567"),
    ("+358 (0)40 123 4567", "+358401234567"),
    ("+358 040 123 4567", "+358401234567"),
    ("00358 40 123 4567", "+358401234567"),
    ("(09) 123 4567", "+35891234567"),
    ("09 123 4567", "+35891234567"),
    ("050 12345", "+3585012345"),
    (" 040 123 4567\u00a0", "+358401234567"),
    ("tel:+358-40-1234567", "+358401234567"),
    ("+46 70 123 45 67", "+46701234567"),
    ("0046 70 123 45 67", "+46701234567"),
])  # fmt: skip
def test_finnish_forms_become_e164(written: str, e164: str) -> None:
    assert to_e164(written) == e164


@pytest.mark.parametrize("written", [
    "",
    "0",
    "puh. 040 123 4567",
    "040 123 4567 ext 5",
    "401234567",  # neither trunk nor international prefix: no country is guessed
    "358401234567",
    "+358 12",
    "+358 1234 5678 9012 3",  # longer than a Finnish number can be
    "+0 40 123 4567",
    "0401234567890123",
    "+358 40 123 4567 / 050 765 4321",
])  # fmt: skip
def test_what_is_not_a_number_is_none(written: str) -> None:
    assert to_e164(written) is None
