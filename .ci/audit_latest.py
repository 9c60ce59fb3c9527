"""For the dependencies pip-audit could not look up: PyPI's project page (which answers here,
where the per-version one does not) lists the known vulnerabilities of the project's newest
release. Where the installed version is that release, the list applies and is checked; otherwise
the dependency stays unaudited, and is named.

Usage: python .ci/audit_latest.py PIP_AUDIT_JSON SBOM_JSON"""

from __future__ import annotations

import json
import re
import sys
import urllib.request


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def newest(name: str) -> tuple[str, list[dict[str, object]]]:
    with urllib.request.urlopen(f"https://pypi.org/pypi/{name}/json", timeout=30) as answer:
        project = json.load(answer)
    return project["info"]["version"], project.get("vulnerabilities") or []


def main(report_path: str, sbom_path: str) -> int:
    with open(report_path) as report_file, open(sbom_path) as sbom_file:
        report, components = json.load(report_file), json.load(sbom_file)["components"]
    installed = {canonical(c["name"]): c["version"] for c in components}
    vulnerable, unaudited, audited = [], [], 0
    for dependency in report["dependencies"]:
        name = canonical(dependency["name"])
        if name not in installed:
            continue  # the project itself
        version = installed[name]
        if "skip_reason" not in dependency:
            audited += 1
            if dependency.get("vulns"):
                vulnerable.append((name, version, [v["id"] for v in dependency["vulns"]]))
            continue
        try:
            latest, vulns = newest(name)
        except OSError:
            unaudited.append(f"{name} {version} (not on PyPI)")
            continue
        if latest != version:
            unaudited.append(f"{name} {version} (newest {latest})")
            continue
        audited += 1
        if vulns:
            vulnerable.append((name, version, [str(v.get("id")) for v in vulns]))
    for name, version, ids in vulnerable:
        print(f"VULNERABLE {name} {version}: {', '.join(ids)}")
    print(
        f"dependency audit: {audited} audited, {len(vulnerable)} vulnerable, "
        f"{len(unaudited)} not audited"
    )
    if unaudited:
        print("NOT AUDITED: " + "; ".join(unaudited))
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
