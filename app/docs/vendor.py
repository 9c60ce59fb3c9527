"""Vendors Swagger UI into the package: `python -m app.docs.vendor [VERSION]`.

Fetches `swagger-ui-dist` with npm, checks its integrity, copies the files the page needs into
`app/docs/swagger-ui/` and records them in `swagger-ui.lock.json` (see `app.kit.vendoring`). The
tests check the vendored files against that record. Without a VERSION, the version in the record
is fetched again (a check that the copy is what the registry serves).
"""

from __future__ import annotations

import sys
from pathlib import Path

from app.kit.vendoring import Vendored, main

HERE = Path(__file__).resolve().parent
# What the page loads, and the licences that come with it.
FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE", "NOTICE",
         "swagger-ui-bundle.js.LICENSE.txt")  # fmt: skip
SWAGGER_UI = Vendored(
    package="swagger-ui-dist",
    directory=HERE / "swagger-ui",
    lock_file=HERE / "swagger-ui.lock.json",
    files={name: (name,) for name in FILES},
)
PACKAGES = (SWAGGER_UI,)

if __name__ == "__main__":
    main(PACKAGES, sys.argv[1:])
