"""Lists: every one answers `{"items": [...], "next_cursor": ...}`; one that can grow takes
`?limit=&cursor=` and is read a page at a time.

A cursor is the sort key of the last item shown, opaque to clients (URL-safe base64 JSON), so
that a page never skips or repeats rows when new ones arrive. A page is read as `limit + 1`
rows: the extra one only tells that more follow, and is neither shown nor audited.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from app.errors import AppError
from app.i18n import N_
from app.kit.types import LocalDateTime

Item = TypeVar("Item")
Row = TypeVar("Row")
Key = TypeVar("Key", bound=BaseModel)
Id = TypeVar("Id")
KeyColumn = ColumnElement[Any] | InstrumentedAttribute[Any]

Cursor = Annotated[
    str | None, Query(max_length=500, description="`next_cursor` of the previous page.")
]


def page_size(most: int) -> Any:
    """The `limit` query parameter of a list: `limit: Annotated[int, page_size(200)] = 50`."""
    return Query(ge=1, le=most, description=f"Items per page, at most {most}.")


Limit = Annotated[int, page_size(100)]


class InvalidCursor(AppError):
    status = 422
    code = "invalid_cursor"
    title = N_("Invalid cursor")
    detail = N_("The cursor is not one this service gave out.")


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    next_cursor: str | None = Field(
        description="Send as `cursor` for the next page; null on the last page (and for lists "
        "that are never more than one page)."
    )


@dataclass(frozen=True, slots=True)
class Window(Generic[Row]):
    """The rows of one page, and whether more follow."""

    rows: list[Row]
    more: bool

    @classmethod
    def of(cls, read: Sequence[Row], limit: int) -> Window[Row]:
        """The page among `limit + 1` rows read."""
        return cls(list(read[:limit]), len(read) > limit)

    def next_cursor(self, key: Callable[[Row], BaseModel]) -> str | None:
        return encode_cursor(key(self.rows[-1])) if self.more else None


class TimeAndId(BaseModel, Generic[Id]):
    """The sort key of a list ordered by a time, then an id (a bounded type: a forged cursor
    is refused, never carried to the database)."""

    model_config = ConfigDict(extra="forbid")

    t: LocalDateTime
    i: Id


def after_time_and_id(cursor: str | None, id_type: type[Id]) -> tuple[datetime, Id] | None:
    """The sort key that a `cursor` of such a list carries; None for the first page."""
    if cursor is None:
        return None
    key = decode_cursor(cursor, TimeAndId[id_type])  # type: ignore[valid-type]
    return key.t, key.i


def encode_cursor(key: BaseModel) -> str:
    return base64.urlsafe_b64encode(key.model_dump_json().encode()).decode()


def decode_cursor(cursor: str, shape: type[Key]) -> Key:
    """The sort key a cursor carries, checked against its shape: a forged one is a 422."""
    try:
        return shape.model_validate_json(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeError):
        raise InvalidCursor() from None


def beyond(*key: tuple[KeyColumn, Any, bool]) -> ColumnElement[bool]:
    """The rows that come after the one whose sort key is `key`, given in the list's order as
    (column, its value in that row, descending)."""
    (column, value, descending), *rest = key
    past: ColumnElement[bool] = column < value if descending else column > value
    if not rest:
        return past
    return or_(past, and_(column == value, beyond(*rest)))
