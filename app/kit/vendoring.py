"""Front-end packages from npm vendored into Askel's own package, so that its pages load nothing
from elsewhere and `pip install` stays the only install step.

A `Vendored` names an npm package, the files taken from it and where they go. `vendor()` fetches
a release with the ordinary npm client (`npm pack`, which checks the tarball against the
registry's integrity hash), checks it once more against the integrity the registry publishes,
writes the files and records in a lock file the version, the integrity, the licence, where each
file came from and its SHA-256. `problems()` compares the files with that record, so that the
tests fail on a copy edited by hand or an update that stopped half-way. `main()` is the command
line of a module that vendors packages (`python -m app.docs.vendor`, `python -m app.web.vendor`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess  # nosec B404: runs npm, named by the caller's PATH, with fixed arguments
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A stylesheet's references: url(...) quoted or not, and @import. A quoted data: URL may hold an
# SVG with url(#id) of its own; matching left to right consumes it whole.
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import\b", re.IGNORECASE)


@dataclass(frozen=True)
class Vendored:
    """An npm package's files as Askel ships them."""

    package: str
    directory: Path
    lock_file: Path
    # Each file written, from the package file(s) it is made of (paths inside the tarball's
    # `package/`); several are joined in their order, a newline between them.
    files: Mapping[str, tuple[str, ...]]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_lock(vendored: Vendored) -> dict[str, Any]:
    recorded: dict[str, Any] = json.loads(vendored.lock_file.read_text())
    return recorded


def _npm(*args: str, cwd: Path) -> str:
    done = subprocess.run(["npm", *args], cwd=cwd, check=True, capture_output=True, text=True)  # nosec B603 B607
    return done.stdout


def _fetch(package: str, version: str, where: Path) -> tuple[Path, str]:
    """The package's files unpacked under `where`, and the integrity the registry publishes."""
    packed = json.loads(_npm("pack", f"{package}@{version}", "--json", cwd=where))[0]
    published = json.loads(_npm("view", f"{package}@{version}", "dist.integrity", "--json",
                                cwd=where))  # fmt: skip
    tarball = where / packed["filename"]
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if f"sha512-{digest}" != published or packed["integrity"] != published:
        sys.exit(f"{package}@{version}: the tarball does not match the registry's integrity")
    with tarfile.open(tarball) as archive:
        archive.extractall(where, filter="data")
    return where / "package", str(published)


def vendor(vendored: Vendored, version: str) -> None:
    """Replaces the vendored files with those of `version`, and records them."""
    with tempfile.TemporaryDirectory() as work:
        unpacked, integrity = _fetch(vendored.package, version, Path(work))
        manifest = json.loads((unpacked / "package.json").read_text())
        if (manifest["name"], manifest["version"]) != (vendored.package, version):
            sys.exit(f"{vendored.package}@{version}: the tarball holds {manifest['name']}"
                     f"@{manifest['version']}")  # fmt: skip
        shutil.rmtree(vendored.directory, ignore_errors=True)
        vendored.directory.mkdir(parents=True)
        for name, sources in vendored.files.items():
            parts = [(unpacked / source).read_bytes() for source in sources]
            (vendored.directory / name).write_bytes(b"\n".join(parts))
    record = {
        "package": vendored.package,
        "version": version,
        "integrity": integrity,
        "license": manifest.get("license"),
        "files": {name: sha256(vendored.directory / name) for name in vendored.files},
        "sources": {name: list(sources) for name, sources in vendored.files.items()},
    }
    vendored.lock_file.write_text(json.dumps(record, indent=2) + "\n")
    if found := problems(vendored):
        sys.exit("\n".join(found))


def outside_references(stylesheet: str) -> list[str]:
    """What a stylesheet would load besides itself: every url() but a data: one, every @import.
    A vendored copy must need none (no fonts from a CDN, no file that was not copied)."""
    found = [f"@import at {m.start()}" for m in _CSS_IMPORT.finditer(stylesheet)]
    for match in _CSS_URL.finditer(stylesheet):
        target = next(group for group in match.groups() if group is not None)
        if not target.lower().startswith("data:"):
            found.append(f"url({target})")
    return found


def problems(vendored: Vendored) -> list[str]:
    """How the vendored files differ from their lock; none for a faithful copy."""
    name = vendored.package
    if not vendored.lock_file.is_file():
        return [f"{name}: no lock file at {vendored.lock_file}"]
    recorded = read_lock(vendored)
    found = []
    if recorded.get("package") != name:
        found.append(f"{name}: the lock records {recorded.get('package')!r}")
    if not re.fullmatch(r"\d+\.\d+\.\d+", str(recorded.get("version"))):
        found.append(f"{name}: the lock records no release version")
    if not str(recorded.get("integrity")).startswith("sha512-"):
        found.append(f"{name}: the lock records no SHA-512 integrity")
    if not recorded.get("license"):
        found.append(f"{name}: the lock records no licence")
    if not any(file.startswith("LICENSE") for file in vendored.files):
        found.append(f"{name}: no licence travels with the copy")
    expected_sources = {file: list(sources) for file, sources in vendored.files.items()}
    if recorded.get("sources") != expected_sources:
        found.append(f"{name}: the lock's files are not the ones vendored from the package")
    digests: Mapping[str, str] = recorded.get("files", {})
    present = {path.name for path in vendored.directory.glob("*")}
    for stray in sorted(present - set(vendored.files)):
        found.append(f"{name}: {stray} is not in the lock")
    for file in vendored.files:
        path = vendored.directory / file
        if not path.is_file():
            found.append(f"{name}: {file} is missing")
        elif sha256(path) != digests.get(file):
            found.append(f"{name}: {file} differs from the locked release")
        elif file.endswith(".css"):
            found.extend(f"{name}: {file} loads {what}" for what in
                         outside_references(path.read_text(encoding="utf-8")))  # fmt: skip
    return found


def main(packages: Sequence[Vendored], arguments: Sequence[str]) -> None:
    """Without arguments, every package again at its locked version (a check that the copy is
    what the registry serves); else each `NAME@VERSION` named (or a `VERSION`, where there is
    only one package)."""
    by_name = {vendored.package: vendored for vendored in packages}
    wanted: dict[str, str] = {}
    for argument in arguments:
        name, at, version = argument.rpartition("@")
        if not at and len(packages) == 1:
            name = packages[0].package
        if name not in by_name:
            sys.exit(f"usage: NAME@VERSION, NAME one of {', '.join(by_name)}")
        wanted[name] = version
    if not arguments:
        wanted = {name: str(read_lock(vendored)["version"]) for name, vendored in by_name.items()}
    for name, version in wanted.items():
        vendor(by_name[name], version)
