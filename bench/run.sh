#!/usr/bin/env bash
# Benchmarks on a real, local PostgreSQL (`make bench`): start the server if it is down,
# make a throw-away database per scale, migrate, generate the data and measure; then measure
# booking_create on both, the two called in turn; print the table and write bench/RESULTS.md.
# Each scale's measurements end with the usage report (bench/usage_bench.py).
# The databases are dropped at exit.
#
#   BENCH_SCALES="province country"  which scales to run (default: both, in that order)
#   BENCH_RUNS=40                    measured runs per figure (warm-up runs come on top)
#   BENCH_USAGE_RUNS=7               usage report by school and its SQL baseline, runs each
#   BENCH_RESULTS=bench/RESULTS.md   where the report goes
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/pg-lib.sh
pg_start

# One throw-away database per scale (the country one is not a province one plus rows: its size
# against the buffer cache is the point), named after this shell's pid.
scales="${BENCH_SCALES:-province country}"
prefix="stemspace_bench_$$"
role="stemspace_bench"
password="stemspace_bench_pw"
pg_role "$role" "$password"
cleanup() {
  for scale in $scales; do
    as_postgres psql -p "$port" -qAtc "DROP DATABASE IF EXISTS ${prefix}_$scale WITH (FORCE)" \
      >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

url() { echo "postgres://$role:$password@127.0.0.1:$port/${prefix}_$1"; }
# Development settings (no SECRET_KEY needed), but DEBUG off: no query log, production code paths.
export STEMSPACE_DEV=1 DEBUG=0 DJANGO_SETTINGS_MODULE=config.settings LOG_LEVEL=WARNING
PY=.venv/bin/python
out=bench/out
mkdir -p "$out"
rm -f "$out"/*.json

started=$(date +%s)
for scale in $scales; do
  # btree_gist (the exclusion constraint) is a trusted extension: the owner may create it.
  as_postgres psql -p "$port" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE ${prefix}_$scale OWNER $role"
  export DATABASE_URL; DATABASE_URL="$(url "$scale")"
  echo "== migrate ${prefix}_$scale"
  $PY manage.py migrate --noinput -v 0
  echo "== generate: $scale"
  $PY bench/generate.py --scale "$scale"
  # Start the measurements from a clean slate: the load's dirty pages written out.
  as_postgres psql -p "$port" -qAtc "CHECKPOINT" >/dev/null
  echo "== measure: $scale"
  $PY bench/bench.py --scale "$scale" --runs "${BENCH_RUNS:-40}" \
    --usage-runs "${BENCH_USAGE_RUNS:-7}" --out "$out/$scale.json"
done

if [ "$scales" = "province country" ]; then
  # The ratio country / province of booking_create, measured calling the two databases in turn
  # so that the load of a shared machine weighs on both alike.
  echo "== measure: booking_create, province and country called in turn"
  DATABASE_URL="$(url province)" $PY bench/bench.py --paired "${prefix}_province" \
    "${prefix}_country" --out "$out/paired.json"
fi

$PY bench/bench.py --report --out-dir "$out" --results "${BENCH_RESULTS:-bench/RESULTS.md}" \
  --elapsed "$(( $(date +%s) - started ))"
