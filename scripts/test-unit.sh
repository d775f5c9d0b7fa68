#!/usr/bin/env bash
# `npm run test:unit`: the tap suite in two groups, one command. The files that run a load
# (autocannon, a load through HAProxy, draining under load, a blocked event loop) run one at a time
# after the others, never beside a test that bounds an answer's time; the others run four at a
# time (TEST_UNIT_JOBS; most of their time is spent waiting on servers: at two, the suite kept
# one of this machine's two CPUs idle, on average). Coverage is gathered over both and checked
# once, at the end: the second run keeps the first's data because it is given its files as a
# --save list (a plain run clears .tap/coverage).
# Arguments go to both runs (e.g. --disable-coverage); TAP_DISABLE_COVERAGE=1 works too.
#
# TEST_UNIT_FILES picks the files: `all` (the default, what `npm test` runs), `per-line` (all but
# the `once` files below: what CI runs on each Node.js line) or `once` (only those, four at a time
# in one run without coverage: what CI runs once, on the first line; under coverage, every Node.js
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
# - the test servers themselves: that they die with a killed test file and start side by side.
# package.test.ts also loads the installed tarball with import and require(), on the first line
# only; the same dist/ build is loaded on every line by demo, week-in-production, haproxy and
# command-probe. Coverage of lib/ comes from the other files: `per-line` keeps it at 100% without
# them.
set -euo pipefail
cd "$(dirname "$0")/.."
once=(
  test/monitoring-dashboard.test.ts
  test/monitoring-open-telemetry.test.ts
  test/monitoring-pipeline.test.ts
  test/monitoring-rules.test.ts
  test/package.test.ts
  test/servers-die.test.ts
  test/servers-side-by-side.test.ts
  test/status-page.test.ts
  test/typescript-7.test.ts
)
loads=(
  test/datastore-loads.test.ts
  test/draining-tls-h2.test.ts
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
excluded=()
for file in "${loads[@]}" "${skipped[@]}"; do excluded+=("--exclude=$file"); done
started=$SECONDS
status=0
npx tap --allow-incomplete-coverage --coverage-report=none --jobs="${TEST_UNIT_JOBS:-4}" "${excluded[@]}" "$@" || status=$?
echo "test-unit: the files beside each other: $((SECONDS - started)) s"
mkdir -p .tap
list=.tap/load-group.txt
printf '%s\n' "${loads[@]}" > "$list"
started=$SECONDS
npx tap --jobs=1 --save="$list" "$@" || status=$?
rm -f "$list"
echo "test-unit: the load files one at a time: $((SECONDS - started)) s"
exit "$status"
