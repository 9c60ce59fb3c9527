"""Vendors the fonts into the package: `python -m app.fonts.vendor [VERSION]`.

DejaVu's TrueType release as npm publishes it (`dejavu-fonts-ttf`), fetched and checked against
the registry's integrity like the pages' styles and scripts (see `app.kit.vendoring`); only the
two faces Askel uses are kept, with the licence. Without an argument, fetched again at the locked
version (a check that the copy is what the registry serves).
"""

from __future__ import annotations

import sys
from pathlib import Path

from app.fonts import BOLD, DEJAVU, REGULAR
from app.kit.vendoring import Vendored, main

FONTS = Vendored(
    package="dejavu-fonts-ttf",
    directory=DEJAVU,
    lock_file=Path(__file__).resolve().parent / "dejavu.lock.json",
    files={
        REGULAR.name: (f"ttf/{REGULAR.name}",),
        BOLD.name: (f"ttf/{BOLD.name}",),
        "LICENSE": ("LICENSE",),
    },
)
PACKAGES = (FONTS,)

if __name__ == "__main__":
    main(PACKAGES, sys.argv[1:])
