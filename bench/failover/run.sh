#!/usr/bin/env bash
# The failover (chaos) benchmark: the mock upstream injects faults and slow first tokens, and
# switchyard routes around them. Every scenario runs in one go against the same mock, so the
# added latencies are against a baseline measured in the same run. Prints one markdown table.
#
#   bench/failover/run.sh                              # about a minute of runs at the default sizes, plus the build
#   CHAOS=500 HEDGE=200 bench/failover/run.sh          # a quick check
#   BUILD=build/h-bench bench/failover/run.sh          # use binaries built there: no set-up, no build
#
# Scenarios (requests are streamed chat completions, closed loop at CONCURRENCY, driven by
# bench/failover/chaos_load.cc through the gateway; provider `a` and `b` are the same mock under
# two names, so their circuits are separate):
#   baseline   b/ttft-20ms/len-16, the healthy fallback, asked directly
#   chaos      router: a/faults-<FAULTS>/ttft-20ms/len-16, fallback b/ttft-20ms/len-16; circuit
#              breakers set out of the way; then the same on a second gateway with the default
#              breakers (DEFAULT_BREAKERS=0 skips it)
#   fallback   b/ttft-<FALLBACK_TTFT>ms/len-16 asked directly: the hedging target's reference
#   hedging    router: a/slow-<SLOW>/slowby-<SLOWBY>ms/ttft-20ms/len-16, fallback
#              b/ttft-<FALLBACK_TTFT>ms/len-16, failover.ttftTimeoutMs <TTFT_TIMEOUT>; once with
#              hedge: false, once with hedge: true
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CHAOS="${CHAOS:-10000}"              # requests per chaos row
BASELINE="${BASELINE:-$CHAOS}"       # requests of the baseline row
HEDGE="${HEDGE:-2000}"               # requests per hedging row (and of the fallback row)
CONCURRENCY="${CONCURRENCY:-32}"
WORKERS="${WORKERS:-1}"              # gateway workers
FAULTS="${FAULTS:-30}"               # % of the primary's requests that fail before any byte
SLOW="${SLOW:-20}"                   # % of the hedging primary's requests that are slow ...
SLOWBY="${SLOWBY:-250}"              # ... by this many ms before the first token
TTFT_TIMEOUT="${TTFT_TIMEOUT:-200}"  # the hedging routers' failover.ttftTimeoutMs
FALLBACK_TTFT="${FALLBACK_TTFT:-150}"
DEFAULT_BREAKERS="${DEFAULT_BREAKERS:-1}"
BASE_MODEL="b/ttft-20ms/len-16"
CHAOS_PRIMARY="${CHAOS_PRIMARY:-a/faults-$FAULTS/ttft-20ms/len-16}"
HEDGE_PRIMARY="${HEDGE_PRIMARY:-a/slow-$SLOW/slowby-${SLOWBY}ms/ttft-20ms/len-16}"
HEDGE_FALLBACK="b/ttft-${FALLBACK_TTFT}ms/len-16"
MOCK_PORT="${MOCK_PORT:-18191}" GW_PORT="${GW_PORT:-18192}" GW2_PORT="${GW2_PORT:-18193}"

