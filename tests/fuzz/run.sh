#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] [LIBFUZZER_ARGS...]: builds the CEL fuzzer with clang
# (-fsanitize=fuzzer,address,undefined) in build/fuzz, seeds its corpus from the conformance
# expressions, runs it for SECONDS (default 60) and prints a one-line summary. Exits non-zero
# when the fuzzer finds a crash, a sanitizer report, a hang (over 5 s) or a leak; the input
# that triggered it is kept in build/fuzz/artifacts/ (replay: build/fuzz/tests/fuzz/cel_fuzz FILE).
#
#   tests/fuzz/run.sh 3600                 # an hour; the corpus in build/fuzz/corpus grows
#   FUZZ_JOBS=2 tests/fuzz/run.sh 600      # one fuzzing process per core
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds="${1:-60}"
shift || true
build="$root/build/fuzz"
jobs="${FUZZ_JOBS:-1}"
cd "$root"

if [[ ! -f "$build/build.ninja" ]]; then
  mkdir -p "$build"
  cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DSY_FUZZ_ONLY=ON -DSY_WERROR=OFF \
    >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
fi
ninja -C "$build" --quiet cel_fuzz

# Seed corpus: every conformance and parse-error expression, one file each (named by content,
# so re-seeding is idempotent). New inputs the fuzzer finds accumulate beside them.
corpus="$build/corpus"
artifacts="$build/artifacts"
mkdir -p "$corpus" "$artifacts"
if [[ ! -f "$corpus/.seeded" ]]; then
  node -e '
    const fs = require("fs"), crypto = require("crypto");
    const [out, ...files] = process.argv.slice(1);
    let n = 0;
    for (const f of files) {
      for (const line of fs.readFileSync(f, "utf8").split("\n")) {
        if (!line.trim()) continue;
        const expr = JSON.parse(line).expr;
        if (typeof expr !== "string") continue;
        const name = crypto.createHash("sha1").update(expr).digest("hex");
        fs.writeFileSync(`${out}/${name}`, expr);
        n++;
      }
    }
    console.log(`fuzz: seeded ${n} expressions`);
  ' "$corpus" tests/conformance/data/conformance.jsonl tests/conformance/data/parse_errors.jsonl
  touch "$corpus/.seeded"
fi

# Each run adds inputs; once the corpus is large, keep only those that add coverage, so the
# initial pass over it stays a small part of a short run.
if (( $(find "$corpus" -type f ! -name .seeded | wc -l) > 8000 )); then
  rm -rf "$corpus.min" && mkdir -p "$corpus.min"
  "$build/tests/fuzz/cel_fuzz" -merge=1 -timeout=5 -rss_limit_mb=2048 "$corpus.min" "$corpus" \
    >"$build/merge.log" 2>&1 || { tail -20 "$build/merge.log"; exit 1; }
  touch "$corpus.min/.seeded"
  rm -rf "$corpus" && mv "$corpus.min" "$corpus"
fi

log="$build/last-run.log"
args=(-max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1
      -dict="$root/tests/fuzz/cel.dict" -artifact_prefix="$artifacts/")
if (( jobs > 1 )); then
  args+=(-fork="$jobs")
fi
# A smaller quarantine than ASan's 256 MB keeps the RSS and the pauses to recycle it small
# (a pause under load once passed the 5 s hang timeout).
export ASAN_OPTIONS="detect_leaks=1:quarantine_size_mb=64:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
status=0
"$build/tests/fuzz/cel_fuzz" "${args[@]}" "$@" "$corpus" >"$log" 2>&1 || status=$?

# The log holds raw inputs (binary): grep -a.
execs=$(grep -aoE "stat::number_of_executed_units: *[0-9]+" "$log" | grep -oE "[0-9]+$" | tail -1 || true)
if [[ -z "$execs" ]]; then
  execs=$(grep -aoE "^#[0-9]+" "$log" | tail -1 | tr -d '#' || true)
fi
files=$(find "$corpus" -type f ! -name .seeded | wc -l)
if (( status != 0 )); then
  grep -aE -A40 "^==[0-9]+==ERROR|runtime error|ALARM|deadly signal|leak" "$log" | head -60 || tail -40 "$log"
  echo "fuzz: FAILED (exit $status) after ${execs:-?} executions in ${seconds}s; artifacts in $artifacts, log $log"
  exit 1
fi
echo "fuzz: cel_fuzz ran ${seconds}s, ${execs:-?} executions, corpus $files inputs, no crashes, hangs or leaks"
