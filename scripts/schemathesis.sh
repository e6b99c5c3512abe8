#!/usr/bin/env bash
# Fuzzes the REST API v2 against its own OpenAPI document with schemathesis (from PyPI): every operation
# gets generated valid and invalid requests, and every answer is checked against the document (status
# codes, content types, headers, response schemas) and for server errors.
#
# What it does:
#   1. installs schemathesis into a venv under target/ (once);
#   2. builds `dialtone`, creates a fresh data directory under target/ and an API key in it with
#      `dialtone admin create-key`;
#   3. starts the API server (`api/examples/api_server.rs`: the same router `dialtone serve` mounts, on the
#      same store, without the call side and without the job and webhook workers, so the agents and
#      webhooks that generated requests create are never crawled or called: nothing leaves the machine)
#      on a loopback port with that data directory (SQLite; DATABASE_URL is cleared so a developer's
#      PostgreSQL is never touched) and no rate limits, and waits for /.well-known/openapi.json;
#   4. runs `schemathesis run` with the key as bearer token, then stops the server and fails if the
#      server log shows a panic.
#
# GET /v2/events is left out: it is an endless Server-Sent Events stream, which schemathesis would wait
# on for ever; its tests are in api/tests/http_api/events.rs.
#
# The check `positive_data_acceptance` is off by default: it expects every request the document allows to
# succeed, and three rules of this API cannot be written as JSON Schema: a pagination cursor must be one
# the server made (any other string is a 400), a business URL must be a real website address, and an
# Idempotency-Key reused with another body is a 422 by design (schemathesis reuses generated keys).
# Everything else is checked. Turn it on with SCHEMATHESIS_CHECKS=all SCHEMATHESIS_EXCLUDE=none.
#
# Usage: scripts/schemathesis.sh [extra schemathesis options]
#   env SCHEMATHESIS_MAX_EXAMPLES (default 30) per operation, SCHEMATHESIS_PORT (default 18089),
#   SCHEMATHESIS_CHECKS (default all), SCHEMATHESIS_EXCLUDE (default positive_data_acceptance; `none`
#   excludes nothing).
# Exit status: schemathesis's (0 when every check passed).
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.32.5
venv=target/schemathesis-venv
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
  echo "schemathesis.sh: installing schemathesis $version into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==$version"
fi

cargo build --quiet --locked --bin dialtone
cargo build --quiet --locked -p dialtone-api --example api_server
bin=target/debug/dialtone
data=$(mktemp -d "$PWD/target/schemathesis-data.XXXXXX")
port=${SCHEMATHESIS_PORT:-18089}
base=http://127.0.0.1:$port

export DATABASE_URL=
key=$("$bin" admin create-key --data-dir "$data" --tenant schemathesis --name schemathesis | tail -n1)
case $key in
  sk_live_*) ;;
  *) echo "schemathesis.sh: create-key printed no key" >&2; exit 1 ;;
esac

target/debug/examples/api_server --http "127.0.0.1:$port" --data-dir "$data" --write-rate 0 --read-rate 0 \
  >"$data/server.log" 2>&1 &
server=$!
stop() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
}
trap stop EXIT

for _ in $(seq 1 150); do
  curl -fsS "$base/.well-known/openapi.json" -o /dev/null 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$data/server.log" >&2; echo "schemathesis.sh: the server exited" >&2; exit 1; }
  sleep 0.2
done

exclude=${SCHEMATHESIS_EXCLUDE:-positive_data_acceptance}
exclude_args=()
[ "$exclude" = none ] || exclude_args=(--exclude-checks "$exclude")

status=0
# Run from the data directory, where schemathesis keeps its example database, so the work tree stays clean.
st=$PWD/$venv/bin/schemathesis
(cd "$data" && "$st" run "$base/.well-known/openapi.json" \
  --url "$base" \
  --header "Authorization: Bearer $key" \
  --checks "${SCHEMATHESIS_CHECKS:-all}" "${exclude_args[@]}" \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-30}" \
  --exclude-path /v2/events \
  --request-timeout 10 \
  --report junit --report-dir "$data/report" \
  "$@") || status=$?

stop
trap - EXIT
if grep -q "panicked" "$data/server.log"; then
  echo "schemathesis.sh: the server panicked; see $data/server.log" >&2
  status=1
fi
echo "schemathesis.sh: server log and report in $data" >&2
exit "$status"