# --- set-up: packages and the build -------------------------------------------------------------
if [[ -n "${BUILD:-}" ]]; then
  [[ "$BUILD" == /* ]] || BUILD="$root/$BUILD"
else
  "$root/scripts/setup" --with-tests  # the release preset configures the tests too
  "$root/scripts/build" release switchyard chaos_load
  BUILD="$root/build/release"
fi
if ! command -v curl >/dev/null; then
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends curl >/dev/null
fi
bin="$BUILD/src/cli/switchyard"
load="$BUILD/bench/failover/chaos_load"
[[ -x "$bin" && -x "$load" ]] || { echo "bench: $bin or $load is missing" >&2; exit 1; }

work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

wait_port() {  # wait_port PORT PATH LOG
  for _ in $(seq 200); do curl -fs -o /dev/null "http://127.0.0.1:$1$2" && return 0; sleep 0.05; done
  echo "bench: nothing answers on port $1" >&2; cat "$3" >&2; exit 1
}

# --- the mock and two gateways ------------------------------------------------------------------
"$bin" mock-upstream --port "$MOCK_PORT" --workers 1 >"$work/mock.log" 2>&1 &
pids+=($!)
gateway() {  # gateway NAME PORT CIRCUIT_BREAKER_YAML
  cat >"$work/$1.yaml" <<EOF
listen: 127.0.0.1:$2
workers: $WORKERS
demo: false
database: $work/$1.db
admin_key: bench-admin
$3
providers:
  - {name: a, kind: openai, base_url: "http://127.0.0.1:$MOCK_PORT/v1", api_key: bench, models: "*"}
  - {name: b, kind: openai, base_url: "http://127.0.0.1:$MOCK_PORT/v1", api_key: bench, models: "*"}
routers:
  chaos:
    defaultRoute: {variants: [{variant: {modelId: "$CHAOS_PRIMARY"}, weight: 1}]}
    fallbacks: ["$BASE_MODEL"]
  unhedged:
    defaultRoute: {variants: [{variant: {modelId: "$HEDGE_PRIMARY"}, weight: 1}]}
    fallbacks: ["$HEDGE_FALLBACK"]
    failover: {ttftTimeoutMs: $TTFT_TIMEOUT, hedge: false}
  hedged:
    defaultRoute: {variants: [{variant: {modelId: "$HEDGE_PRIMARY"}, weight: 1}]}
    fallbacks: ["$HEDGE_FALLBACK"]
    failover: {ttftTimeoutMs: $TTFT_TIMEOUT, hedge: true}
EOF
  "$bin" serve --config "$work/$1.yaml" >"$work/$1.log" 2>&1 &
  pids+=($!)
}
# Breakers out of the way: 1000 consecutive failures (the most the config takes) never happen at
# 30 %, and the error rate is judged only after a million requests.
gateway gw "$GW_PORT" "circuit_breaker: {failures: 1000, error_rate: 1.0, min_requests: 1000000}"
(( DEFAULT_BREAKERS )) && gateway gw2 "$GW2_PORT" ""
wait_port "$MOCK_PORT" /mock/stats "$work/mock.log"
wait_port "$GW_PORT" /healthz "$work/gw.log"
(( DEFAULT_BREAKERS )) && wait_port "$GW2_PORT" /healthz "$work/gw2.log"

# --- the runs -------------------------------------------------------------------------------------
kv() { sed -E "s/.*(^| )$2=([^ ]*).*/\2/" <<<"$1"; }
declare -A out
drive() {  # drive ROW PORT MODEL REQUESTS
  echo "bench: $1: $4 requests to $3, $CONCURRENCY at a time" >&2
  out[$1]=$("$load" --port "$2" --model "$3" --requests "$4" --concurrency "$CONCURRENCY" 2>"$work/$1.err")
  [[ -s "$work/$1.err" ]] && sed 's/^/bench:   /' "$work/$1.err" >&2
  echo "bench:   ${out[$1]}" >&2
}
echo "bench: warming up" >&2
"$load" --port "$GW_PORT" --model "$BASE_MODEL" --requests 500 --concurrency "$CONCURRENCY" >/dev/null 2>&1 || true
(( DEFAULT_BREAKERS )) &&
  { "$load" --port "$GW2_PORT" --model "$BASE_MODEL" --requests 500 --concurrency "$CONCURRENCY" >/dev/null 2>&1 || true; }
drive baseline "$GW_PORT" "$BASE_MODEL" "$BASELINE"
drive chaos "$GW_PORT" switchyard/chaos "$CHAOS"
(( DEFAULT_BREAKERS )) && drive chaos_breakers "$GW2_PORT" switchyard/chaos "$CHAOS"
drive fallback "$GW_PORT" "$HEDGE_FALLBACK" "$HEDGE"
drive unhedged "$GW_PORT" switchyard/unhedged "$HEDGE"
drive hedged "$GW_PORT" switchyard/hedged "$HEDGE"

# How often the primary's provider circuit opened (GET /router/v1/health lists circuits that failed).
opened() {
  curl -fs -H 'Authorization: Bearer bench-admin' "http://127.0.0.1:$1/router/v1/health" |
    sed -nE 's/.*"providers":\[[^]]*\{"name":"a"[^}]*"times_opened":([0-9]+).*/\1/p' | grep . || echo 0
}
opened_off=$(opened "$GW_PORT")
(( DEFAULT_BREAKERS )) && opened_default=$(opened "$GW2_PORT")

# --- the table ------------------------------------------------------------------------------------
ms() { awk -v v="$1" 'BEGIN { if (v < 0) print "-"; else printf "%.1f", v / 1000 }'; }
added() { awk -v a="$1" -v b="$2" 'BEGIN { if (a < 0) print "-"; else printf "%+.1f", (a - b) / 1000 }'; }
pct() { awk -v a="$1" -v n="$2" 'BEGIN { if (n <= 0) print "-"; else printf "%.2f %%", 100 * a / n }'; }
verdict() { awk -v c="$1" 'BEGIN { print (c ? "PASS" : "MISS") }'; }
base_ttft=$(kv "${out[baseline]}" ttft_p50) base_lat=$(kv "${out[baseline]}" latency_p50)
fb_ttft=$(kv "${out[fallback]}" ttft_p50)
bound=$(awk -v t="$TTFT_TIMEOUT" -v f="$fb_ttft" 'BEGIN { printf "%.0f", 1.2 * (t * 1000 + f) }')  # µs
declare -A label=(
  [baseline]="baseline: \`$BASE_MODEL\` directly"
  [chaos]="chaos: \`$CHAOS_PRIMARY\` → \`$BASE_MODEL\`, breakers out of the way"
  [chaos_breakers]="chaos, default circuit breakers"
  [fallback]="fallback alone: \`$HEDGE_FALLBACK\` directly"
  [unhedged]="\`$HEDGE_PRIMARY\` → \`$HEDGE_FALLBACK\`, ttftTimeoutMs $TTFT_TIMEOUT, hedge: false"
  [hedged]="same, hedge: true")
row() {  # row NAME TARGET VERDICT
  local r="${out[$1]}"
  local n ok fo
  n=$(kv "$r" n) ok=$(kv "$r" ok) fo=$(kv "$r" failed_over)
  echo "| ${label[$1]} | $n | $(pct "$ok" "$n") | $(pct "$fo" "$n") | $(kv "$r" attempts_mean) |" \
    "$(ms "$(kv "$r" ttft_p50)") / $(ms "$(kv "$r" ttft_p99)") | $(ms "$(kv "$r" latency_p50)") / $(ms "$(kv "$r" latency_p99)") |" \
    "$(added "$(kv "$r" fo_ttft_p50)" "$base_ttft") / $(added "$(kv "$r" fo_ttft_p99)" "$base_ttft") |" \
    "$(added "$(kv "$r" fo_latency_p50)" "$base_lat") / $(added "$(kv "$r" fo_latency_p99)" "$base_lat") | $2 | $3 |"
}
all_ok() { [[ $(kv "${out[$1]}" ok) == $(kv "${out[$1]}" n) ]] && echo 1 || echo 0; }

echo
echo "Failover benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, gateway workers $WORKERS, one mock worker, concurrency $CONCURRENCY"
echo
echo "| scenario | requests | success | failed over | attempts / request | TTFT p50 / p99 (ms) | latency p50 / p99 (ms) | failed over: **added** TTFT p50 / p99 (ms) | failed over: **added** latency p50 / p99 (ms) | target | |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"
row baseline "" ""
row chaos "success 100 %" "$(verdict "$(all_ok chaos)")"
(( DEFAULT_BREAKERS )) && row chaos_breakers "success 100 %" "$(verdict "$(all_ok chaos_breakers)")"
row fallback "" ""
row unhedged "" ""
row hedged "TTFT p99 ≤ 1.2 × ($TTFT_TIMEOUT + $(ms "$fb_ttft")) = $(ms "$bound")" \
  "$(verdict "$(awk -v a="$(kv "${out[hedged]}" ttft_p99)" -v b="$bound" 'BEGIN { print (a >= 0 && a <= b) }')")"
echo
hedge_first=$((SLOWBY + 20))
echo "- **Added** TTFT (latency): a failed-over request's TTFT (total latency) minus the baseline's median" \
  "($(ms "$base_ttft") ms, $(ms "$base_lat") ms): what failing over cost the client. The mock answers a fault after" \
  "the model's own TTFT (20 ms), so this includes the failed attempt; the gateway's own share is the rest."
echo "- **Failed over**: answers carrying \`x-switchyard-attempts\` (more than one attempt ran); attempts / request" \
  "counts its entries (1 without it). Success: HTTP 200, content, \`data: [DONE]\`, no error event."
echo "- **Breakers**: the first gateway has \`circuit_breaker: {failures: 1000, error_rate: 1.0, min_requests: 1000000}\`," \
  "so every chaos request tries the faulty primary first (circuit openings: $opened_off)$( (( DEFAULT_BREAKERS )) &&
    echo "; the second chaos row runs on a gateway with the default breakers, which skip the primary while its circuit is open (circuit openings: ${opened_default})")."
echo "- **Hedging**: a slow primary's first token comes ${hedge_first} ms after its attempt starts: after the" \
  "${TTFT_TIMEOUT} ms first-token timeout, before a fallback started then can answer (${TTFT_TIMEOUT} + ${FALLBACK_TTFT} ms)." \
  "Without hedging the slow attempt is cut off and the client waits for the fallback; with hedging it stays alive beside" \
  "the fallback and the first token of either wins. Target: hedged TTFT p99 ≤ 1.2 × (timeout + the fallback's TTFT p50 asked directly)."
fo_chaos=$(kv "${out[chaos]}" failed_over) fo_slow=$(kv "${out[unhedged]}" failed_over)
if [[ $fo_chaos == 0 ]]; then
  echo
  echo "Warning: no chaos request failed over: does the mock know \`faults-<P>\` (src/mock/behaviour.h)?"
fi
if [[ $fo_slow == 0 && $(kv "${out[unhedged]}" ttft_p99) -lt $((TTFT_TIMEOUT * 1000)) ]]; then
  echo
  echo "Warning: no hedging request was slow: does the mock know \`slow-<P>/slowby-<N>ms\` (src/mock/behaviour.h)?"
fi
