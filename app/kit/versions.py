"""Optimistic concurrency over HTTP: a record's version is its `ETag`; writes send it back in
`If-Match`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from app.kit.types import INT64_MAX

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=40,
        description="The ETag of the record as last read; a stale one answers 412.",
    ),
]


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version an `If-Match` names (weak or strong); -1, which matches nothing, for one
    that names no version; None when there was none."""
    if if_match is None:
        return None
    digits = if_match.removeprefix("W/").strip('"')
    # ASCII digits only (int() also reads other scripts' digits, and str.isdigit takes "²"),
    # and no version beyond what a version column holds.
    if not (digits.isascii() and digits.isdigit()) or int(digits) > INT64_MAX:
        return -1
    return int(digits)
