#!/usr/bin/env bash
# Load test (`make loadtest`): a throw-away PostgreSQL database, migrated and seeded with the
# demo; gunicorn with 2 workers on a free local port, DEBUG off; bench/loadtest.py drives the
# simulated users, checks the invariants in the database, writes bench/RESULTS.md's
# "Load test" section and exits non-zero on a 5xx, a transport error or a broken invariant.
# The server is stopped and the database dropped at exit.
#
#   LOADTEST_USERS=50         simulated users
#   LOADTEST_DURATION=120     seconds of load
#   LOADTEST_RESULTS=bench/RESULTS.md   where the report goes ("-" or empty: print only)
#   LOADTEST_DB_RESTART_AT=0  seconds into the load to restart the PostgreSQL server (0: never;
#                             `make loadtest-db-restart`). It restarts the machine's cluster:
#                             every other connection to it is cut too.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/pg-lib.sh
pg_start

name="stemspace_load_$$"
role="stemspace_load"
password="stemspace_load_pw"
pg_role "$role" "$password"
as_postgres psql -p "$port" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $name OWNER $role"

workdir="$(mktemp -d /tmp/stemspace-load.XXXXXX)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$server_pid" 2>/dev/null || break; sleep 1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  as_postgres psql -p "$port" -qAtc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT

free_port="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# Production settings (DEBUG off, secure key), but plain HTTP on 127.0.0.1 and throttles high
# enough for fifty users sharing nine accounts. Mail goes to the console backend: its output
# (and the server's log) lands in a file, printed only when the run fails.
export DATABASE_URL="postgres://$role:$password@127.0.0.1:$port/$name"
export DATABASE_REPLICA_URL="$DATABASE_URL"
export DJANGO_SETTINGS_MODULE=config.settings
export SECRET_KEY="loadtest-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export DEBUG=0 ALLOWED_HOSTS=127.0.0.1 SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 \
  CSRF_COOKIE_SECURE=0 WRITE_THROTTLE_RATE=100000/min LOGIN_THROTTLE_RATE=100000/min \
  LOG_LEVEL=WARNING STATIC_ROOT="$workdir/static" MEDIA_ROOT="$workdir/media" \
  CACHE_DIR="$workdir/cache"
unset STEMSPACE_DEV
PY=.venv/bin/python

echo "== migrate, seed, collectstatic ($name)"
$PY manage.py migrate --noinput -v 0
$PY manage.py seed_demo >/dev/null
$PY manage.py collectstatic --noinput -v 0

echo "== gunicorn, 2 workers, 127.0.0.1:$free_port"
# For the restart drill, no recycling of workers after max_requests: the drill compares them.
max_requests=2000
[ "${LOADTEST_DB_RESTART_AT:-0}" != 0 ] && max_requests=0
GUNICORN_WORKERS=2 GUNICORN_BIND="127.0.0.1:$free_port" GUNICORN_MAX_REQUESTS=$max_requests \
  .venv/bin/gunicorn -c deploy/gunicorn.conf.py --access-logfile "$workdir/access.log" \
  --access-logformat '%(m)s %(U)s %(q)s %(s)s %(D)s' --error-logfile "$workdir/error.log" \
  config.wsgi >"$workdir/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 60); do
  curl -fsS -o /dev/null "http://127.0.0.1:$free_port/healthz" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$workdir/error.log" >&2; exit 1; }
  sleep 1
done

status=0
$PY bench/loadtest.py --base "http://127.0.0.1:$free_port" \
  --users "${LOADTEST_USERS:-50}" --duration "${LOADTEST_DURATION:-120}" \
  --results "${LOADTEST_RESULTS-bench/RESULTS.md}" --database-url "$DATABASE_URL" \
  --access-log "$workdir/access.log" --server-pid "$server_pid" \
  --restart-db-at "${LOADTEST_DB_RESTART_AT:-0}" \
  --restart-command "pg_ctlcluster $(pg_lsclusters --no-header | head -n 1 | awk '{print $1, $2}') restart -m fast" \
  || status=$?
if [ "$status" != 0 ]; then
  echo "== server errors (last lines of the error log)" >&2
  tail -n 40 "$workdir/error.log" >&2 || true
  grep -n -A 30 "Traceback" "$workdir/server.log" | tail -n 80 >&2 || true
fi
exit "$status"
