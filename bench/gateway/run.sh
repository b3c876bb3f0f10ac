#!/usr/bin/env bash
# The gateway benchmark: the mock upstream, switchyard and nginx (a plain reverse proxy to the
# same mock), one worker each, measured side by side in one run. Prints one markdown table.
#
#   bench/gateway/run.sh                 # about 6 minutes
#   DURATION=3 HOLDS="1000 10000" bench/gateway/run.sh
#
#   ROUNDS=5 DURATION=10 bench/gateway/run.sh   # steadier figures on a noisy machine
#
# Paths: "direct" is the load client talking to the mock itself; the added latency of a proxy is
# its path's figure minus direct's. wrk drives the plain requests (a 4 KB chat body, zero-delay
# mock); bench/gateway/sse_load.cc drives the streams (64 content deltas paced 20 ms apart).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/bench/gateway"
DURATION="${DURATION:-5}"            # seconds per wrk run
ROUNDS="${ROUNDS:-3}"                # latency and throughput: median of this many interleaved runs
SWEEP="${SWEEP:-1 2 4 8 16 32 64}"   # concurrencies tried for the best rate under a p99 bound
HOLDS="${HOLDS:-1000 2500 5000 10000}"
TTFT_STREAMS="${TTFT_STREAMS:-64}"   # per path and round, 4 at a time
MOCK_PORT="${MOCK_PORT:-18181}" GW_PORT="${GW_PORT:-18182}" NGINX_PORT="${NGINX_PORT:-18183}"

# --- set-up: packages and the build -------------------------------------------------------------
"$root/scripts/setup" --with-tests
missing=()
for p in wrk nginx-light curl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  echo "bench: installing ${missing[*]}" >&2
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
"$root/scripts/build" release switchyard sse_load
bin="$root/build/release/src/cli/switchyard"
load="$root/build/release/bench/gateway/sse_load"
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
(( $(ulimit -n) >= 40000 )) || echo "bench: warning: only $(ulimit -n) file descriptors; 10,000 streams need 40,000" >&2

work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

