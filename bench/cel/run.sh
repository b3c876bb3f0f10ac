#!/usr/bin/env bash
# bench/cel/run.sh: builds cel_bench (release preset), installs the npm CEL engines, runs both
# on bench/cel/expressions.json and prints the markdown comparison table with the targets.
# Run it on a quiet machine: other load moves the medians.
#
#   bench/cel/run.sh                 # median of 5 repetitions
#   REPS=9 bench/cel/run.sh          # steadier
#   bench/cel/run.sh > bench/results/cel.md
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
"$root/scripts/setup" --with-tests
"$root/scripts/build" release cel_bench
here="$root/bench/cel"
if [[ ! -f "$here/node_modules/.package-lock.json" || "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]]; then
  (cd "$here" && npm ci --no-audit --no-fund --silent)
fi
node "$here/compare.mjs" "$root/build/release/bench/cel/cel_bench"
