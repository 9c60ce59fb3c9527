"""Field types shared by the API's schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer

from app.kit.clock import to_helsinki


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a time needs its offset, e.g. 2026-03-30T09:00:00+03:00")
    return moment


# Stored in UTC, shown in Helsinki time with its offset (RFC 3339); input must carry an offset.
LocalDateTime = Annotated[
    datetime,
    AfterValidator(_aware),
    PlainSerializer(to_helsinki, return_type=str, when_used="json"),
]
