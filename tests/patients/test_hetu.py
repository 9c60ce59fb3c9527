"""The personal identity code: every century sign, the check character, impossible dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
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
REASONS = ("format", "century_sign", "date", "individual_number", "check_character", "future")

birth_dates = st.dates(min_value=date(1800, 1, 1), max_value=TODAY)
individual_numbers = st.integers(min_value=2, max_value=999)


@st.composite
def codes(draw: st.DrawFn) -> tuple[str, date, int]:
    birth_date = draw(birth_dates)
    century = birth_date.year // 100 * 100
    sign = draw(st.sampled_from([s for s, c in CENTURIES.items() if c == century]))
    number = draw(individual_numbers)
    return make_hetu(birth_date, number, century_sign=sign), birth_date, number


def refusal(value: str, today: date | None = TODAY) -> str:
    with pytest.raises(InvalidHetu) as refused:
        parse_hetu(value, today=today)
    if value.strip():
        assert value.strip() not in str(refused.value)
    return refused.value.reason


@settings(deadline=None, max_examples=300)
@given(codes())
def test_every_valid_code_parses_back(code: tuple[str, date, int]) -> None:
    value, birth_date, number = code
    hetu = parse_hetu(value, today=TODAY)
    assert hetu.value == value
    assert hetu.birth_date == birth_date
    assert hetu.individual_number == number
    # The reform stops the individual number telling the sex: nothing reads one from it.
    assert not hasattr(hetu, "sex")
    assert hetu.is_temporary == (number >= 900)
    assert value not in repr(hetu)
    assert value not in str(hetu)
    assert value[:6] not in f"{hetu!r} {hetu!s}"


@settings(deadline=None)
@given(codes(), st.sampled_from(CHECK_CHARACTERS))
def test_any_other_check_character_is_refused(code: tuple[str, date, int], other: str) -> None:
    value = code[0]
    assume(other != value[-1])
    assert refusal(value[:-1] + other) == "check_character"


@settings(deadline=None)
@given(codes(), st.sampled_from([" ", "\t", "\n", "  \r\n"]))
def test_surrounding_whitespace_and_lower_case_are_accepted(
    code: tuple[str, date, int], space: str
) -> None:
    value = code[0]
    assert parse_hetu(f"{space}{value.lower()}{space}", today=TODAY).value == value


@settings(deadline=None)
@given(codes(), st.integers(min_value=1, max_value=10), st.sampled_from([" ", "\t", "\u00a0"]))
def test_internal_whitespace_is_refused(code: tuple[str, date, int], at: int, space: str) -> None:
    value = code[0]
    assert refusal(value[:at] + space + value[at:]) == "format"
    assert refusal(value[:at] + space + value[at + 1 :]) == "format"


@settings(deadline=None)
@given(codes(), st.integers(min_value=0, max_value=10), st.text("0123456789A", min_size=1))
def test_wrong_lengths_are_refused(code: tuple[str, date, int], keep: int, extra: str) -> None:
    value = code[0]
    assert refusal(value[:keep]) == "format"
    assert refusal(value + extra) == "format"


# Written out rather than taken from CENTURIES, so that a sign missing there is noticed.
@pytest.mark.parametrize(
    ("sign", "year"),
    [("+", 1852)] + [(sign, 1952) for sign in "-YXWVU"] + [(sign, 2001) for sign in "ABCDEF"],
)
def test_each_century_sign(sign: str, year: int) -> None:
    value = make_hetu(date(year, 10, 13), 308, century_sign=sign)
    assert value[6] == sign
    assert parse_hetu(value, today=TODAY).birth_date == date(year, 10, 13)
    assert parse_hetu(value.lower(), today=TODAY).value == value


def test_no_other_century_signs() -> None:
    assert sorted(CENTURIES) == sorted("+-YXWVUABCDEF")


def test_the_1900s_signs_all_mean_the_same_date() -> None:
    variants = [f"131052{sign}308T" for sign in "-YXWVU"]
    assert {parse_hetu(v, today=TODAY).birth_date for v in variants} == {date(1952, 10, 13)}


def test_a_known_code() -> None:
    hetu = parse_hetu("131052-308T", today=TODAY)
    assert hetu.birth_date == date(1952, 10, 13)
    assert hetu.individual_number == 308
    assert not hetu.is_temporary
    assert hetu.value == "131052-308T"
    assert check_character("131052308") == "T"


def test_temporary_numbers() -> None:
    hetu = parse_hetu(make_hetu(date(1990, 5, 1), 901), today=TODAY)
    assert hetu.is_temporary
    assert not parse_hetu(make_hetu(date(1990, 5, 1), 899), today=TODAY).is_temporary


def coded(digits: str, sign: str, number: str = "900") -> str:
    return f"{digits}{sign}{number}{check_character(digits + number)}"


@pytest.mark.parametrize(
    ("digits", "sign"),
    [
        ("310299", "-"),  # 31 February
        ("290223", "-"),  # 1923 is not a leap year
        ("290200", "-"),  # 1900 is not a leap year
        ("290223", "A"),  # nor 2023
        ("001052", "-"),  # day 0
        ("131352", "-"),  # month 13
        ("130052", "-"),  # month 0
        ("310452", "-"),  # 31 April
    ],
)
def test_impossible_dates_are_refused(digits: str, sign: str) -> None:
    assert refusal(coded(digits, sign)) == "date"


def test_29_february_2000_exists() -> None:
    assert parse_hetu(coded("290200", "A"), today=TODAY).birth_date == date(2000, 2, 29)
    assert parse_hetu(coded("290296", "-"), today=TODAY).birth_date == date(1996, 2, 29)


@pytest.mark.parametrize("number", ["000", "001"])
def test_individual_numbers_000_and_001_are_refused(number: str) -> None:
    assert refusal(coded("131052", "-", number)) == "individual_number"


def test_the_individual_number_002_is_fine() -> None:
    assert parse_hetu(coded("131052", "-", "002"), today=TODAY).individual_number == 2


def test_a_future_birth_date_is_refused() -> None:
    assert parse_hetu(make_hetu(TODAY, 900), today=TODAY).birth_date == TODAY
    assert refusal(make_hetu(TODAY + timedelta(days=1), 900)) == "future"


def test_today_defaults_to_the_real_date() -> None:
    assert parse_hetu("131052-308T").birth_date == date(1952, 10, 13)
    assert refusal(make_hetu(date(2099, 12, 31), 900), today=None) == "future"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "format"),
        ("   ", "format"),
        ("131052308T", "format"),
        ("131052-308", "format"),
        ("131052 -308T", "format"),
        ("131052 308T", "format"),
        ("131052-308TT", "format"),
        ("13105Z-308T", "format"),
        ("131052-3O8T", "format"),
        ("131052-308!", "format"),
        ("\u0661\u06631052-308T", "format"),  # Arabic-Indic digits, which int() would accept
        ("131052-028\u017f", "format"),  # long s, which upper() turns into "S"
        ("131052\u2013308T", "format"),  # en dash is not ASCII
        ("1310520308T", "century_sign"),
        ("131052G308T", "century_sign"),
        ("131052Z308T", "century_sign"),
        ("131052*308T", "century_sign"),
    ],
)
def test_malformed_codes_are_refused(value: str, reason: str) -> None:
    assert refusal(value) == reason


def test_the_long_s_case_would_otherwise_be_a_valid_code() -> None:
    assert parse_hetu("131052-028S", today=TODAY).individual_number == 28


@settings(deadline=None)
@given(st.text(max_size=30))
def test_arbitrary_text_is_refused_cleanly_or_parsed(text: str) -> None:
    try:
        outcome = parse_hetu(text, today=TODAY).value
    except InvalidHetu as refused:
        outcome = str(refused)
    assert outcome in (
        text.strip().upper(),
        *(f"invalid personal identity code: {r}" for r in REASONS),
    )


def test_the_code_never_shows_in_errors_or_reprs() -> None:
    hetu = parse_hetu("131052-308T", today=TODAY)
    assert repr(hetu) == str(hetu) == "Hetu(<redacted>)"
    assert "131052" not in repr([hetu])
    with pytest.raises(InvalidHetu) as refused:
        parse_hetu("131052-308U", today=TODAY)
    assert "131052" not in str(refused.value)
    assert "131052" not in repr(refused.value)
    assert refused.value.__cause__ is None
    assert refused.value.__context__ is None


def test_a_date_error_does_not_chain_the_code() -> None:
    with pytest.raises(InvalidHetu) as refused:
        parse_hetu(coded("310299", "-"), today=TODAY)
    assert refused.value.__suppress_context__


@pytest.mark.parametrize(
    "digits", ["13105230", "1310523080", " 31052308", "1_1052308", "\u066131052308"]
)
def test_check_character_wants_nine_ascii_digits(digits: str) -> None:
    with pytest.raises(ValueError, match="nine digits"):
        check_character(digits)


def test_make_hetu_refuses_what_cannot_be_coded() -> None:
    with pytest.raises(ValueError, match="century sign 'A' is not for the 1900s"):
        make_hetu(date(1999, 1, 1), 900, century_sign="A")
    with pytest.raises(ValueError, match="century sign '-' is not for the 2000s"):
        make_hetu(date(2001, 1, 1), 900, century_sign="-")
    with pytest.raises(ValueError, match="no century sign exists for the 1700s"):
        make_hetu(date(1799, 12, 31), 900)
    with pytest.raises(ValueError, match="no century sign exists for the 2100s"):
        make_hetu(date(2100, 1, 1), 900)
    for number in (0, 1, 1000):
        with pytest.raises(ValueError, match="individual number"):
            make_hetu(date(1999, 1, 1), number)


def test_make_hetu_defaults() -> None:
    assert make_hetu(date(1899, 12, 31), 2)[6] == "+"
    assert make_hetu(date(1952, 10, 13), 308) == "131052-308T"
    assert make_hetu(date(2000, 1, 1), 2)[6] == "A"
