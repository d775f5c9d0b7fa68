#!/usr/bin/env bash
# `npm run test:unit`: the tap suite in three tap runs, one command.
# - The long files (`long`: real datastores stopped, frozen and restarted, and draining over TLS
#   and HTTP/2) wait far more than they compute. tap starts its files in the order of their names,
#   which would start these last, to make the tail of the run; so they have a run of their own
#   (all at once, TEST_UNIT_LONG_JOBS, so that the longest, ready-made-rabbitmq at about 30 s,
#   waits for no free slot) beside the rest (four at a time, TEST_UNIT_JOBS).
# - Most files take less CPU to run their tests than their process takes to start (tap, its hooks,
#   the plugin, the helpers: 0.5-1 s). The `shared` ones run one after another in three processes
#   (TEST_UNIT_SHARED; test/one-process.ts), which tap runs as files of .tap/groups/.
# - The files that run a load (autocannon, a load through HAProxy, a blocked event loop) run one at
#   a time after the others, never beside a test that bounds an answer's time.
# On Node.js 24 the per-line files take 57-61 s, 92-100 s of CPU (one run of four at a time took
# 104 s, 141 s of CPU; the long files four at a time beside the others three at a time, 60-68 s).
# Coverage is gathered over the three and checked once, at the end: each run is given its files as
# a --save list, which keeps the others' data (a plain run clears .tap/coverage).
# Arguments go to every run (e.g. --disable-coverage); TAP_DISABLE_COVERAGE=1 works too.
#
# TEST_UNIT_FILES picks the files: `all` (the default, what `npm test` runs), `per-line` (all but
# the `once` files below: what CI runs on each Node.js line) or `once` (only those, four at a time
# in one run without coverage: what CI runs once, on the newest line; under coverage, every Node.js
# process they start writes its coverage, and package.test.ts took 65 s where it takes 28-48 s
# without).
# The `once` files test what the Node.js line running them cannot change:
# - the package as npm packs it (its files, exports map and declarations, publint and
#   arethetypeswrong, TypeScript consumers), and TypeScript 7 consumers;
# - the shipped monitoring/ rules (promtool) and dashboard (JSON), and those rules end to end in a
#   real Prometheus and Alertmanager, on prom-client's figures and OpenTelemetry's (the figures
#   themselves are tested on every line: metrics-*.test.ts);
# - the status page in a real browser: what Chromium does with the page (the page and the history
#   behind it are served on every line: history.test.ts);
# - the test servers themselves: that they die with a killed test file, keep their whole log, and
#   start side by side.
# package.test.ts also loads the installed tarball with import and require(), on the newest line
# only; the same dist/ build is loaded on every line by demo, haproxy and command-probe, and its
# CommonJS build with require() by week-in-production. Coverage of lib/ comes from the other
# files: `per-line` keeps it at 100% without them.
set -euo pipefail
cd "$(dirname "$0")/.."
once=(
  test/monitoring-dashboard.test.ts
  test/monitoring-open-telemetry.test.ts
  test/monitoring-pipeline.test.ts
  test/monitoring-rules.test.ts
  test/package.test.ts
  test/servers-die.test.ts
  test/servers-log.test.ts
  test/servers-side-by-side.test.ts
  test/status-page.test.ts
  test/typescript-7.test.ts
)
long=(
  test/draining-tls-h2.test.ts
  test/rabbitmq-disk-alarm.test.ts
  test/ready-made-mysql.test.ts
  test/ready-made-postgres.test.ts
  test/ready-made-rabbitmq.test.ts
  test/ready-made-redis.test.ts
)
# Files that share processes, in TEST_UNIT_SHARED processes (see test/one-process.ts): each runs
# in well under a few seconds, starts no server, spawns no process that matters to its timing,
# sets no root-level timeout or hook, and leaves no process listener (one-process.ts checks that).
shared=(
  test/abort-listeners.test.ts
  test/check-thresholds.test.ts
  test/checks-http.test.ts
  test/checks.test.ts
  test/closing.test.ts
  test/draft-validator.test.ts
  test/drill-down.test.ts
  test/events.test.ts
  test/flat-cost.test.ts
  test/formats.test.ts
  test/groups.test.ts
  test/history.test.ts
  test/http.test.ts
  test/http2-https.test.ts
  test/lifecycle.test.ts
  test/metrics-open-telemetry.test.ts
  test/metrics-prometheus.test.ts
  test/neighbour-auth.test.ts
  test/neighbour-compress-helmet-cors.test.ts
  test/neighbour-rate-limit.test.ts
  test/on-change.test.ts
  test/options.test.ts
  test/plugin.test.ts
  test/probe-routes.test.ts
  test/process-checks.test.ts
  test/ready-made-common.test.ts
  test/ready-made-disk.test.ts
  test/ready-made-http.test.ts
  test/ready-made-tcp.test.ts
  test/ready-made-tls.test.ts
  test/ready-made-under-pressure.test.ts
  test/redact.test.ts
  test/remove-check.test.ts
  test/schema.test.ts
  test/server.test.ts
  test/shutdown.test.ts
  test/snapshot-property.test.ts
  test/swagger.test.ts
)
loads=(
  test/datastore-loads.test.ts
  test/haproxy.test.ts
  test/neighbour-under-pressure.test.ts
)
case "${TEST_UNIT_FILES:-all}" in
  all) skipped=() ;;
  per-line) skipped=("${once[@]}") ;;
  once)
    started=$SECONDS
    status=0
    npx tap --disable-coverage --jobs="${TEST_UNIT_JOBS:-4}" "$@" "${once[@]}" || status=$?
    echo "test-unit: the files run once: $((SECONDS - started)) s"
    exit "$status" ;;
  *) echo "test-unit: TEST_UNIT_FILES is all, per-line or once, not ${TEST_UNIT_FILES}" >&2; exit 2 ;;
