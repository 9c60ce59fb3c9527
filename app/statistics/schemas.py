from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

Group = Literal[
    "month", "quarter", "year", "region", "municipality", "service", "contact_type",
    "counsellor_profession", "referrer_profession", "age_band", "sex", "language",
    "thl_contact_type", "thl_service_class", "visit_order", "thl_occupation", "family_visit",
]  # fmt: skip
ReferralGroup = Literal[
    "month", "quarter", "year", "region", "municipality", "service", "referrer_profession",
    "age_band", "sex", "language",
]  # fmt: skip
Count = int | Literal["<5"]
# A median, percentile or rate: "not shown" when fewer than five people are behind it, none
# included.
Figure = float | Literal["not shown"]


class VisitCell(BaseModel):
    groups: dict[str, str | None] = Field(description="The value of each grouping, by name.")
    visits: Count = Field(
        description="Perturbed by at most 4 (the cell key method); under 5, zero too, shown as <5."
    )
    patients: Count = Field(description="Distinct patients, protected as visits are.")


class VisitStatistics(BaseModel):
    visited_from: date
    visited_to: date
    scope: str = Field(description="The region, or the municipality whose residents are counted.")
    group_by: list[Group]
    total: VisitCell
    cells: list[VisitCell]


FUNNEL = ("sent", "accepted", "rejected", "returned", "booked", "first_visit", "completed",
          "cancelled", "attended", "no_show")  # fmt: skip


class FunnelCell(BaseModel):
    groups: dict[str, str | None]
    counts: dict[str, Count] = Field(
        description="Referrals sent, accepted, rejected, returned, booked, seen at a first "
        "visit, completed and cancelled; appointments attended and missed (no_show)."
    )
    no_show_rate: Figure = Field(
        description="Missed appointments of those marked, from the protected counts; either "
        "count <5, or fewer than 5 patients: not shown."
    )
    waiting_days_median: Figure = Field(
        description="Days from sending to the first visit, of those seen (fewer than 5 "
        "patients: not shown).",
    )
    waiting_days_p90: Figure
    activity_change_median: Figure = Field(
        description="Minutes of activity a week, last assessment less first (two or more).",
    )


class ReferralStatistics(BaseModel):
    sent_from: date
    sent_to: date
    scope: str
    group_by: list[ReferralGroup]
    total: FunnelCell
    cells: list[FunnelCell]
