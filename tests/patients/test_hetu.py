"""The personal identity code: every century sign, the check character, impossible dates."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.patients.hetu import (
    CENTURIES,
    CHECK_CHARACTERS,
    InvalidHetu,
    check_character,
    make_hetu,
    parse_hetu,
)

TODAY = date(2026, 11, 28)

birth_dates = st.dates(min_value=date(1800, 1, 1), max_value=TODAY)
individual_numbers = st.integers(min_value=2, max_value=999)


@st.composite
def codes(draw: st.DrawFn) -> tuple[str, date, int]:
    birth_date = draw(birth_dates)
    century = birth_date.year // 100 * 100
    sign = draw(st.sampled_from([s for s, c in CENTURIES.items() if c == century]))
    number = draw(individual_numbers)
    return make_hetu(birth_date, number, century_sign=sign), birth_date, number


@settings(deadline=None, max_examples=300)
@given(codes())
def test_every_valid_code_parses_back(code: tuple[str, date, int]) -> None:
    value, birth_date, number = code
    hetu = parse_hetu(value, today=TODAY)
    assert hetu.value == value
    assert hetu.birth_date == birth_date
    assert hetu.individual_number == number
    assert hetu.sex == ("male" if number % 2 else "female")
    assert hetu.is_temporary == (number >= 900)


@settings(deadline=None)
@given(codes(), st.sampled_from(CHECK_CHARACTERS))
def test_any_other_check_character_is_refused(code: tuple[str, date, int], other: str) -> None:
    value = code[0]
    if other == value[-1]:
        return
    with pytest.raises(InvalidHetu) as refused:
        parse_hetu(value[:-1] + other, today=TODAY)
    assert refused.value.reason == "check_character"


@settings(deadline=None)
@given(codes(), st.sampled_from([" ", "\t", "\n", "  \n"]))
def test_surrounding_whitespace_and_lower_case_are_accepted(
    code: tuple[str, date, int], space: str
) -> None:
    value = code[0]
    assert parse_hetu(f"{space}{value.lower()}{space}", today=TODAY).value == value


@pytest.mark.parametrize("sign", sorted(CENTURIES))
def test_each_century_sign(sign: str) -> None:
    year = CENTURIES[sign] + 1 if CENTURIES[sign] == 2000 else CENTURIES[sign] + 52
    value = make_hetu(date(year, 10, 13), 308, century_sign=sign)
    assert value[6] == sign
    assert parse_hetu(value, today=TODAY).birth_date == date(year, 10, 13)


def test_a_known_code() -> None:
    hetu = parse_hetu("131052-308T", today=TODAY)
    assert (hetu.birth_date, hetu.sex, hetu.is_temporary) == (date(1952, 10, 13), "female", False)
    assert check_character("131052308") == "T"


@pytest.mark.parametrize(
    ("digits", "sign"),
    [
        ("310299", "-"),  # 31 February
        ("290223", "-"),  # 1923 is not a leap year
        ("290200", "-"),  # 1900 is not a leap year
        ("001052", "-"),  # day 0
        ("131352", "-"),  # month 13
    ],
)
def test_impossible_dates_are_refused(digits: str, sign: str) -> None:
    nine = f"{digits}900"
    with pytest.raises(InvalidHetu) as refused:
        parse_hetu(f"{digits}{sign}900{check_character(nine)}", today=TODAY)
    assert refused.value.reason == "date"


def test_29_february_2000_exists() -> None:
    assert parse_hetu(make_hetu(date(2000, 2, 29), 900), today=TODAY).birth_date.day == 29


@pytest.mark.parametrize("number", ["000", "001"])
def test_individual_numbers_000_and_001_are_refused(number: str) -> None:
    with pytest.raises(InvalidHetu) as refused:
        parse_hetu(f"131052-{number}{check_character('131052' + number)}", today=TODAY)
    assert refused.value.reason == "individual_number"


def test_a_future_birth_date_is_refused() -> None:
    with pytest.raises(InvalidHetu) as refused:
        parse_hetu(make_hetu(date(2027, 1, 1), 900), today=TODAY)
    assert refused.value.reason == "future"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "format"),
        ("131052308T", "format"),
        ("131052-308", "format"),
        ("131052 -308T", "format"),
        ("131052- 308T", "format"),
        ("131052-308TT", "format"),
        ("1310520308T", "century_sign"),
        ("13105Z-308T", "format"),
        ("131052G308T", "century_sign"),
        ("131052Z308T", "century_sign"),
    ],
)
def test_malformed_codes_are_refused(value: str, reason: str) -> None:
    with pytest.raises(InvalidHetu) as refused:
        parse_hetu(value, today=TODAY)
    assert refused.value.reason == reason


@settings(deadline=None)
@given(st.text(max_size=30))
def test_arbitrary_text_is_refused_cleanly_or_parsed(text: str) -> None:
    try:
        parse_hetu(text, today=TODAY)
        return
    except InvalidHetu as refused:
        message = str(refused)
    assert text.strip() == "" or text.strip().upper() not in message


def test_the_code_never_shows_in_errors_or_reprs() -> None:
    hetu = parse_hetu("131052-308T", today=TODAY)
    assert "131052" not in repr(hetu)
    assert "131052" not in str(hetu)
    with pytest.raises(InvalidHetu) as refused:
        parse_hetu("131052-308U", today=TODAY)
    assert "131052" not in str(refused.value)
    assert "131052" not in repr(refused.value)


def test_make_hetu_refuses_a_sign_of_another_century() -> None:
    with pytest.raises(ValueError, match="century sign"):
        make_hetu(date(1999, 1, 1), 900, century_sign="A")
    with pytest.raises(ValueError, match="individual number"):
        make_hetu(date(1999, 1, 1), 1)
