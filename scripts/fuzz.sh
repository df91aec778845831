#!/usr/bin/env bash
# Fuzz the whole API with schemathesis (make test-fuzz, CI): a fresh SQLite database seeded by
# seed_demo, gunicorn on 127.0.0.1, one run per demo role (token auth) and one anonymous run over
# every operation of the OpenAPI schema. Checks: no 500 (not_a_server_error) and every response
# matches the schema (response_schema_conformance). Bounded: the schema's examples, then
# FUZZ_MAX_EXAMPLES generated cases per operation and role, with a fixed seed so that CI repeats
# the same cases. The coverage phase is left out: it took three minutes a role on its own.
# Then, per role, the stateful phase: scenarios of at most FUZZ_STATEFUL_STEPS calls that follow
# the schema's links (api/schema_links.py, and those schemathesis infers) with the ids the API
# returned — create a booking, then approve, cancel or read its history; lend, then return; …
# In every phase scripts/fuzz_hooks.py makes two in three bodies of the creating operations
# plausible (a slot in a space of the role's school, …), so that writes really happen and the
# stateful phase has something to follow. A suite (at most FUZZ_STATEFUL_SCENARIOS scenarios)
# ends early whenever Hypothesis sees the server answer differently on a replay (it keeps
# state), so suites are repeated, each with the next seed, for FUZZ_STATEFUL_SECONDS a role.
# About 6 minutes in all on 2 cores. Last, check_integrity runs over the fuzzed database: no
# write may have left data inconsistent. Any failure fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-8}
STATEFUL_SECONDS=${FUZZ_STATEFUL_SECONDS:-25}
STATEFUL_STEPS=${FUZZ_STATEFUL_STEPS:-8}
STATEFUL_SCENARIOS=${FUZZ_STATEFUL_SCENARIOS:-100}
SEED=${FUZZ_SEED:-20261126}
PORT=${FUZZ_PORT:-8765}
ROLES=${FUZZ_ROLES:-"anonymous union mentor1 manager.ndc teacher.ndc student.ndc"}

work=$(mktemp -d /tmp/stemspace-fuzz.XXXXXX)
export STEMSPACE_DEV=1 DEBUG=0
export DATABASE_URL="sqlite:///$work/fuzz.sqlite3"
export DATABASE_REPLICA_URL="$DATABASE_URL"
export MEDIA_ROOT="$work/media"
# The fuzzer writes a lot and logs in with wrong passwords: no throttles or lockouts here.
export WRITE_THROTTLE_RATE=1000000/min LOGIN_THROTTLE_RATE=1000000/min AXES_FAILURE_LIMIT=1000000
export LOG_LEVEL=${FUZZ_LOG_LEVEL:-ERROR}
# The e-mails the writes send (cancellations, decisions) are not what is checked here.
export EMAIL_BACKEND=django.core.mail.backends.dummy.EmailBackend

server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py seed_demo >/dev/null
.venv/bin/python manage.py spectacular --file "$work/schema.yml" >/dev/null 2>&1
# The stateful phase's bounds per suite, which the command line cannot set.
cat >"$work/schemathesis.toml" <<EOF
[phases.stateful]
max-steps = $STATEFUL_STEPS

[phases.stateful.generation]
max-examples = $STATEFUL_SCENARIOS
EOF

.venv/bin/gunicorn config.wsgi:application --bind "127.0.0.1:$PORT" --workers 2 --threads 2 \
  --timeout 60 --log-level warning &
server=$!
base="http://127.0.0.1:$PORT"
for _ in $(seq 1 50); do
  curl -fsS -o /dev/null "$base/healthz" 2>/dev/null && break
  sleep 0.2
done

token() {
  curl -fsS -X POST "$base/api/v1/auth/token/" -H 'Content-Type: application/json' \
    -d "{\"username\": \"$1\", \"password\": \"demo12345\"}" \
    | .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

# From the work folder, so that its example database (.schemathesis/) goes away with it.
# One worker: with two threads, Python 3.11.7's ast.parse (Hypothesis describing a strategy)
# now and then failed with "AST constructor recursion depth mismatch" (CPython gh-106905).
# The hooks ask the API, as the role being fuzzed, what it may use (FUZZ_BASE_URL, FUZZ_TOKEN).
# DELETE auth/token/ is left out: it would revoke the very token the run uses, leaving the rest
# of it anonymous (tests/api/test_auth.py covers it).
schemathesis() {
  (cd "$work" && FUZZ_BASE_URL="$base" FUZZ_TOKEN="$fuzz_token" \
    SCHEMATHESIS_HOOKS="$OLDPWD/scripts/fuzz_hooks.py" \
    "$OLDPWD/.venv/bin/schemathesis" --no-color --config-file "$work/schemathesis.toml" \
    run "$work/schema.yml" --url "$base" "${auth[@]}" \
    --checks not_a_server_error,response_schema_conformance \
    --exclude-operation-id auth_token_destroy \
    --workers 1 --request-timeout 30 --suppress-health-check all --warnings off "$@")
}

status=0
start=$(date +%s)
for role in $ROLES; do
  auth=()
  fuzz_token=""
  if [ "$role" != anonymous ]; then
    fuzz_token=$(token "$role")
    auth=(-H "Authorization: Token $fuzz_token")
  fi
  echo "== schemathesis as $role"
  schemathesis --phases examples,fuzzing --max-examples "$MAX_EXAMPLES" --seed "$SEED" \
    || status=1
  echo "== schemathesis as $role: stateful"
  schemathesis --phases stateful --max-time "$STATEFUL_SECONDS" --seed "$SEED" || status=1
done
echo "== check_integrity"
.venv/bin/python manage.py check_integrity || status=1
echo "fuzz: roles: $ROLES; ${MAX_EXAMPLES} examples per operation, stateful ${STATEFUL_SECONDS}s" \
  "a role; $(( $(date +%s) - start ))s"
exit $status
