#!/usr/bin/env bash
# Run the test suite against a real, local PostgreSQL: start the server if it is
# down, make a throw-away database and role, point DATABASE_URL at it, clean up.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/pg-lib.sh
pg_start

name="stemspace_ci_$$"
role="stemspace_ci"
password="stemspace_ci_pw"
pg_role "$role" "$password"
as_postgres psql -p "$port" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $name OWNER $role"
cleanup() {
  as_postgres psql -p "$port" -qAtc "DROP DATABASE IF EXISTS $name" >/dev/null 2>&1 || true
  as_postgres psql -p "$port" -qAtc "DROP DATABASE IF EXISTS test_$name" >/dev/null 2>&1 || true
}
trap cleanup EXIT

export DATABASE_URL="postgres://$role:$password@127.0.0.1:$port/$name"
# A second alias on the same server stands in for the read replica of the reports.
export DATABASE_REPLICA_URL="$DATABASE_URL"
.venv/bin/pytest "$@"
