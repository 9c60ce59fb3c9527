#!/usr/bin/env bash
# Backup-and-restore drill: proves that a pg_dump of Askel's database restores into a copy whose
# audit log still verifies (against a signed tree head exported before the dump) and whose tables hold
# the same rows.
#
#   bash deploy/backup/drill.sh POSTGRES_ADMIN_URL
#
# POSTGRES_ADMIN_URL is a libpq URL of a role that may create databases, e.g.
# postgresql://postgres@127.0.0.1:5432/postgres (the app's postgresql+psycopg://… form is
# accepted too). The drill makes two scratch databases, askel_drill_src_<pid> and
# askel_drill_copy_<pid>, and drops them at the end whatever happens; it touches no other
# database. Run it from anywhere in the repository with its .venv installed. PG_BIN names the
# directory of pg_dump, pg_restore and psql (default: PostgreSQL 15's, else those on PATH);
# their major version must be at least the server's.
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  echo "usage: bash deploy/backup/drill.sh POSTGRES_ADMIN_URL" >&2
  exit 2
fi
ADMIN_INPUT=$1

cd "$(dirname "$0")/../.."
PYTHON=.venv/bin/python
ASKEL=.venv/bin/askel
if [ ! -x "$PYTHON" ] || [ ! -x "$ASKEL" ]; then
  echo "drill: no .venv with askel installed in $(pwd)" >&2
  exit 2
fi

if [ -z "${PG_BIN:-}" ]; then
  if [ -x /usr/lib/postgresql/15/bin/pg_dump ]; then
    PG_BIN=/usr/lib/postgresql/15/bin
  elif command -v pg_dump >/dev/null; then
    PG_BIN=$(dirname "$(command -v pg_dump)")
  else
    echo "drill: pg_dump not found; set PG_BIN" >&2
    exit 2
  fi
fi
for tool in pg_dump pg_restore psql; do
  if [ ! -x "$PG_BIN/$tool" ]; then
    echo "drill: $PG_BIN/$tool is missing" >&2
    exit 2
  fi
done

# url KIND [DATABASE]: the admin URL, pointed at DATABASE if given, in libpq form (KIND=libpq)
# or the app's SQLAlchemy form (KIND=app); host, port, user, password and query are kept.
url() {
  "$PYTHON" - "$ADMIN_INPUT" "$@" <<'PY'
import sys

from sqlalchemy.engine import make_url

admin, kind, *database = sys.argv[1:]
parsed = make_url(admin)
if parsed.get_backend_name() != "postgresql":
    sys.exit(f"drill: not a PostgreSQL URL: {parsed.drivername}")
driver = "postgresql+psycopg" if kind == "app" else "postgresql"
parsed = parsed.set(drivername=driver, database=database[0] if database else parsed.database)
print(parsed.render_as_string(hide_password=False))
PY
}

SUFFIX=$$
SOURCE_DB=askel_drill_src_$SUFFIX
COPY_DB=askel_drill_copy_$SUFFIX
ADMIN_URL=$(url libpq)
SOURCE_URL=$(url libpq "$SOURCE_DB")
SOURCE_APP_URL=$(url app "$SOURCE_DB")
COPY_URL=$(url libpq "$COPY_DB")
COPY_APP_URL=$(url app "$COPY_DB")

DRILL_STARTED=$EPOCHREALTIME
WORK=$(mktemp -d "${TMPDIR:-/tmp}/askel-drill.XXXXXX")
created=()

