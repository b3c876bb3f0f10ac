#!/usr/bin/env bash
# The cost of observing: the gateway benchmark's plain request (the 4 KB chat body through one
# worker, wrk at 64 connections) against two gateways side by side — one with the request log
# off, one with the log and the JSON-lines exporter on — in interleaved pairs, so the machine's
# noise falls on both. Prints each pair's ratio and the median (target: ≥ 0.95).
#
#   bench/observe/run.sh                    # about 2 minutes
#   PAIRS=9 DURATION=10 bench/observe/run.sh
#   CONTROL=1 PAIRS=40 DURATION=2 bench/observe/run.sh   # and a second log-off gateway: the
#                                           # ratio two identical gateways show (the noise)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
gateway="$root/bench/gateway"
PAIRS="${PAIRS:-7}"
DURATION="${DURATION:-5}"
MOCK_PORT="${MOCK_PORT:-18281}" OFF_PORT="${OFF_PORT:-18282}" ON_PORT="${ON_PORT:-18283}"
CONTROL="${CONTROL:-0}" CONTROL_PORT="${CONTROL_PORT:-18284}"

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
sides=(off on)
[[ $CONTROL == 1 ]] && sides+=(control)
for side in "${sides[@]}"; do
  case $side in off) port=$OFF_PORT ;; on) port=$ON_PORT ;; control) port=$CONTROL_PORT ;; esac
  {
    echo "listen: 127.0.0.1:$port"
    echo "workers: 1"
    echo "demo: false"
    echo "database: $work/$side.db"
    echo "providers: [{name: mock, kind: openai, base_url: 'http://127.0.0.1:$MOCK_PORT/v1', api_key: bench, models: '*'}]"
    if [[ $side != on ]]; then
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
ports=("$OFF_PORT" "$ON_PORT")
[[ $CONTROL == 1 ]] && ports+=("$CONTROL_PORT")
for port in "${ports[@]}"; do run "$port" >/dev/null; done  # warm-up
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratios=() controls=()
sum_on=0 sum_off=0 sum_control=0
for i in $(seq "$PAIRS"); do
  # Each round runs the gateways in a rotated order, so none is always first or last.
  declare -A rate=()
  n=${#ports[@]}
  for k in $(seq 0 $((n - 1))); do
    j=$(( (k + i) % n ))
    rate[$j]=$(run "${ports[$j]}")
  done
  off=${rate[0]} on=${rate[1]}
  ratio=$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", a / b }')
  ratios+=("$ratio")
  sum_on=$(awk -v s="$sum_on" -v a="$on" 'BEGIN { print s + a }')
  sum_off=$(awk -v s="$sum_off" -v a="$off" 'BEGIN { print s + a }')
  line="pair $i: log off $off req/s, log + jsonl export $on req/s, ratio $ratio"
  if [[ $CONTROL == 1 ]]; then
    control=$(awk -v a="${rate[2]}" -v b="$off" 'BEGIN { printf "%.3f", a / b }')
    controls+=("$control")
    sum_control=$(awk -v s="$sum_control" -v a="${rate[2]}" 'BEGIN { print s + a }')
    line="$line; second log-off ${rate[2]} req/s, ratio $control"
  fi
  echo "$line"
done
records=$(wc -l <"$work/records.jsonl" 2>/dev/null || echo 0)
echo
# Two estimates of one ratio: the median of the pairs' ratios, and the sum of the log-on rates
# over the sum of the log-off ones.
range() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "–" hi }'; }
echo "| against log off (req/s) | median of $PAIRS pairs | all pairs' totals | range | records exported |"
echo "|---|---:|---:|---|---:|"
echo "| log + export | $(printf '%s\n' "${ratios[@]}" | median) | $(awk -v a="$sum_on" -v b="$sum_off" 'BEGIN { printf "%.3f", a / b }') | $(range "${ratios[@]}") | $records |"
if [[ $CONTROL == 1 ]]; then
  echo "| a second log-off gateway (the noise) | $(printf '%s\n' "${controls[@]}" | median) | $(awk -v a="$sum_control" -v b="$sum_off" 'BEGIN { printf "%.3f", a / b }') | $(range "${controls[@]}") | |"
fi
