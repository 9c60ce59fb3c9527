from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

Group = Literal[
    "month", "quarter", "year", "region", "municipality", "service", "contact_type",
    "counsellor_profession", "referrer_profession", "age_band", "sex", "language",
]  # fmt: skip
Count = int | Literal["<5"]


class VisitCell(BaseModel):
    groups: dict[str, str | None] = Field(description="The value of each grouping, by name.")
    visits: Count
    patients: Count = Field(description="Distinct patients; 1-4 are shown as <5.")


class VisitStatistics(BaseModel):
    visited_from: date
    visited_to: date
    scope: str = Field(description="The region, or the municipality whose residents are counted.")
    group_by: list[Group]
    total: VisitCell
    cells: list[VisitCell]
