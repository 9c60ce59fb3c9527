"""Askel's own stylesheets are whole: every rule closed (a broken merge silently drops the
rules after it), nothing loaded from elsewhere."""

from __future__ import annotations

import re

import pytest

from app.web.pages import STATIC

OWN = sorted(STATIC.glob("*.css"))


def test_there_are_stylesheets() -> None:
    assert OWN


@pytest.mark.parametrize("path", OWN, ids=lambda path: path.name)
def test_every_rule_is_closed_and_nothing_comes_from_elsewhere(path: object) -> None:
    text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)  # type: ignore[attr-defined]
    depth = 0
    for character in text:
        depth += {"{": 1, "}": -1}.get(character, 0)
        assert depth >= 0
    assert depth == 0
    assert "@import" not in text
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text)
