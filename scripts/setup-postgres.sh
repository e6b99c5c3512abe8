#!/usr/bin/env bash
# Makes a local PostgreSQL ready for the store's tests: installs Debian's `postgresql` if it is missing,
# starts a cluster (creating one first if the machine has none), and creates a login role with a password and
# a database it owns. The role may create databases because every PostgreSQL test makes its own.
# Idempotent. Progress goes to stderr; the last line on stdout is the URL, e.g.
#   export DIALTONE_TEST_DATABASE_URL="$(scripts/setup-postgres.sh | tail -n1)"
# Runs as root (CI's fresh Debian) or through sudo.
set -euo pipefail

role=${DIALTONE_PG_ROLE:-dialtone_test}
password=${DIALTONE_PG_PASSWORD:-dialtone_test}
database=${DIALTONE_PG_DATABASE:-dialtone_test}

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
log() { echo "setup-postgres: $*" >&2; }

if ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || ! command -v pg_lsclusters >/dev/null; then
  log "installing Debian's postgresql"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends postgresql postgresql-client >&2
fi

# The package creates a cluster when it installs, but an image built with its policy-rc.d or a dropped
# cluster can leave none.
if [ -z "$(pg_lsclusters --no-header 2>/dev/null)" ]; then
  version=$(basename "$(compgen -G '/usr/lib/postgresql/*' | sort -V | tail -n1)")
  log "creating cluster $version/main"
  $sudo pg_createcluster "$version" main >&2
fi

read -r version cluster port status _ < <(pg_lsclusters --no-header | head -n1)
if [ "$status" != "online" ]; then
  log "starting cluster $version/$cluster on port $port"
  # pg_ctlcluster works without systemd (containers, CI) and drops to the postgres user by itself.
  $sudo pg_ctlcluster "$version" "$cluster" start >&2
fi

for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$port" || { log "cluster $version/$cluster does not accept connections"; exit 1; }

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}
psql_admin() { as_postgres psql -p "$port" -v ON_ERROR_STOP=1 -qtA "$@"; }

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" = "1" ]; then
  # Reset the password so a role left by an earlier run with another password still logs in.
  psql_admin -c "ALTER ROLE \"$role\" LOGIN CREATEDB PASSWORD '$password'" >/dev/null
else
  log "creating role $role"
  psql_admin -c "CREATE ROLE \"$role\" LOGIN CREATEDB PASSWORD '$password'" >/dev/null
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$database'")" != "1" ]; then
  log "creating database $database"
  psql_admin -c "CREATE DATABASE \"$database\" OWNER \"$role\"" >/dev/null
fi

# Each test makes a database named dialtone_t_<random> and drops it at its end; a test that panicked leaves
# its database behind, so clear those out before a new run.
psql_admin -c "SELECT datname FROM pg_database WHERE datname LIKE 'dialtone\\_t\\_%'" | while read -r stale; do
  [ -n "$stale" ] && psql_admin -c "DROP DATABASE IF EXISTS \"$stale\" WITH (FORCE)" >/dev/null
done

url="postgres://$role:$password@127.0.0.1:$port/$database"
# Password authentication over TCP is what the tests use: check it works (Debian's pg_hba.conf allows
# scram-sha-256 on 127.0.0.1 by default).
PGPASSWORD=$password psql "host=127.0.0.1 port=$port user=$role dbname=$database" -qtA -c 'SELECT 1' >/dev/null
log "ready: $url"
echo "$url"
