"""Cursor pagination: `?limit=&cursor=` in, `{"items": [...], "next_cursor": ...}` out.

A cursor is the sort key of the last item shown, opaque to clients (URL-safe base64 JSON), so
that a page never skips or repeats rows when new ones arrive.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from app.errors import AppError
from app.i18n import N_

Item = TypeVar("Item")
Key = TypeVar("Key", bound=BaseModel)

Limit = Annotated[int, Query(ge=1, le=100, description="Items per page.")]
Cursor = Annotated[
    str | None, Query(max_length=500, description="`next_cursor` of the previous page.")
]


class InvalidCursor(AppError):
    status = 422
    code = "invalid_cursor"
    title = N_("Invalid cursor")
    detail = N_("The cursor is not one this service gave out.")


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    next_cursor: str | None


def encode_cursor(key: BaseModel) -> str:
    return base64.urlsafe_b64encode(key.model_dump_json().encode()).decode()


def decode_cursor(cursor: str, shape: type[Key]) -> Key:
    """The sort key a cursor carries, checked against its shape: a forged one is a 422."""
    try:
        return shape.model_validate_json(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeError):
        raise InvalidCursor() from None
