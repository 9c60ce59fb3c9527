"""Who may import whom (README.md, "Layout").

The ground floor imports no domain's logic: `app.db`, with every table it maps, loads no
service, repository, router or page, nor the statistics facts and what keeps them current (the
app factory and the command line install that). Domains import `app.db`, so anything it
imported that imports a domain would close a circle.

Above it, a domain's services (its `service` module, or the modules one was split into) import
no other domain's service, at the top or inside a function: across domains they read the lower
domains' models, schemas, exceptions, states, policies, repository and events. The shared
services are the exception, written through by every domain in its own transaction: the audit
log and the accounts (`app.access`), the service directory (`app.organisations`), the patients'
notices (`app.notices`); they too import no other domain's service but a shared one. Work that
spans domains is a flow (`app.flows`), free to call any service; flows are called only by the
entry points: routers, pages, `app.web`, the command line, the demo and the app factory. No
module imports another around a circle, counting imports inside functions."""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOGIC = {"service", "repository", "router", "pages", "facts", "follow", "policies", "publisher",
         "availability", "booking", "events"}  # fmt: skip
LOADED = """
import sys
from sqlalchemy import create_engine
import app.db
app.db.Database(create_engine("sqlite://"))
print(" ".join(sorted(name for name in sys.modules if name.startswith("app"))))
"""


def test_the_database_and_its_tables_import_no_domain_logic() -> None:
    # A fresh interpreter: this one has imported everything already.
    loaded = subprocess.run(
        [sys.executable, "-c", LOADED], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "app.models" in loaded
    assert "app.statistics.models" in loaded
    assert [name for name in loaded if name.rsplit(".", 1)[-1] in LOGIC] == []
    assert [name for name in loaded if name.startswith("app.flows")] == []


# The modules a domain's service was split into, besides those named `service`.
SPLIT_SERVICES = frozenset({"app.scheduling.availability", "app.scheduling.booking"})
SHARED_DOMAINS = frozenset({"access", "organisations", "notices"})
ENTRY_PACKAGES = ("app.web", "app.cli", "app.demo", "app.flows")
ENTRY_MODULES = frozenset({"app.main", "app.api"})


@dataclass(frozen=True, slots=True)
class Import:
    target: str
    line: int
    in_function: bool


@cache
def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "app").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


@cache
def imports(module: str) -> tuple[Import, ...]:
    """What `module` imports of the app (a name imported from a package: the module, if it is
    one), inside functions too; not what only the type checker reads."""
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.module:
                names = [
                    f"{child.module}.{alias.name}"
                    if f"{child.module}.{alias.name}" in modules()
                    else child.module
                    for alias in child.names
                ]
            else:
                names = []
            found.extend(Import(name, child.lineno, inner) for name in names if name in modules())
            visit(child, inner)

    visit(ast.parse(modules()[module].read_text()), False)
    return tuple(found)


def domain(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


def is_service(module: str) -> bool:
    return module.rsplit(".", 1)[-1] == "service" or module in SPLIT_SERVICES


def is_flow(module: str) -> bool:
    return module.startswith("app.flows.")


def is_entry_point(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return (
        module in ENTRY_MODULES
        or module.startswith(ENTRY_PACKAGES)
        or last == "router"
        or last.endswith("pages")
    )


def test_the_layers_are_read_from_the_code() -> None:
    # The rules below hold of something: the services, flows and entry points they name.
    named = modules()
    assert {"app.referrals.service", "app.counselling.service", *SPLIT_SERVICES} <= set(named)
    assert "app.scheduling.service" not in named
    assert any(is_flow(module) for module in named)
    assert {"referrals", "scheduling", "counselling"} <= {
        domain(target.target) for target in imports("app.flows.referral_transitions")
    }


def test_no_service_imports_another_domains_service() -> None:
    crossings = [
        f"{module}:{found.line} imports {found.target}"
        for module in modules()
        if is_service(module)
        for found in imports(module)
        if is_service(found.target)
        and domain(found.target) != domain(module)
        and domain(found.target) not in SHARED_DOMAINS
    ]
    assert crossings == []


def test_services_and_flows_import_nothing_inside_a_function() -> None:
    # An import inside a function is how a circle hides from the import system.
    hidden = [
        f"{module}:{found.line} imports {found.target}"
        for module in modules()
        if is_service(module) or is_flow(module)
        for found in imports(module)
        if found.in_function
    ]
    assert hidden == []


def test_only_the_entry_points_import_flows() -> None:
    below = [
        f"{module}:{found.line} imports {found.target}"
        for module in modules()
        if not is_entry_point(module)
        for found in imports(module)
        if is_flow(found.target)
    ]
    assert below == []


def test_flows_import_no_entry_point() -> None:
    above = [
        f"{module}:{found.line} imports {found.target}"
        for module in modules()
        if is_flow(module)
        for found in imports(module)
        if is_entry_point(found.target) and not is_flow(found.target)
    ]
    assert above == []


def test_no_module_imports_another_around_a_circle() -> None:
    graph = {module: {found.target for found in imports(module)} - {module} for module in modules()}
    circles = [path for module in graph if (path := _circle_from(graph, module))]
    assert circles == []


def _circle_from(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A path of imports from `start` back to it, if there is one (depth first)."""
    trail = [start]
    seen = {start}
    pending = [iter(sorted(graph[start]))]
    while pending:
        following = next(pending[-1], None)
        if following is None:
            pending.pop()
            trail.pop()
        elif following == start:
            return [*trail, start]
        elif following not in seen:
            seen.add(following)
            trail.append(following)
            pending.append(iter(sorted(graph[following])))
    return None
