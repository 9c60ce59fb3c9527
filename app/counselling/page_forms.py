"""The tab's forms between the browser and the API's schemas: typed text becomes the numbers and
yes/no values a JSON body would carry (then the schema judges them, with its own messages), a
group's rows are numbered without the blank ones, each message finds the field it belongs
beside, and a record's values fill a form again."""

from __future__ import annotations

import re
import types
import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from annotated_types import Ge, Le
from babel.numbers import format_decimal
from fastapi import Request
from pydantic import BaseModel

from app.counselling.context import Tab
from app.i18n import Language
from app.web.forms import form_fields
from app.web.templating import page_language

T = TypeVar("T")

_WHOLE = re.compile(r"^[+-]?\d{1,18}$")
_DECIMAL = re.compile(r"^[+-]?\d{1,15}(?:[.,]\d{1,9})?$")


def _bare(annotation: Any) -> Any:
    """`X | None` and `Annotated[X, ...]` as X."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _bare(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        present = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _bare(present[0]) if len(present) == 1 else annotation
    return annotation


def _model(annotation: Any) -> type[BaseModel] | None:
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def _item(annotation: Any) -> Any:
    """The item type of a list field, else None."""
    return _bare(get_args(annotation)[0]) if get_origin(annotation) is list else None


def typed(schema: type[BaseModel], tree: Mapping[str, Any]) -> dict[str, Any]:
    """Form text as the schema's JSON types: whole numbers, decimals (a comma as the decimal
    sign too) and yes/no. Text that is no number stays text: the schema's message says so."""
    converted = dict(tree)
    for name, field in schema.model_fields.items():
        if name in converted:
            converted[name] = _converted(_bare(field.annotation), converted[name])
    return converted


def _converted(annotation: Any, value: Any) -> Any:
    model, item = _model(annotation), _item(annotation)
    if model is not None and isinstance(value, dict):
        return typed(model, value)
    if item is not None and isinstance(value, list):
        return [_converted(item, each) for each in value]
    if not isinstance(value, str):
        return value
    yes_no = annotation is bool or (
        get_origin(annotation) is Literal and all(isinstance(a, bool) for a in get_args(annotation))
    )
    if yes_no:
        return {"true": True, "false": False}.get(value, value)
    if annotation is int and _WHOLE.match(value.strip()):
        return int(value.strip())
    if annotation is float and _DECIMAL.match(value.strip()):
        return float(value.strip().replace(",", "."))
    return value


def field_names(schema: type[BaseModel], rows: Mapping[str, int], prefix: str = "") -> list[str]:
    """Every field of the form as it is named in the page (`goals.0.what`), with `rows` of
    each repeated group; a group's own name too, for a message about the group as a whole."""
    names = []
    for name, field in schema.model_fields.items():
        path = f"{prefix}{name}"
        annotation = _bare(field.annotation)
        model, item = _model(annotation), _model(_item(annotation))
        if item is not None:
            names.append(path)
            for index in range(rows.get(path, 0)):
                names += field_names(item, rows, f"{path}.{index}.")
        elif model is not None:
            names.append(path)
            names += field_names(model, rows, f"{path}.")
        else:
            names.append(path)
    return names


def limits(schema: type[BaseModel], prefix: str = "") -> dict[str, tuple[float, float]]:
    """Each number field's bounds (`ge`, `le`) by name, for the hints beside the fields."""
    found: dict[str, tuple[float, float]] = {}
    for name, field in schema.model_fields.items():
        model = _model(_bare(field.annotation))
        if model is not None:
            found |= limits(model, f"{prefix}{name}.")
            continue
        low = next((m.ge for m in field.metadata if isinstance(m, Ge)), None)
        high = next((m.le for m in field.metadata if isinstance(m, Le)), None)
        if isinstance(low, int | float) and isinstance(high, int | float):
            found[f"{prefix}{name}"] = (low, high)
    return found


def compact(
    values: Mapping[str, str], groups: Iterable[str]
) -> tuple[dict[str, str], dict[str, int]]:
    """The form's values with each group's rows (`goals.3.what`) numbered from 0, blank rows
    left out, and how many rows each group has."""
    kept = dict(values)
    counts: dict[str, int] = {}
    for group in groups:
        rows: dict[int, dict[str, str]] = {}
        pattern = re.compile(rf"^{re.escape(group)}\.(\d{{1,3}})\.(.+)$")
        for name, value in values.items():
            found = pattern.match(name)
            if found:
                kept.pop(name)
                if value.strip():
                    rows.setdefault(int(found[1]), {})[found[2]] = value
        for index, row in enumerate(rows[key] for key in sorted(rows)):
            kept |= {f"{group}.{index}.{field}": value for field, value in row.items()}
        counts[group] = len(rows)
    return kept, counts


def flat(values: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """A record's values as the form's fields: nested objects and lists by dotted names."""
    fields: dict[str, str] = {}
    for name, value in values.items():
        path = f"{prefix}{name}"
        if isinstance(value, dict):
            fields |= flat(value, f"{path}.")
        elif isinstance(value, list) and all(isinstance(each, dict) for each in value):
            for index, each in enumerate(value):
                fields |= flat(each, f"{path}.{index}.")
        elif value is None:
            continue
        elif isinstance(value, bool):
            fields[path] = "true" if value else "false"
        elif isinstance(value, float) and value.is_integer():
            fields[path] = str(int(value))
        elif isinstance(value, date | uuid.UUID | int | float | str):
            fields[path] = str(value)
    return fields


def number(value: float | int | None, language: Language) -> str:
    """A figure as written in the language: 9,5 in Finnish and Swedish."""
    if value is None:
        return ""
    return format_decimal(value, locale=language, group_separator=False)


def common(request: Request, tab: Tab) -> dict[str, Any]:
    """What every page of the tab shows: the patient, the referral, the tab's sections."""
    language = page_language(request)
    return {
        "tab": tab,
        "referral_id": tab.referral.id,
        "number": lambda value: number(value, language),
        **form_fields(),
    }
