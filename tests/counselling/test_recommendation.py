"""The national physical activity recommendation (UKK Institute 2019) as a pure rule."""

from __future__ import annotations

import pytest

from app.counselling.recommendation import in_words, moderate_equivalent, standing


@pytest.mark.parametrize(
    ("moderate", "vigorous", "equivalent", "short"),
    [
        (150, None, 150, 0),  # exactly the recommendation
        (149, 0, 149, 1),
        (None, 75, 150, 0),  # 75 vigorous minutes are worth 150 moderate
        (None, 74, 148, 2),
        (60, 45, 150, 0),  # a mix: 60 + 2 x 45
        (30, 20, 70, 80),
        (0, 0, 0, 150),
        (300, 100, 500, 0),
    ],
)
def test_aerobic_minutes_count_vigorous_double(
    moderate: int | None, vigorous: int | None, equivalent: int, short: int
) -> None:
    found = standing(moderate, vigorous, None)
    assert (found.moderate_equivalent_minutes, found.aerobic_minutes_short) == (equivalent, short)
    assert found.meets_aerobic is (short == 0)


def test_nothing_recorded_is_no_standing_rather_than_zero() -> None:
    found = standing(None, None, None)
    assert moderate_equivalent(None, None) is None
    assert (found.moderate_equivalent_minutes, found.meets_aerobic) == (None, None)
    assert (found.strength_days, found.meets_strength) == (None, None)


@pytest.mark.parametrize(("days", "short"), [(0, 2), (1, 1), (2, 0), (7, 0)])
def test_strength_on_two_days_a_week(days: int, short: int) -> None:
    found = standing(None, None, days)
    assert (found.strength_days_short, found.meets_strength) == (short, short == 0)


def test_the_standing_in_three_languages() -> None:
    short = standing(100, None, 1)
    assert in_words(short, "en") == [
        "50 minutes a week short of the aerobic activity recommendation "
        "(100 of 150 minutes a week; a vigorous minute counts double).",
        "1 days a week short of the muscle-strengthening recommendation (1 of 2 days a week).",
    ]
    assert in_words(short, "fi")[0].startswith("Kestävyysliikunnan suosituksesta puuttuu 50")
    assert in_words(short, "sv")[1].startswith("1 dagar i veckan saknas")
    met = standing(None, 75, 2)
    assert in_words(met, "en") == [
        "Meets the aerobic activity recommendation (150 of 150 minutes a week).",
        "Meets the muscle-strengthening recommendation (2 of 2 days a week).",
    ]
    assert in_words(met, "fi")[0].startswith("Täyttää kestävyysliikunnan")
    assert in_words(standing(None, None, None), "sv") == [
        "Konditionsmotion per vecka har inte antecknats.",
        "Dagar med muskelstärkande träning har inte antecknats.",
    ]
