#!/usr/bin/env bash
# fhircheck against Newman and Hurl on the same FHIR work, in one run of the shared harness
# (../shared/bench: nginx fixture on 127.0.0.1:18080, hyperfine, peak RSS).
#
#   bench/run.sh                 # setup on first use (apt, newman, hurl: minutes), then every case
#   ONLY='startup|smoke' bench/run.sh
#   FC_BASELINE=/path/to/older/fhircheck bench/run.sh   # the same cases for an older build, tool
#                                                       # name "fcbase", in the same run
#   FC=/path/to/fhircheck bench/run.sh                  # a given build instead of building one
#
# Also prints the script engine's start-up and per-script cost (examples/script_cost.rs).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
SHARED=${SHARED:-$ROOT/../shared/bench}
WORK=${WORK:-$HERE/work}
if [ ! -f "$WORK/bench.sh" ]; then
  mkdir -p "$WORK" && cp -r "$SHARED"/. "$WORK"/ && chmod -R u+w "$WORK"
fi
if [ ! -x "$WORK/newman/node_modules/.bin/newman" ] || [ ! -x "$WORK/hurl-root/bin/hurl" ]; then
  "$WORK/bench.sh" setup
fi
if [ -z "${FC:-}" ]; then
  cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" --bin fhircheck --example script_cost
  FC="$ROOT/target/release/fhircheck"
fi
SCRIPT_COST=${SCRIPT_COST:-$(dirname "$FC")/examples/script_cost}
python3 "$HERE/gen_bulk.py" "$WORK/fhircheck-bulk-1000.json"
python3 "$HERE/gen_big.py" "$WORK"
# The 100 MB searchset gets its own route in the work copy of the fixture server's config.
grep -q big100 "$WORK/nginx/nginx.conf.in" || sed -i 's#^        location / { return 404; }#        location = /fhir/Patient/big100 {\n            if ($http_authorization !~ "^Bearer .+") { return 401; }\n            alias /tmp/perf/data/bundle-100mb.json;\n        }\n        location / { return 404; }#' "$WORK/nginx/nginx.conf.in"
# The --jobs cases: a threaded server that answers after 300 ms, on 127.0.0.1:18090.
python3 "$HERE/slow_server.py" 18090 & SLOW_PID=$!
trap 'kill $SLOW_PID 2>/dev/null || true' EXIT
REPORTS="$WORK/fhircheck-reports"
cat > "$WORK/fhircheck-cases.sh" <<CASES
# sourced by bench.sh: \$TOKEN, \$C and \$P are the harness's
add_case startup/fhircheck            fast 0    "$FC --version"
add_case smoke/fhircheck              fast 3    "$FC run --quiet $HERE/collections/smoke.json"
add_case smoke/fhircheck-postman      fast 3    "$FC run --quiet \$C/newman/smoke.postman_collection.json"
add_case bulk/fhircheck-native1000    fast 1000 "$FC run --quiet $WORK/fhircheck-bulk-1000.json --var access_token=\$TOKEN"
add_case bulk/fhircheck-postman1000   fast 1000 "$FC run --quiet \$C/newman/bulk-1000.postman_collection.json --env-var access_token=\$TOKEN"
add_case bulk/fhircheck-postman-n1000 fast 1000 "$FC run --quiet \$C/newman/bulk-one.postman_collection.json -n 1000 --env-var access_token=\$TOKEN"
add_case bulk/fhircheck-fhirpath1000   fast 1000 "$FC run --quiet $WORK/fhircheck-fhirpath-1000.json --var access_token=\$TOKEN"
add_case bulk/fhircheck-junit1000     fast 1000 "$FC run --quiet -r json,junit --report-dir $REPORTS $WORK/fhircheck-bulk-1000.json --var access_token=\$TOKEN"
add_case big/fhircheck                fast 1    "$FC run --quiet $HERE/collections/big.json --var access_token=\$TOKEN"
add_case big100/fhircheck             fast 1    "$FC run --quiet $WORK/fhircheck-big100.json --max-body 200MiB --var access_token=\$TOKEN"
add_case big100/curl                  fast 1    "curl -sS --fail -H 'Authorization: Bearer \$TOKEN' -o /dev/null \$BASE/fhir/Patient/big100"
add_case big100/hurl                  fast 1    "\$HURL --test --jobs 1 --variable base_url=\$BASE --variable access_token=\$TOKEN $WORK/hurl-big100.hurl"
add_case jobs/fhircheck-1             fast 1    "$FC run --quiet $WORK/fhircheck-jobs1.json"
add_case jobs/fhircheck-6-jobs1       fast 6    "$FC run --quiet --jobs 1 $(echo "$WORK"/fhircheck-jobs{1,2,3,4,5,6}.json)"
add_case jobs/fhircheck-6-jobs6       fast 6    "$FC run --quiet --jobs 6 $(echo "$WORK"/fhircheck-jobs{1,2,3,4,5,6}.json)"
add_case jobs/hurl-6-jobs6            fast 6    "\$HURL --test --jobs 6 $(echo "$WORK"/hurl-jobs{1,2,3,4,5,6}.hurl)"
CASES
if [ -n "${FC_BASELINE:-}" ]; then
  cat >> "$WORK/fhircheck-cases.sh" <<CASES
add_case startup/fcbase               fast 0    "$FC_BASELINE --version"
add_case smoke/fcbase                 fast 3    "$FC_BASELINE run --quiet $HERE/collections/smoke.json"
add_case bulk/fcbase-native1000       fast 1000 "$FC_BASELINE run --quiet $WORK/fhircheck-bulk-1000.json --var access_token=\$TOKEN"
add_case bulk/fcbase-postman1000      fast 1000 "$FC_BASELINE run --quiet \$C/newman/bulk-1000.postman_collection.json --env-var access_token=\$TOKEN"
add_case big/fcbase                   fast 1    "$FC_BASELINE run --quiet $HERE/collections/big.json --var access_token=\$TOKEN"
add_case big100/fcbase                fast 1    "$FC_BASELINE run --quiet $WORK/fhircheck-big100.json --var access_token=\$TOKEN"
CASES
fi
EXTRA="$WORK/fhircheck-cases.sh" "$WORK/bench.sh"
echo
echo "== script engine (QuickJS via rquickjs)"
"$SCRIPT_COST"
if [ -n "${FC_BASELINE:-}" ] && [ -x "$(dirname "$FC_BASELINE")/examples/script_cost" ]; then
  echo "== script engine, baseline build"
  "$(dirname "$FC_BASELINE")/examples/script_cost"
fi
# Wall-clock figures of a millisecond move with the machine's load; instruction counts do not.
# `script_cost --probe N`: start the engine and run the typical script N times, under callgrind.
# A baseline build without the probe mode prints its timings instead: it is left out.
instructions() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
if command -v valgrind >/dev/null 2>&1; then
  for probe in "$SCRIPT_COST" ${FC_BASELINE:+"$(dirname "$FC_BASELINE")/examples/script_cost"}; do
    [ -x "$probe" ] && [ -z "$("$probe" --probe 0)" ] || continue
    start=$(instructions "$probe" --probe 0)
    run=$(instructions "$probe" --probe 200)
    echo "== instructions ($probe --probe): start-up $start, per script $(( (run - start) / 200 ))"
  done
fi
