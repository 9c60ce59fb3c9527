"""The mapping files in `fhir_mappings/`, read once: profiles, fixed values and code maps."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "fhir_mappings"


@cache
def mapping(kind: str) -> dict[str, Any]:
    """One resource kind's file (or `common`)."""
    with (MAPPINGS_DIR / f"{kind}.toml").open("rb") as file:
        return tomllib.load(file)


def mapped(kind: str, table: str, value: object) -> Any:
    """A value through one of the kind's code maps; a value missing from it is a bug here."""
    return mapping(kind)["maps"][table][str(value).lower() if isinstance(value, bool) else value]


def system(name: str) -> str:
    """An identifier system from `common.toml`."""
    system_uri: str = mapping("common")["identifiers"][name]
    return system_uri


def meta(kind: str) -> dict[str, Any]:
    """The profile the kind claims, if its file names one."""
    profile = mapping(kind).get("profile")
    return {"meta": {"profile": [profile]}} if profile else {}


def fixed(kind: str) -> dict[str, Any]:
    """The elements every resource of the kind carries alike."""
    return dict(mapping(kind).get("fixed", {}))
