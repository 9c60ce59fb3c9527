"""Vendors Swagger UI into the package: `python -m app.docs.vendor [VERSION]`.

Fetches `swagger-ui-dist` with the ordinary npm client (`npm pack`, which checks the tarball
against the registry's integrity hash), checks it once more against the integrity the registry
publishes, copies the files the page needs into `app/docs/swagger-ui/`, and records the version,
the integrity and each file's SHA-256 in `swagger-ui.lock.json`. The tests check the vendored
files against that record, so an edited or half-updated copy fails them. Without a VERSION, the
version in the record is fetched again (a check that the copy is what the registry serves).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess  # nosec B404: runs npm, named by the caller's PATH, with fixed arguments
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "swagger-ui"
LOCK = HERE / "swagger-ui.lock.json"
PACKAGE = "swagger-ui-dist"
# What the page loads, and the licences that come with it.
FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE", "NOTICE",
         "swagger-ui-bundle.js.LICENSE.txt")  # fmt: skip


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def lock() -> dict[str, object]:
    recorded: dict[str, object] = json.loads(LOCK.read_text())
    return recorded


def _npm(*args: str, cwd: Path) -> str:
    done = subprocess.run(["npm", *args], cwd=cwd, check=True, capture_output=True, text=True)  # nosec B603 B607
    return done.stdout


def vendor(version: str) -> None:
    with tempfile.TemporaryDirectory() as work:
        where = Path(work)
        packed = json.loads(_npm("pack", f"{PACKAGE}@{version}", "--json", cwd=where))[0]
        published = json.loads(_npm("view", f"{PACKAGE}@{version}", "dist.integrity", "--json",
                                    cwd=where))  # fmt: skip
        tarball = where / packed["filename"]
        digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
        if f"sha512-{digest}" != published or packed["integrity"] != published:
            sys.exit(f"{PACKAGE}@{version}: the tarball does not match the registry's integrity")
        with tarfile.open(tarball) as archive:
            archive.extractall(where, filter="data")
        shutil.rmtree(ASSETS, ignore_errors=True)
        ASSETS.mkdir()
        for name in FILES:
            shutil.copyfile(where / "package" / name, ASSETS / name)
    record = {
        "package": PACKAGE,
        "version": version,
        "integrity": published,
        "files": {name: sha256(ASSETS / name) for name in FILES},
    }
    LOCK.write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    vendor(sys.argv[1] if len(sys.argv) > 1 else str(lock()["version"]))