esac
processes=${TEST_UNIT_SHARED:-3}
# None would leave the shared files out of every run.
[[ "$processes" =~ ^[1-9][0-9]*$ ]] || { echo "test-unit: TEST_UNIT_SHARED is a number of processes, 1 or more, not ${processes}" >&2; exit 2; }
# What an earlier run left is cleared here, as a plain run would: the --save runs keep it.
rm -rf .tap/coverage .tap/processinfo .tap/groups
mkdir -p .tap/groups
extra=("$@")
# One tap run: `run_listed <list file> <label> <tap options...> -- <files...>`.
run_listed () {
  local list=$1 label=$2 from=$SECONDS code=0 options=()
  shift 2
  while [ "$1" != -- ]; do options+=("$1"); shift; done
  shift
  printf '%s\n' "$@" > "$list"
  npx tap --save="$list" "${options[@]}" "${extra[@]}" "$@" || code=$?
  rm -f "$list"
  echo "test-unit: $label: $((SECONDS - from)) s"
  return "$code"
}
# The shared files' processes: each a file that hands its part of them to runInOneProcess().
rest=()
for ((group = 1; group <= processes; group++)); do
  names=()
  for ((index = group - 1; index < ${#shared[@]}; index += processes)); do names+=("'${shared[index]}'"); done
  runner=.tap/groups/shared-$group.test.mjs
  printf "import { runInOneProcess } from '../../test/one-process.ts'\nawait runInOneProcess([%s])\n" "$(IFS=,; echo "${names[*]}")" > "$runner"
  rest+=("$runner")
done
for file in test/*.test.ts; do
  case " ${loads[*]} ${long[*]} ${shared[*]} ${skipped[*]} " in *" $file "*) ;; *) rest+=("$file") ;; esac
done
# tap still prints "ERROR: incomplete coverage" for a partial run's own share; the label says so.
partial=(--allow-incomplete-coverage --coverage-report=none)
covered=yes
if [ "${TAP_DISABLE_COVERAGE:-}" = 1 ]; then covered=no; fi
for arg in "${extra[@]}"; do if [ "$arg" = --disable-coverage ]; then covered=no; fi; done
partly=''
if [ "$covered" = yes ]; then partly=' (coverage of this run alone is partial, checked over all three at the end)'; fi
status=0
# The long run's report is printed whole once it ends, not mixed into the other's.
run_listed .tap/long.txt "the long files, beside the others$partly" "${partial[@]}" --jobs="${TEST_UNIT_LONG_JOBS:-${#long[@]}}" -- "${long[@]}" > .tap/long.log 2>&1 &
long_run=$!
run_listed .tap/rest.txt "the files beside each other$partly" "${partial[@]}" --jobs="${TEST_UNIT_JOBS:-4}" -- "${rest[@]}" || status=$?
wait "$long_run" || status=$?
cat .tap/long.log
# Alone, and last: it checks the coverage of all three runs (a table of what is not covered, if
# any). A full coverage prints nothing, and the partial runs' errors above would be the last
# word on it: its summary is printed.
run_listed .tap/loads.txt 'the load files one at a time' --jobs=1 -- "${loads[@]}" || status=$?
if [ "$status" = 0 ] && [ "$covered" = yes ]; then npx tap report text-summary; fi
exit "$status"