cleanup() {
  local code=$? database
  set +e
  for database in "${created[@]}"; do
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$ADMIN_URL" \
      -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null ||
      echo "drill: could not drop $database" >&2
  done
  rm -rf "$WORK"
  if [ "$code" = 0 ]; then
    echo "=== drill passed in $(elapsed "$DRILL_STARTED") s; scratch databases dropped"
  else
    echo "=== drill FAILED (exit $code); scratch databases dropped" >&2
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The askel commands run in development mode on the drill's own keys and files, whatever the
# calling environment holds; only the database URL changes between them.
ASKEL_ENVIRONMENT=development
ASKEL_HETU_KEY=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(48))')
ASKEL_AUDIT_KEY=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(48))')
ASKEL_DEV_ISSUER_ENABLED=true
ASKEL_DEV_ISSUER_KEY_FILE=$WORK/dev-issuer.jwk
ASKEL_NOTICE_CHANNEL="file"
ASKEL_NOTICE_FILE=$WORK/notices.jsonl
ASKEL_MIGRATE_ON_START=false
ASKEL_SEED_DEMO_DATA=false
ASKEL_LOG_LEVEL=WARNING
export ASKEL_ENVIRONMENT ASKEL_HETU_KEY ASKEL_AUDIT_KEY ASKEL_DEV_ISSUER_ENABLED \
  ASKEL_DEV_ISSUER_KEY_FILE ASKEL_NOTICE_CHANNEL ASKEL_NOTICE_FILE ASKEL_MIGRATE_ON_START \
  ASKEL_SEED_DEMO_DATA ASKEL_LOG_LEVEL

