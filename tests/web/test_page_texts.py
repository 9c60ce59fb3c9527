"""Every text of every page is in the Finnish and Swedish catalogs."""

from __future__ import annotations

import ast
from pathlib import Path

from jinja2 import nodes

from app.i18n import catalog
from app.web.templating import ROLE_NAMES, TEMPLATES, environment


def template_texts() -> dict[str, set[str]]:
    """The literal message ids each template passes to `_()`, and its title (which the layout
    translates)."""
    found: dict[str, set[str]] = {}
    for path in TEMPLATES.rglob("*.html"):
        name = path.relative_to(TEMPLATES).as_posix()
        tree = environment.parse(path.read_text(encoding="utf-8"))
        for call in tree.find_all(nodes.Call):
            if isinstance(call.node, nodes.Name) and call.node.name == "_" and call.args:
                first = call.args[0]
                if isinstance(first, nodes.Const) and isinstance(first.value, str):
                    found.setdefault(name, set()).add(first.value)
        for assign in tree.find_all(nodes.Assign):
            target, value = assign.target, assign.node
            if isinstance(target, nodes.Name) and target.name == "title":
                assert isinstance(value, nodes.Const), f"{name}: a title is a literal text"
                found.setdefault(name, set()).add(value.value)
    return found


def page_module_texts() -> set[str]:
    """The texts any module of the app marks with `N_` (labels, headings, what a change did,
    a chart's titles), at any depth: a page's helpers may sit beside it under another name."""
    app = Path(TEMPLATES).parent.parent
    found: set[str] = set()
    for path in app.rglob("*.py"):
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id == "N_"
                and call.args
                and isinstance(call.args[0], ast.Constant)
            ):
                found.add(str(call.args[0].value))
    return found


def test_the_templates_have_texts_to_check() -> None:
    assert sum(len(texts) for texts in template_texts().values()) > 20


def test_texts_are_found_in_modules_at_any_depth() -> None:
    # The access report's texts live two packages down, beside the pages that show them.
    assert "Who has processed my data" in page_module_texts()


def test_every_page_text_is_translated() -> None:
    texts = {text for found in template_texts().values() for text in found}
    texts |= set(ROLE_NAMES.values()) | page_module_texts()
    missing = sorted(
        (language, text)
        for text in texts
        for language in ("fi", "sv")
        if text not in catalog(language)
    )
    assert missing == []
