"""Adds the npm packages vendored into Askel to its CycloneDX SBOM, as npm components that
askel depends on: cyclonedx-py sees Python distributions only, yet Swagger UI, HDS, htmx and the
DejaVu fonts ship inside askel's own, each recorded in its lock file (app/kit/vendoring.py).
Validates the result against the CycloneDX schema.

Usage: python .ci/sbom_vendored.py SBOM_JSON"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from app.docs.vendor import PACKAGES as DOCS_PACKAGES
from app.fonts.vendor import PACKAGES as FONT_PACKAGES
from app.kit.vendoring import Vendored, read_lock
from app.web.vendor import PACKAGES as WEB_PACKAGES

ROOT = Path(__file__).resolve().parents[1]


def component(vendored: Vendored) -> dict[str, Any]:
    lock = read_lock(vendored)
    # A scoped name's "@" is percent-encoded in a purl; its "/" separates namespace and name.
    purl = f"pkg:npm/{quote(lock['package'], safe='/')}@{lock['version']}"
    licence = str(lock["license"])
    # npm's "SEE LICENSE IN …" names no SPDX licence: the SBOM carries it as a licence's name.
    if licence.startswith("SEE LICENSE"):
        named: dict[str, Any] = {"license": {"name": licence}}
    elif any(word in licence for word in (" OR ", " AND ", " WITH ", "(")):
        named = {"expression": licence}
    else:
        named = {"license": {"id": licence}}
    # The registry's integrity is the SHA-512 of the npm tarball the files were taken from.
    algorithm, digest = str(lock["integrity"]).split("-", 1)
    assert algorithm == "sha512", lock["integrity"]
    return {
        "type": "library",
        "bom-ref": purl,
        "name": lock["package"],
        "version": lock["version"],
        "purl": purl,
        "licenses": [named],
        "hashes": [{"alg": "SHA-512", "content": base64.b64decode(digest).hex()}],
        "properties": [
            {"name": "askel:vendored-in", "value": str(vendored.directory.relative_to(ROOT))}
        ],
    }


def main(path: str) -> None:
    sbom = json.loads(Path(path).read_text())
    root = sbom["metadata"]["component"]["bom-ref"]
    added = [component(vendored) for vendored in (*DOCS_PACKAGES, *WEB_PACKAGES, *FONT_PACKAGES)]
    sbom["components"].extend(added)
    dependencies = sbom.setdefault("dependencies", [])
    for entry in dependencies:
        if entry["ref"] == root:
            entry.setdefault("dependsOn", []).extend(c["bom-ref"] for c in added)
            break
    else:
        dependencies.append({"ref": root, "dependsOn": [c["bom-ref"] for c in added]})
    dependencies.extend({"ref": c["bom-ref"]} for c in added)
    text = json.dumps(sbom, indent=2)
    version = SchemaVersion.from_version(sbom["specVersion"])
    if error := JsonStrictValidator(version).validate_str(text):
        sys.exit(f"the SBOM with the vendored packages is not valid CycloneDX: {error}")
    Path(path).write_text(text + "\n")
    print("SBOM: vendored " + ", ".join(f"{c['name']} {c['version']}" for c in added))


if __name__ == "__main__":
    main(sys.argv[1])
