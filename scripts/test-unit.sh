#!/usr/bin/env bash
# `npm run test:unit`: the tap suite in two groups, one command. The files that run a load
# (autocannon, a load through HAProxy, draining under load, a blocked event loop) run one at a time
# after the others, never beside a test that bounds an answer's time; the others run two at a time
# (.taprc). Coverage is gathered over both and checked once, at the end: the second run keeps the
# first's data because it is given its files as a --save list (a plain run clears .tap/coverage).
# Arguments go to both runs (e.g. --disable-coverage); TAP_DISABLE_COVERAGE=1 works too.
set -euo pipefail
cd "$(dirname "$0")/.."
loads=(
  test/draining-tls-h2.test.ts
  test/haproxy.test.ts
  test/neighbour-under-pressure.test.ts
  test/ready-made-mysql.test.ts
  test/ready-made-postgres.test.ts
  test/ready-made-redis.test.ts
)
excluded=()
for file in "${loads[@]}"; do excluded+=("--exclude=$file"); done
started=$SECONDS
status=0
npx tap --allow-incomplete-coverage --coverage-report=none "${excluded[@]}" "$@" || status=$?
echo "test-unit: the files beside each other: $((SECONDS - started)) s"
mkdir -p .tap
list=.tap/load-group.txt
printf '%s\n' "${loads[@]}" > "$list"
started=$SECONDS
npx tap --jobs=1 --save="$list" "$@" || status=$?
rm -f "$list"
echo "test-unit: the load files one at a time: $((SECONDS - started)) s"
exit "$status"
