# Shared by scripts/test-postgres.sh, bench/run.sh and bench/loadtest.sh (source it):
# start the local PostgreSQL cluster if it is down and make a login role for throw-away
# databases. Sets $port.

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

pg_start() {
  if ! command -v pg_lsclusters >/dev/null; then
    echo "PostgreSQL is not installed (apt-get install postgresql postgresql-contrib)" >&2
    exit 1
  fi
  local version cluster status
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
}

# pg_role NAME PASSWORD: a login role that may create databases (made once).
pg_role() {
  as_postgres psql -p "$port" -qAt -v ON_ERROR_STOP=1 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$1') THEN
    CREATE ROLE $1 LOGIN CREATEDB PASSWORD '$2';
  END IF;
END \$\$;
SQL
}
