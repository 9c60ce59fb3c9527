"""The weekly availability as a form of rows: each rule and exception a row of flat fields
(`rules.0.start_time`; a checkbox group such as `rules.0.modes` posted once per box ticked),
read back into the API's `AvailabilityIn`. Rows left blank or marked for removal drop out and
the rest are numbered again, so that the schema's messages (`rules.1.end_time`) point at the
rows as they are shown again."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, time
from typing import Any, Literal

from starlette.datastructures import FormData

from app.scheduling.schemas import AvailabilityOut

Kind = Literal["rules", "exceptions"]
KINDS: tuple[Kind, ...] = ("rules", "exceptions")
FIELDS: dict[Kind, tuple[str, ...]] = {
    "rules": ("weekday", "start_time", "end_time", "location", "group_capacity", "valid_from",
              "valid_until"),
    "exceptions": ("kind", "on_date", "start_time", "end_time", "location", "group_capacity",
                   "note"),
}  # fmt: skip
CHOICES = ("modes", "visit_types", "languages")
NUMBERS = ("weekday", "group_capacity")
# Filled in already on a new row: a row with nothing else in it is blank.
PREFILLED = ("group_capacity", "valid_from", "kind")
# More rows than the schema takes (100 rules, 500 exceptions) are not read.
MOST_ROWS = 600
_NAME = re.compile(r"^(rules|exceptions)\.(\d{1,4})\.([a-z_]+)$")

Row = dict[str, Any]  # a field's text, or a checkbox group's values


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, time):
        return f"{value.hour:02d}:{value.minute:02d}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def blank(kind: Kind, today: date) -> Row:
    """A new row, with what a new rule or exception usually has."""
    row: Row = dict.fromkeys(FIELDS[kind], "")
    row.update({choice: [] for choice in CHOICES}, group_capacity="8")
    if kind == "rules":
        row["valid_from"] = today.isoformat()
    else:
        row["kind"] = "absence"
    return row


def rows_of(availability: AvailabilityOut) -> dict[Kind, list[Row]]:
    """The stored rules and exceptions as rows of the form."""
    stored: dict[Kind, Iterable[Any]] = {
        "rules": availability.rules,
        "exceptions": availability.exceptions,
    }
    return {
        kind: [
            {
                **{name: _text(getattr(item, name)) for name in FIELDS[kind]},
                **{choice: list(getattr(item, choice)) for choice in CHOICES},
            }
            for item in items
        ]
        for kind, items in stored.items()
    }


def _is_blank(row: Row) -> bool:
    return not any(value for name, value in row.items() if name not in PREFILLED)


def posted_rows(form: FormData) -> dict[Kind, list[Row]]:
    """The rows as posted, in their order, without the blank and the removed ones."""
    indices: dict[Kind, set[int]] = {kind: set() for kind in KINDS}
    for name in form:
        found = _NAME.match(name)
        if found and len(indices[found[1]]) < MOST_ROWS:  # type: ignore[index]
            indices[found[1]].add(int(found[2]))  # type: ignore[index]
    rows: dict[Kind, list[Row]] = {kind: [] for kind in KINDS}
    for kind in KINDS:
        for index in sorted(indices[kind]):
            prefix = f"{kind}.{index}."
            if form.get(prefix + "remove"):
                continue
            row: Row = {name: _field(form, prefix + name) for name in FIELDS[kind]}
            for choice in CHOICES:
                row[choice] = [v for v in form.getlist(prefix + choice) if isinstance(v, str)]
            if not _is_blank(row):
                rows[kind].append(row)
    return rows


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _value(name: str, value: Any) -> Any:
    # The schema takes whole numbers as JSON numbers only; what is not one stays text, for
    # the schema to call it what it is.
    digits = isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10
    if name in NUMBERS and digits:
        return int(value)
    return value


def body_of(rows: dict[Kind, list[Row]]) -> dict[str, Any]:
    """The rows as the API's request body: an empty field left out (the schema's default, or
    its "required")."""
    return {
        kind: [
            {name: _value(name, value) for name, value in row.items() if value != ""}
            for row in rows[kind]
        ]
        for kind in KINDS
    }
