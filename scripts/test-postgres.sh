#!/usr/bin/env bash
# Run the test suite against a real, local PostgreSQL: start the server if it is
# down, make a throw-away database and role, point DATABASE_URL at it, clean up.
set -euo pipefail
cd "$(dirname "$0")/.."

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

if ! command -v pg_lsclusters >/dev/null; then
  echo "PostgreSQL is not installed (apt-get install postgresql postgresql-contrib)" >&2
  exit 1
fi
read -r version cluster port status _ < <(pg_lsclusters --no-header | head -n 1)
if [ -z "${version:-}" ]; then
  echo "No PostgreSQL cluster found (pg_createcluster)" >&2
  exit 1
fi
if [ "$status" != "online" ]; then
  pg_ctlcluster "$version" "$cluster" start
fi
for _ in $(seq 1 30); do
  as_postgres psql -p "$port" -qAtc "select 1" >/dev/null 2>&1 && break
  sleep 1
done

name="stemspace_ci_$$"
role="stemspace_ci"
password="stemspace_ci_pw"
as_postgres psql -p "$port" -qAt -v ON_ERROR_STOP=1 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
    CREATE ROLE $role LOGIN CREATEDB PASSWORD '$password';
  END IF;
END \$\$;
CREATE DATABASE $name OWNER $role;
SQL
cleanup() {
  as_postgres psql -p "$port" -qAtc "DROP DATABASE IF EXISTS $name" >/dev/null 2>&1 || true
  as_postgres psql -p "$port" -qAtc "DROP DATABASE IF EXISTS test_$name" >/dev/null 2>&1 || true
}
trap cleanup EXIT

export DATABASE_URL="postgres://$role:$password@127.0.0.1:$port/$name"
# A second alias on the same server stands in for the read replica of the reports.
export DATABASE_REPLICA_URL="$DATABASE_URL"
.venv/bin/pytest "$@"
