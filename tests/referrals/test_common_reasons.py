"""The common reasons on the referral form are THL's codes with the dates they are valid for:
the form offers those valid today, and a lapsed one is still named where a referral has it."""

from __future__ import annotations

from datetime import date

from app.kit.clock import today_in_helsinki
from app.referrals.common_reasons import COMMON_REASONS, named, offered


def test_every_common_reason_is_valid_today_and_named_in_each_language() -> None:
    assert offered(today_in_helsinki()) == COMMON_REASONS
    for reason in COMMON_REASONS:
        assert all(reason.name(language) for language in ("fi", "sv", "en"))


def test_a_reason_is_offered_only_within_its_dates() -> None:
    # ICPC-2 is on THL's code server until the end of 2030; COPD's code came in 1998.
    later = {reason.code for reason in offered(date(2031, 1, 1))}
    assert {"T90", "T82", "K86"}.isdisjoint(later)
    assert "E11.9" in later
    assert "J44.9" not in {reason.code for reason in offered(date(1997, 1, 1))}
    # A referral keeps the reasons it was sent with: a lapsed one keeps its name.
    assert named("icpc2", "T90", "sv") == "Diabetes, typ 2"
    assert named("icd10", "Z99.9", "fi") is None
