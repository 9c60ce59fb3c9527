"""Vendors the pages' styles and scripts into the package: `python -m app.web.vendor
[NAME@VERSION ...]`.

The Helsinki Design System's CSS (`hds-core`) and htmx (`htmx.org`), fetched with npm, checked
against the registry's integrity and recorded beside them in a lock file each (see
`app.kit.vendoring`), under `static/vendor/`. Without arguments, both are fetched again at their
locked versions (a check that the copy is what the registry serves).
"""

from __future__ import annotations

import sys
from pathlib import Path

from app.kit.vendoring import Vendored, main

VENDOR = Path(__file__).resolve().parent / "static" / "vendor"
HDS = Vendored(
    package="hds-core",
    directory=VENDOR / "hds-core",
    lock_file=VENDOR / "hds-core.lock.json",
    # The package has no one file for all: its README asks for the base styles with their CSS
    # variables and the bundle of all components, in that order; one file is one request.
    files={
        "hds.min.css": ("lib/base.min.css", "lib/components/all.min.css"),
        "LICENSE": ("LICENSE",),
    },
)
HTMX = Vendored(
    package="htmx.org",
    directory=VENDOR / "htmx",
    lock_file=VENDOR / "htmx.lock.json",
    files={"htmx.min.js": ("dist/htmx.min.js",), "LICENSE": ("LICENSE",)},
)
PACKAGES = (HDS, HTMX)

if __name__ == "__main__":
    main(PACKAGES, sys.argv[1:])