wait_port() {  # wait_port PORT PATH
  for _ in $(seq 200); do curl -fs -o /dev/null "http://127.0.0.1:$1$2" && return 0; sleep 0.05; done
  echo "bench: nothing answers on port $1" >&2; exit 1
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# --- the three servers ----------------------------------------------------------------------------
"$bin" mock-upstream --port "$MOCK_PORT" --workers 1 >"$work/mock.log" 2>&1 &
pids+=($!)
cat >"$work/switchyard.yaml" <<EOF
listen: 127.0.0.1:$GW_PORT
workers: 1
demo: false
database: $work/switchyard.db
providers:
  - name: mock
    kind: openai
    base_url: http://127.0.0.1:$MOCK_PORT/v1
    api_key: bench
    models: "*"
  # The translated path: the same mock, spoken to in Anthropic's protocol by OpenAI clients.
  - name: claude
    kind: anthropic
    base_url: http://127.0.0.1:$MOCK_PORT/v1
    api_key: bench
    models: "*"
# The routed path: ten metadata routes in order, the last one matching the benchmark body's
# metadata (plan: enterprise), two sticky variants of the same mock model.
routers:
  bench:
    routes:
      - {name: r0, condition: {cel_expression: "language == 'es'"}, route: {variants: [{variant: {modelId: mock/len-1}, weight: 1}]}}
      - {name: r1, condition: {cel_expression: "plan == 'free'"}, route: {variants: [{variant: {modelId: mock/len-1}, weight: 1}]}}
      - {name: r2, condition: {cel_expression: "plan == 'trial' && tenant != ''"}, route: {variants: [{variant: {modelId: mock/len-1}, weight: 1}]}}
      - {name: r3, condition: {cel_expression: "tenant.startsWith('trial-')"}, route: {variants: [{variant: {modelId: mock/len-1}, weight: 1}]}}
      - {name: r4, condition: {cel_expression: "user in ['u-1', 'u-2', 'u-3']"}, route: {variants: [{variant: {modelId: mock/len-1}, weight: 1}]}}
      - {name: r5, condition: {cel_expression: "plan == 'pro' && stream"}, route: {variants: [{variant: {modelId: mock/len-1}, weight: 1}]}}
      - {name: r6, condition: {cel_expression: "tenant == 'nw-1'"}, route: {variants: [{variant: {modelId: mock/len-1}, weight: 1}]}}
      - {name: r7, condition: {cel_expression: "plan in ['startup', 'edu']"}, route: {variants: [{variant: {modelId: mock/len-1}, weight: 1}]}}
      - {name: r8, condition: {cel_expression: "language == 'de' && plan != 'free'"}, route: {variants: [{variant: {modelId: mock/len-1}, weight: 1}]}}
      - name: r9
        condition: {cel_expression: "plan == 'enterprise'"}
        route: {variants: [{variant: {modelId: mock/len-16, name: a}, weight: 50}, {variant: {modelId: mock/len-16, name: b}, weight: 50}]}
    defaultRoute: {variants: [{variant: {modelId: mock/len-1}, weight: 1}]}
EOF
"$bin" serve --config "$work/switchyard.yaml" >"$work/switchyard.log" 2>&1 &
gw_pid=$!; pids+=($gw_pid)
mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile 100000;
error_log $work/nginx/logs/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 30000; multi_accept on; }
http {
  access_log off;
  tcp_nodelay on;
  keepalive_requests 1000000;
  client_body_buffer_size 64k;
  upstream mock { server 127.0.0.1:$MOCK_PORT; keepalive 1024; }
  server {
    listen 127.0.0.1:$NGINX_PORT reuseport;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
EOF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off; user root;' 2>"$work/nginx/logs/stderr.log" &
pids+=($!)
wait_port "$MOCK_PORT" /mock/stats
wait_port "$GW_PORT" /healthz
wait_port "$NGINX_PORT" /v1/models
sleep 0.5
gw_idle_kb=$(rss_kb "$gw_pid")
nginx_worker=$(pgrep -P "$(cat "$work/nginx/nginx.pid")" | head -1)

declare -A port=([direct]=$MOCK_PORT [nginx]=$NGINX_PORT [switchyard]=$GW_PORT [routed]=$GW_PORT [translated]=$GW_PORT)
declare -A model=([direct]="len-16" [nginx]="len-16" [switchyard]="mock/len-16" [routed]="switchyard/bench"
                  [translated]="claude/len-16")
declare -A smodel=([direct]="gap-20ms/len-64" [nginx]="gap-20ms/len-64" [switchyard]="mock/gap-20ms/len-64")
paths=(direct nginx switchyard)

to_us() {  # wrk prints 52.00us, 1.20ms, 1.01s
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n }'
}
run_wrk() {  # run_wrk PATH CONNECTIONS SECONDS -> sets rps p50 p99
  local out
  out=$(MODEL="${model[$1]}" BODY="$here/chat_4k.json" wrk -t1 -c"$2" -d"$3"s --latency -s "$here/post.lua" \
    "http://127.0.0.1:${port[$1]}/v1/chat/completions" 2>&1)
  if grep -q "Non-2xx" <<<"$out"; then echo "bench: $1 answered errors:" >&2; echo "$out" >&2; exit 1; fi
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  p50=$(to_us "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99=$(to_us "$(awk '$1 == "99%" {print $2}' <<<"$out")")
}
kv() { sed -E "s/.*(^| )$2=([^ ]*).*/\2/" <<<"$1"; }

echo "bench: warming up" >&2
for p in "${paths[@]}" routed translated; do run_wrk "$p" 8 2; done
# The routed path must really be routed to the tenth route.
curl -fs -D - -o /dev/null "http://127.0.0.1:$GW_PORT/v1/chat/completions" -H 'content-type: application/json' \
  --data-binary @<(sed 's/"model":"MODEL"/"model":"switchyard\/bench"/' "$here/chat_4k.json") | grep -qi '^x-switchyard-route: r9' ||
  { echo "bench: switchyard/bench did not take route r9" >&2; exit 1; }

median() { tr ' ' '\n' <<<"$*" | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "bench: latency at concurrency 1, and throughput at 64 ($ROUNDS interleaved rounds)" >&2
declare -A lat50 lat99 thr s50 s99 sthr ticks reqs_total cpu_us
declare -A pid_of=([nginx]=$nginx_worker [switchyard]=$gw_pid [routed]=$gw_pid [translated]=$gw_pid)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }  # user + system, in 1/100 s
for ((round = 1; round <= ROUNDS; ++round)); do
  for p in "${paths[@]}" routed translated; do
    run_wrk "$p" 1 "$DURATION"; s50[$p]+="$p50 "; s99[$p]+="$p99 "
    [[ -n "${pid_of[$p]:-}" ]] && t0=$(cpu_ticks "${pid_of[$p]}")
    run_wrk "$p" 64 "$DURATION"; sthr[$p]+="$rps "
    if [[ -n "${pid_of[$p]:-}" ]]; then
      ticks[$p]=$(( ${ticks[$p]:-0} + $(cpu_ticks "${pid_of[$p]}") - t0 ))
      reqs_total[$p]=$(( ${reqs_total[$p]:-0} + reqs ))
    fi
  done
done
for p in nginx switchyard routed translated; do
  cpu_us[$p]=$(awk -v t="${ticks[$p]}" -v n="${reqs_total[$p]}" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t * 1000000 / hz / n }')
done
for p in "${paths[@]}" routed translated; do
  lat50[$p]=$(median "${s50[$p]}"); lat99[$p]=$(median "${s99[$p]}"); thr[$p]=$(median "${sthr[$p]}")
done

echo "bench: the best rate under a p99 bound (concurrency $SWEEP)" >&2
declare -A best1 best5
for p in "${paths[@]}"; do
  best1[$p]=0; best5[$p]=0
  for c in $SWEEP; do
    run_wrk "$p" "$c" $(( DURATION / 2 > 2 ? DURATION / 2 : 2 ))
    awk -v a="$p99" 'BEGIN { exit !(a < 1000) }' && awk -v r="$rps" -v b="${best1[$p]}" 'BEGIN { exit !(r > b) }' && best1[$p]=$rps
    awk -v a="$p99" 'BEGIN { exit !(a < 5000) }' && awk -v r="$rps" -v b="${best5[$p]}" 'BEGIN { exit !(r > b) }' && best5[$p]=$rps
  done
done

echo "bench: streaming time to first token and gaps ($TTFT_STREAMS streams 4 at a time, $ROUNDS interleaved rounds)" >&2
declare -A ttft50 ttft99 gap99 sgap
pct() { sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { print v[int(p * (NR - 1)) + 1] }'; }
for ((round = 1; round <= ROUNDS; ++round)); do
  for p in "${paths[@]}"; do
    r=$("$load" --port "${port[$p]}" --model "${smodel[$p]}" --streams "$TTFT_STREAMS" --concurrency 4 --samples "$work/ttft-$p")
    sgap[$p]+="$(kv "$r" gap_p99) "
  done
done
for p in "${paths[@]}"; do
  ttft50[$p]=$(pct "$work/ttft-$p" 0.50); ttft99[$p]=$(pct "$work/ttft-$p" 0.99); gap99[$p]=$(median "${sgap[$p]}")
done

echo "bench: concurrent streams held ($HOLDS)" >&2
declare -A held
gw_1000_kb="-"
for p in nginx switchyard; do
  held[$p]=0
  for n in $HOLDS; do
    watch="$gw_pid"; [[ $p == nginx ]] && watch="$nginx_worker"
    if r=$("$load" --port "${port[$p]}" --model "${smodel[$p]}" --hold "$n" --rss-pid "$watch" 2>"$work/hold.err"); then ok=1; else ok=0; fi
    echo "bench:   $p hold $n: $r" >&2
    [[ $p == switchyard && $n == 1000 ]] && gw_1000_kb=$(kv "$r" "rss_peak_kb_$watch")
    if (( ok )) && [[ $(kv "$r" stalls) == 0 ]]; then held[$p]=$n; else cat "$work/hold.err" >&2; break; fi
    sleep 1
  done
done
sleep 2
gw_after_kb=$(rss_kb "$gw_pid")

# --- the table ------------------------------------------------------------------------------------
f() { awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }
added() { awk -v a="$1" -v d="$2" 'BEGIN { printf "%.0f", a - d }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "-"; else printf "%.2f", a / b }'; }
verdict() { awk -v c="$1" 'BEGIN { print (c ? "PASS" : "MISS") }'; }
a50n=$(added "${lat50[nginx]}" "${lat50[direct]}"); a50s=$(added "${lat50[switchyard]}" "${lat50[direct]}")
a99n=$(added "${lat99[nginx]}" "${lat99[direct]}"); a99s=$(added "${lat99[switchyard]}" "${lat99[direct]}")
t50n=$(added "${ttft50[nginx]}" "${ttft50[direct]}"); t50s=$(added "${ttft50[switchyard]}" "${ttft50[direct]}")
t99n=$(added "${ttft99[nginx]}" "${ttft99[direct]}"); t99s=$(added "${ttft99[switchyard]}" "${ttft99[direct]}")
g99n=$(added "${gap99[nginx]}" "${gap99[direct]}"); g99s=$(added "${gap99[switchyard]}" "${gap99[direct]}")

echo
echo "Gateway benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, one worker per server, ${DURATION}s per wrk run, medians of $ROUNDS rounds"
echo
echo "| measure | direct to mock | nginx | switchyard | switchyard / nginx | target | |"
echo "|---|---|---|---|---|---|---|"
echo "| latency p50, c=1 (µs) | $(f "${lat50[direct]}") | $(f "${lat50[nginx]}") | $(f "${lat50[switchyard]}") | | | |"
echo "| **added** p50, c=1 (µs) | | $a50n | $a50s | $(ratio "$a50s" "$a50n") | ≤ 1.00 | $(verdict "$(awk -v s="$a50s" -v n="$a50n" 'BEGIN{print (s<=n)}')") |"
echo "| latency p99, c=1 (µs) | $(f "${lat99[direct]}") | $(f "${lat99[nginx]}") | $(f "${lat99[switchyard]}") | | | |"
echo "| **added** p99, c=1 (µs) | | $a99n | $a99s | $(ratio "$a99s" "$a99n") | ≤ 1.00 | $(verdict "$(awk -v s="$a99s" -v n="$a99n" 'BEGIN{print (s<=n)}')") |"
echo "| throughput, c=64 (req/s) | $(f "${thr[direct]}") | $(f "${thr[nginx]}") | $(f "${thr[switchyard]}") | $(ratio "${thr[switchyard]}" "${thr[nginx]}") | ≥ 1.00 | $(verdict "$(awk -v s="${thr[switchyard]}" -v n="${thr[nginx]}" 'BEGIN{print (s>=n)}')") |"
echo "| proxy CPU per request, c=64 (µs) | | ${cpu_us[nginx]} | ${cpu_us[switchyard]} | $(ratio "${cpu_us[switchyard]}" "${cpu_us[nginx]}") | | |"
echo "| best rate with p99 < 1 ms (req/s) | $(f "${best1[direct]}") | $(f "${best1[nginx]}") | $(f "${best1[switchyard]}") | $(ratio "${best1[switchyard]}" "${best1[nginx]}") | | |"
echo "| best rate with p99 < 5 ms (req/s) | $(f "${best5[direct]}") | $(f "${best5[nginx]}") | $(f "${best5[switchyard]}") | $(ratio "${best5[switchyard]}" "${best5[nginx]}") | | |"
echo "| stream TTFT p50 (µs) | ${ttft50[direct]} | ${ttft50[nginx]} | ${ttft50[switchyard]} | | | |"
echo "| **added** stream TTFT p50 (µs) | | $t50n | $t50s | $(ratio "$t50s" "$t50n") | | |"
echo "| **added** stream TTFT p99 (µs) | | $t99n | $t99s | $(ratio "$t99s" "$t99n") | ≤ 200 µs | $(verdict "$(awk -v s="$t99s" 'BEGIN{print (s<=200)}')") |"
echo "| **added** gap between frames p99 (µs) | | $g99n | $g99s | $(ratio "$g99s" "$g99n") | | |"
echo "| concurrent streams held (of ${HOLDS##* }) | | ${held[nginx]} | ${held[switchyard]} | | 10,000 | $(verdict "$(awk -v s="${held[switchyard]}" 'BEGIN{print (s>=10000)}')") |"
echo "| through a router (10 routes): latency p50, c=1 (µs) | | | $(f "${lat50[routed]}") | | | |"
echo "| through a router: **added** p50 vs the model direct (µs) | | | $(added "${lat50[routed]}" "${lat50[switchyard]}") | | | |"
echo "| through a router: throughput, c=64 (req/s) | | | $(f "${thr[routed]}") | routed / direct model $(ratio "${thr[routed]}" "${thr[switchyard]}") | ≥ 0.97 | $(verdict "$(awk -v r="${thr[routed]}" -v s="${thr[switchyard]}" 'BEGIN{print (r>=0.97*s)}')") |"
echo "| through a router: proxy CPU per request, c=64 (µs) | | | ${cpu_us[routed]} | routed / direct model $(ratio "${cpu_us[routed]}" "${cpu_us[switchyard]}") | | |"
echo "| translated (OpenAI client, Anthropic provider): latency p50, c=1 (µs) | | | $(f "${lat50[translated]}") | | | |"
echo "| translated: throughput, c=64 (req/s) | | | $(f "${thr[translated]}") | translated / same dialect $(ratio "${thr[translated]}" "${thr[switchyard]}") | ≥ 0.70 | $(verdict "$(awk -v r="${thr[translated]}" -v s="${thr[switchyard]}" 'BEGIN{print (r>=0.70*s)}')") |"
echo "| translated: proxy CPU per request, c=64 (µs) | | | ${cpu_us[translated]} | translated / same dialect $(ratio "${cpu_us[translated]}" "${cpu_us[switchyard]}") | | |"
echo "| switchyard RSS idle / 1,000 streams / after (MB) | | | $(awk -v a="$gw_idle_kb" -v b="$gw_1000_kb" -v c="$gw_after_kb" 'BEGIN { printf "%.1f / %.1f / %.1f", a/1024, b/1024, c/1024 }') | | idle < 20 | $(verdict "$(awk -v a="$gw_idle_kb" 'BEGIN{print (a<20480)}')") |"
