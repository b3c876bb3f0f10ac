#!/usr/bin/env bash
# The cost of observing: the gateway benchmark's plain request (the 4 KB chat body through one
# worker, wrk at 64 connections) against two gateways side by side — one with the request log
# off, one with the log and the JSON-lines exporter on — in interleaved pairs, so the machine's
# noise falls on both. Prints each pair's ratio and the median (target: ≥ 0.95).
#
#   bench/observe/run.sh                    # about 2 minutes
#   PAIRS=9 DURATION=10 bench/observe/run.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
gateway="$root/bench/gateway"
PAIRS="${PAIRS:-7}"
DURATION="${DURATION:-5}"
MOCK_PORT="${MOCK_PORT:-18281}" OFF_PORT="${OFF_PORT:-18282}" ON_PORT="${ON_PORT:-18283}"

"$root/scripts/setup" --with-tests
command -v wrk >/dev/null || { sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"; $sudo apt-get install -y -qq wrk >/dev/null; }
"$root/scripts/build" release switchyard
bin="$root/build/release/src/cli/switchyard"

work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
wait_port() { for _ in $(seq 200); do curl -fs -o /dev/null "http://127.0.0.1:$1/healthz" && return 0; sleep 0.05; done; exit 1; }

"$bin" mock-upstream --port "$MOCK_PORT" --workers 1 >"$work/mock.log" 2>&1 &
pids+=($!)
for side in off on; do
  port=$OFF_PORT; [[ $side == on ]] && port=$ON_PORT
  {
    echo "listen: 127.0.0.1:$port"
    echo "workers: 1"
    echo "demo: false"
    echo "database: $work/$side.db"
    echo "providers: [{name: mock, kind: openai, base_url: 'http://127.0.0.1:$MOCK_PORT/v1', api_key: bench, models: '*'}]"
    if [[ $side == off ]]; then
      echo "log: {enabled: false}"
    else
      echo "log: {metadata: [plan, tenant]}"
      [[ "${EXPORT:-1}" == 1 ]] && echo "export: {jsonl: {path: $work/records.jsonl}}"
      :
    fi
  } >"$work/$side.yaml"
  "$bin" serve --config "$work/$side.yaml" >"$work/$side.log" 2>&1 &
  pids+=($!)
  wait_port "$port"
done

run() {  # run PORT -> requests per second
  MODEL="mock/len-16" BODY="$gateway/chat_4k.json" wrk -t1 -c64 -d"${DURATION}"s -s "$gateway/post.lua" \
    "http://127.0.0.1:$1/v1/chat/completions" 2>&1 | awk '/^Requests\/sec:/ {print $2}'
}
run "$OFF_PORT" >/dev/null; run "$ON_PORT" >/dev/null  # warm-up
ratios=()
sum_on=0 sum_off=0
for i in $(seq "$PAIRS"); do
  if (( i % 2 )); then off=$(run "$OFF_PORT"); on=$(run "$ON_PORT"); else on=$(run "$ON_PORT"); off=$(run "$OFF_PORT"); fi
  ratio=$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", a / b }')
  ratios+=("$ratio")
  sum_on=$(awk -v s="$sum_on" -v a="$on" 'BEGIN { print s + a }')
  sum_off=$(awk -v s="$sum_off" -v a="$off" 'BEGIN { print s + a }')
  echo "pair $i: log off $off req/s, log + jsonl export $on req/s, ratio $ratio"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
records=$(wc -l <"$work/records.jsonl" 2>/dev/null || echo 0)
echo
# Two estimates of one ratio: the median of the pairs' ratios, and the sum of the log-on rates
# over the sum of the log-off ones.
total=$(awk -v a="$sum_on" -v b="$sum_off" 'BEGIN { printf "%.3f", a / b }')
echo "| log + export / log off (req/s) | median of $PAIRS pairs | all pairs' totals | range | records exported |"
echo "|---|---:|---:|---|---:|"
echo "| throughput ratio | $median | $total | $(printf '%s\n' "${ratios[@]}" | sort -g | head -1)–$(printf '%s\n' "${ratios[@]}" | sort -g | tail -1) | $records |"
