"""The npm packages vendored into Askel (Swagger UI for /docs; HDS and htmx for the pages; the
DejaVu fonts of the charts and the PDF) are the releases their lock files record, install with
the package, and load nothing from elsewhere."""

from __future__ import annotations

import fnmatch
import json
import shutil
import tomllib
from pathlib import Path

import pytest

from app.docs import vendor as docs_vendor
from app.fonts import vendor as fonts_vendor
from app.kit.vendoring import Vendored, outside_references, problems, read_lock
from app.web import vendor as web_vendor

ROOT = Path(__file__).resolve().parents[2]
VENDORED = [*docs_vendor.PACKAGES, *web_vendor.PACKAGES, *fonts_vendor.PACKAGES]


def _python_package(directory: Path) -> Path:
    while not (directory / "__init__.py").is_file():
        directory = directory.parent
    return directory


@pytest.mark.parametrize("vendored", VENDORED, ids=lambda vendored: vendored.package)
def test_the_vendored_files_are_the_pinned_release(vendored: Vendored) -> None:
    """What `python -m app.docs.vendor` or `app.web.vendor` recorded: the release, its licence and
    each file's SHA-256. A file edited by hand, or an update that stopped half-way, fails here."""
    assert problems(vendored) == []


@pytest.mark.parametrize("vendored", VENDORED, ids=lambda vendored: vendored.package)
def test_the_vendored_files_are_package_data(vendored: Vendored) -> None:
    """`pip install` brings them: no CDN, no second install step."""
    package = _python_package(vendored.directory)
    name = ".".join(package.relative_to(ROOT).parts)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"][name]
    files = [vendored.lock_file, *(vendored.directory / file for file in vendored.files)]
    for path in files:
        relative = path.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative


def test_the_pages_assets_are_the_chosen_releases() -> None:
    hds, htmx = read_lock(web_vendor.HDS), read_lock(web_vendor.HTMX)
    assert (hds["version"], hds["license"]) == ("5.2.2", "MIT")
    # Base styles with their variables, then every component: what HDS asks a page to load.
    assert hds["sources"]["hds.min.css"] == ["lib/base.min.css", "lib/components/all.min.css"]
    # htmx 4 changes what the attributes do: moving to it is a change of the pages, not an update.
    assert str(htmx["version"]).startswith("2.0."), "htmx stays on its 2.0 line"
    assert htmx["license"] == "0BSD"


def test_a_copy_edited_or_left_half_way_is_found(tmp_path: Path) -> None:
    original = web_vendor.HTMX
    shutil.copytree(original.directory, tmp_path / "htmx")
    shutil.copyfile(original.lock_file, tmp_path / "htmx.lock.json")
    copy = Vendored(original.package, tmp_path / "htmx", tmp_path / "htmx.lock.json",
                    original.files)  # fmt: skip
    assert problems(copy) == []
    with (copy.directory / "htmx.min.js").open("a") as script:
        script.write("\n// edited")
    (copy.directory / "htmx.js").write_text("// copied by hand")
    (copy.directory / "LICENSE").unlink()
    assert problems(copy) == [
        "htmx.org: htmx.js is not in the lock",
        "htmx.org: htmx.min.js differs from the locked release",
        "htmx.org: LICENSE is missing",
    ]
    record = read_lock(copy) | {"version": "latest", "sources": {}}
    copy.lock_file.write_text(json.dumps(record))
    assert "htmx.org: the lock records no release version" in problems(copy)
    assert "htmx.org: the lock's files are not the ones vendored from the package" in problems(copy)


def test_a_stylesheet_that_loads_from_elsewhere_is_found() -> None:
    # HDS's own fonts.css, which is therefore not vendored: its font comes from the city's CDN.
    fonts = (
        "@font-face{font-family:HelsinkiGroteskPro;src:url(https://makasiini.hel.fi/delivery/"
        'x.woff2) format("woff2")}'
    )
    assert outside_references(fonts) == ["url(https://makasiini.hel.fi/delivery/x.woff2)"]
    assert outside_references("@import url('//cdn.example/a.css');") == [
        "@import at 0", "url(//cdn.example/a.css)"
    ]  # fmt: skip
    assert outside_references("a{background:url( fonts/missing.woff2 )}") == [
        "url(fonts/missing.woff2)"
    ]
    # An inline SVG may hold references of its own, to itself.
    inline = (
        """a{background:url("data:image/svg+xml;charset=utf-8,%3Csvg xmlns='http://www.w3.org/"""
        """2000/svg'%3E%3Cpath fill='url(%23g)'/%3E%3C/svg%3E")}"""
        "b{c:url(data:image/png;base64,AA)}"
    )
    assert outside_references(inline) == []
