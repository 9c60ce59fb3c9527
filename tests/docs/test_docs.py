"""`/docs` works without the internet: Askel serves the page, a pinned copy of Swagger UI and
the script that starts it, under a policy that runs no inline script and loads nothing from
elsewhere."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

from starlette.testclient import TestClient

from app.docs import ASSET_FILES

ROOT = Path(__file__).resolve().parents[2]


def _directives(policy: str) -> dict[str, list[str]]:
    return {
        name: values
        for name, *values in (
            directive.split() for directive in policy.split(";") if directive.strip()
        )
    }


def test_the_page_loads_only_askels_own_files_and_no_inline_script(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "//" not in html.replace("<!doctype html>", ""), "an address outside the service"
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts
    assert all(
        'src="/docs/assets/' in attributes and not body.strip() for attributes, body in scripts
    )
    for reference in re.findall(r'(?:src|href)="([^"]+)"', html):
        answer = client.get(reference)
        assert answer.status_code == 200, reference
        assert answer.headers["content-type"].split(";")[0] in {
            "text/javascript", "application/javascript", "text/css", "image/png"
        }, reference  # fmt: skip


def test_the_page_runs_under_a_policy_without_inline_script(client: TestClient) -> None:
    for address in ("/docs", "/docs/assets/init.js", "/docs/assets/swagger-ui-bundle.js"):
        policy = _directives(client.get(address).headers["content-security-policy"])
        assert policy["default-src"] == ["'none'"]
        assert policy["script-src"] == ["'self'"], "no inline script, no eval, no other origin"
        assert policy["connect-src"] == ["'self'"], "Try it out calls this service only"
        assert policy["frame-ancestors"] == ["'none'"]
    # The API itself keeps its stricter policy: it runs no script at all.
    api = _directives(client.get("/healthz").headers["content-security-policy"])
    assert "script-src" not in api
    assert api["default-src"] == ["'none'"]


def test_the_start_up_script_reads_the_document_of_this_service(client: TestClient) -> None:
    script = client.get("/docs/assets/init.js").text
    assert "SwaggerUIBundle(" in script
    assert "dataset.openapi" in script
    assert 'data-openapi="/openapi.json"' in client.get("/docs").text
    assert client.get("/openapi.json").status_code == 200


def test_the_files_are_package_data_so_that_pip_install_brings_them() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["app.docs"]
    package = ROOT / "app" / "docs"
    served = [
        path.relative_to(package).as_posix() for path in map(Path, map(str, ASSET_FILES.values()))
    ]
    # The vendored files themselves: tests/kit/test_vendoring.py.
    for name in [*served, "page.html"]:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name


def test_the_service_address_leads_to_the_documentation(client: TestClient) -> None:
    answer = client.get("/", follow_redirects=False)
    assert answer.status_code == 200
    assert 'href="/docs"' in answer.text


def test_there_is_no_redoc_loading_from_elsewhere(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404
    assert client.get("/docs/assets/../main.py").status_code == 404
