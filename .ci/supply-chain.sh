#!/usr/bin/env bash
# The supply chain of what the service ships: its runtime dependencies (what the container image
# holds, not the test tools) installed alone, described in a CycloneDX SBOM with the npm packages
# vendored into its files, and checked for known vulnerabilities; the service's own code checked
# for high-severity findings. Reports go to build/supply-chain/. Fails on any known-vulnerable
# dependency or high finding.
set -euo pipefail
cd "$(dirname "$0")/.."

out=build/supply-chain
runtime=$out/runtime-venv
rm -rf "$out"
mkdir -p "$out"
python3 -m venv --upgrade-deps "$runtime"
"$runtime/bin/pip" install -q .

.venv/bin/cyclonedx-py environment "$runtime/bin/python" --pyproject pyproject.toml \
  --output-format JSON -o "$out/sbom.cdx.json"
# The npm packages vendored into askel's own files (Swagger UI, HDS, htmx, DejaVu) are components too.
.venv/bin/python .ci/sbom_vendored.py "$out/sbom.cdx.json"
.venv/bin/python - "$out/sbom.cdx.json" <<'PY'
import json, sys
sbom = json.load(open(sys.argv[1]))
components = sbom["components"]
assert sbom["metadata"]["component"]["name"] == "askel", "the SBOM does not describe askel"
assert all(c.get("purl", "").startswith(("pkg:pypi/", "pkg:npm/")) for c in components), "a component lacks its purl"
names = {c["name"].lower() for c in components}
assert {"fastapi", "sqlalchemy", "psycopg"} <= names, "runtime dependencies missing from the SBOM"
assert {"swagger-ui-dist", "hds-core", "htmx.org", "dejavu-fonts-ttf"} <= names, "vendored packages missing from the SBOM"
assert all(c.get("licenses") for c in components if c["purl"].startswith("pkg:npm/")), "a vendored package without its licence"
assert "pytest" not in names, "test tools in the runtime SBOM"
print(f"SBOM: CycloneDX {sbom['specVersion']}, {len(components)} components")
PY

.venv/bin/bandit -q -r app --severity-level high
echo "bandit: no high-severity finding in app/"

# pip-audit asks PyPI's vulnerability data for each installed version. Where that answers, it is
# the audit; what it could not look up goes to audit_latest.py, and what neither can audit is
# named in the output, never taken as clean.
code=0
PIPAPI_PYTHON_LOCATION="$runtime/bin/python" .venv/bin/pip-audit --progress-spinner off \
  -f json -o "$out/pip-audit.json" || code=$?
if [ "$code" != 0 ] && [ "$code" != 1 ]; then
  echo "pip-audit failed (exit $code)"
  exit "$code"
fi
.venv/bin/python .ci/audit_latest.py "$out/pip-audit.json" "$out/sbom.cdx.json"