elapsed() { awk -v start="$1" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.2f", now - start }'; }

timings=()
# step NAME COMMAND...: runs COMMAND, prints and records how long it took; a failure ends the drill.
step() {
  local name=$1 begin=$EPOCHREALTIME
  shift
  echo "--- $name"
  "$@"
  timings+=("$(printf '%8s s  %s' "$(elapsed "$begin")" "$name")")
}

psql_admin() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$ADMIN_URL" "$@"; }

create_database() {
  psql_admin -c "CREATE DATABASE \"$1\""
  created+=("$1")
}

on_source() { ASKEL_DATABASE_URL=$SOURCE_APP_URL "$@"; }
on_copy() { ASKEL_DATABASE_URL=$COPY_APP_URL "$@"; }

# Real use through the API, so that the audit log holds more than the demo loader's entries:
# a doctor finds a demo patient and refers them, a counsellor opens the worklist and the
# referral (which marks it received).
use_the_api() {
  ASKEL_DATABASE_URL=$SOURCE_APP_URL "$PYTHON" - <<'PY'
from starlette.testclient import TestClient

from app.demo.region import demo_patients
from app.main import create_app

with TestClient(create_app()) as client:

    def auth(username: str) -> dict[str, str]:
        answer = client.post("/dev/token", json={"username": username})
        answer.raise_for_status()
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    doctor, counsellor = auth("doctor.laihia"), auth("counsellor1.laihia")
    laihia = [p for p in demo_patients() if p.home_municipality_code == "399"]
    referred = 0
    for demo in laihia[:3]:
        found = client.post("/api/v1/patients/lookup", json={"hetu": demo.hetu}, headers=doctor)
        found.raise_for_status()
        sent = client.post(
            "/api/v1/referrals",
            headers=doctor,
            json={
                "patient_id": found.json()["id"],
                "reason_codes": [{"system": "icpc2", "code": "T90"}],
                "reason_text": "Tyypin 2 diabetes, liikunta vähäistä.",
                "goal": "150 minuuttia reipasta liikuntaa viikossa.",
                "urgency": "routine",
                "preferred_language": "fi",
                "contact_mode": "in_person",
                "consent_to_counselling": True,
            },
        )
        if sent.status_code != 201:
            raise SystemExit(f"sending a referral failed: {sent.status_code} {sent.text}")
        referred += 1
        opened = client.get(f"/api/v1/referrals/{sent.json()['id']}", headers=counsellor)
        opened.raise_for_status()
    worklist = client.get("/api/v1/referrals", headers=counsellor)
    worklist.raise_for_status()
    if len(worklist.json()["items"]) != referred:
        raise SystemExit(f"the counsellor's worklist shows {len(worklist.json()['items'])}")
print(f"{referred} patients looked up and referred; the counsellor opened each referral")
PY
}

# row_counts URL: "table rows" for every table and partition in the public schema.
row_counts() {
  "$PG_BIN/psql" -X -A -t -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
SELECT format('SELECT %L || '' '' || count(*) FROM public.%I', c.relname, c.relname)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
ORDER BY c.relname
\gexec
SQL
}

compare_rows() {
  row_counts "$SOURCE_URL" >"$WORK/source.counts"
  row_counts "$COPY_URL" >"$WORK/copy.counts"
  if ! diff -u "$WORK/source.counts" "$WORK/copy.counts"; then
    echo "drill: the copy's row counts differ from the source's" >&2
    return 1
  fi
  echo "$(wc -l <"$WORK/source.counts") tables hold the same number of rows; among them:"
  local table rows
  for table in organisations users patients referrals audit_events outbox_events; do
    rows=$(awk -v t="$table" '$1 == t { print $2 }' "$WORK/source.counts")
    if [ -z "$rows" ]; then
      echo "drill: no table $table" >&2
      return 1
    fi
    printf '  %-14s %s\n' "$table" "$rows"
  done
  for table in patients referrals audit_events; do
    if [ "$(awk -v t="$table" '$1 == t { print $2 }' "$WORK/source.counts")" = 0 ]; then
      echo "drill: $table is empty: nothing was really restored" >&2
      return 1
    fi
  done
}

compare_heads() {
  on_copy "$ASKEL" audit anchor --out "$WORK/copy-anchor.jsonl" >/dev/null
  "$PYTHON" - "$WORK/anchors.jsonl" "$WORK/copy-anchor.jsonl" <<'PY'
import json
import sys

source, copy = (json.loads(open(path).read().splitlines()[-1]) for path in sys.argv[1:])
if (source["size"], source["root"]) != (copy["size"], copy["root"]):
    sys.exit(f"drill: the copy's tree has {copy['size']} entries, the source's {source['size']}")
print(f"Both trees hold {source['size']} entries under the root {source['root'][:16]}…")
PY
}

verify_fails_with_another_key() {
  local output
  if output=$(ASKEL_AUDIT_KEY=another-key-that-did-not-sign-the-log-0123456789 \
    on_copy "$ASKEL" audit verify 2>&1); then
    echo "drill: the log verified under a key that did not sign it" >&2
    echo "$output" >&2
    return 1
  fi
  echo "Under another key the log is refused, as it must be."
}

echo "=== Askel backup-and-restore drill: $SOURCE_DB -> dump -> $COPY_DB"
echo "    server: $("$PG_BIN/psql" -X -A -t -v ON_ERROR_STOP=1 -d "$ADMIN_URL" -c 'SHOW server_version')," \
  "tools: $("$PG_BIN/pg_dump" --version)"

step "create the source database" create_database "$SOURCE_DB"
step "askel db upgrade (source)" on_source "$ASKEL" db upgrade
step "askel demo-data (source)" on_source "$ASKEL" demo-data --no-history
step "use the API (source)" use_the_api
step "askel audit seal (source)" on_source "$ASKEL" audit seal
step "askel audit verify (source)" on_source "$ASKEL" audit verify
step "askel audit anchor (source)" on_source "$ASKEL" audit anchor --out "$WORK/anchors.jsonl"
step "pg_dump --format=custom" "$PG_BIN/pg_dump" --format=custom --file="$WORK/askel.dump" \
  --dbname="$SOURCE_URL"
echo "    dump: $(du -h "$WORK/askel.dump" | cut -f1)"
step "create the copy database" create_database "$COPY_DB"
step "pg_restore into the copy" "$PG_BIN/pg_restore" --exit-on-error --no-owner \
  --dbname="$COPY_URL" "$WORK/askel.dump"
step "askel audit verify --anchor (copy)" on_copy "$ASKEL" audit verify \
  --anchor "$WORK/anchors.jsonl"
step "compare the trees' heads" compare_heads
step "audit verify under another key (copy)" verify_fails_with_another_key
step "compare row counts" compare_rows

echo
echo "=== timings"
printf '%s\n' "${timings[@]}"
