"""The national physical activity recommendation for adults (UKK Institute, weekly
recommendation 2019): at least 150 minutes a week of moderate aerobic activity or 75 minutes
of vigorous, or a mix of the two in which a vigorous minute counts as two moderate ones; muscle
strengthening (and balance) on at least two days a week; less prolonged sitting.

Pure: the plan's recorded level in, where it stands against the recommendation out."""

from __future__ import annotations

from dataclasses import dataclass

from app.i18n import N_, Language, translate

AEROBIC_MINUTES = 150
# A vigorous minute is worth two moderate ones: 75 vigorous minutes meet the recommendation.
VIGOROUS_WEIGHT = 2
STRENGTH_DAYS = 2


@dataclass(frozen=True)
class Standing:
    """Where a weekly level stands; None where nothing was recorded to judge by."""

    moderate_equivalent_minutes: int | None
    aerobic_minutes_short: int | None
    strength_days: int | None
    strength_days_short: int | None

    @property
    def meets_aerobic(self) -> bool | None:
        return None if self.aerobic_minutes_short is None else self.aerobic_minutes_short == 0

    @property
    def meets_strength(self) -> bool | None:
        return None if self.strength_days_short is None else self.strength_days_short == 0


def moderate_equivalent(moderate: int | None, vigorous: int | None) -> int | None:
    """Moderate plus twice vigorous minutes a week; a part not recorded counts as none, and
    nothing recorded is no level at all."""
    if moderate is None and vigorous is None:
        return None
    return (moderate or 0) + VIGOROUS_WEIGHT * (vigorous or 0)


def standing(moderate: int | None, vigorous: int | None, strength_days: int | None) -> Standing:
    equivalent = moderate_equivalent(moderate, vigorous)
    return Standing(
        moderate_equivalent_minutes=equivalent,
        aerobic_minutes_short=None if equivalent is None else max(0, AEROBIC_MINUTES - equivalent),
        strength_days=strength_days,
        strength_days_short=None
        if strength_days is None
        else max(0, STRENGTH_DAYS - strength_days),
    )


MEETS_AEROBIC = N_("Meets the aerobic activity recommendation ({minutes} of 150 minutes a week).")
SHORT_OF_AEROBIC = N_(
    "{short} minutes a week short of the aerobic activity recommendation "
    "({minutes} of 150 minutes a week; a vigorous minute counts double)."
)
AEROBIC_UNKNOWN = N_("Weekly aerobic activity not recorded.")
MEETS_STRENGTH = N_("Meets the muscle-strengthening recommendation ({days} of 2 days a week).")
SHORT_OF_STRENGTH = N_(
    "{short} days a week short of the muscle-strengthening recommendation "
    "({days} of 2 days a week)."
)
STRENGTH_UNKNOWN = N_("Days of muscle strengthening not recorded.")


def in_words(found: Standing, language: Language) -> list[str]:
    """The standing as sentences in the given language: aerobic activity, then strength."""
    aerobic = (AEROBIC_UNKNOWN, MEETS_AEROBIC, SHORT_OF_AEROBIC)
    strength = (STRENGTH_UNKNOWN, MEETS_STRENGTH, SHORT_OF_STRENGTH)
    return [
        _sentence(aerobic, "minutes", found.moderate_equivalent_minutes,
                  found.aerobic_minutes_short, language),
        _sentence(strength, "days", found.strength_days, found.strength_days_short, language),
    ]  # fmt: skip


def _sentence(
    texts: tuple[str, str, str], unit: str, level: int | None, short: int | None, language: Language
) -> str:
    """Not recorded, met, or short by how much: the level is named by `unit` in the texts."""
    unknown, meets, short_of = texts
    if level is None or short is None:
        return translate(unknown, language)
    if short == 0:
        return translate(meets, language, **{unit: level})
    return translate(short_of, language, short=short, **{unit: level})
