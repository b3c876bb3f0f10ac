#!/usr/bin/env bash
# The speech benchmark: how long after the end of the first sentence of a streamed answer its
# first audio reaches the client, against the embedded engine's own latency for that sentence
# (the baseline, measured directly in the same run), and the engine's real-time factor.
#
#   bench/audio/run.sh                       # 100 streamed answers at 50 tokens/s, then the baseline
#   REQUESTS=20 TPS=20 bench/audio/run.sh
#
# Requests: streamed chat completions with audio {voice: nova, format: pcm16} through one gateway
# worker to the mock upstream (model mock/len-40/seed-<N>/tps-<TPS>). The mock's answers are
# sentences of 6-11 words; the first ends with the token that carries its full stop.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
REQUESTS="${REQUESTS:-100}"
TPS="${TPS:-50}"
SEED="${SEED:-7}"
MOCK_PORT="${MOCK_PORT:-18481}" GW_PORT="${GW_PORT:-18482}"

"$root/scripts/setup"
"$root/scripts/build" release switchyard espeak_direct
bin="$root/build/release/src/cli/switchyard"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
wait_port() { for _ in $(seq 200); do curl -fs -o /dev/null "http://127.0.0.1:$1$2" && return 0; sleep 0.05; done; exit 1; }

"$bin" mock-upstream --port "$MOCK_PORT" --workers 1 >"$work/mock.log" 2>&1 &
pids+=($!)
cat >"$work/gw.yaml" <<YAML
listen: 127.0.0.1:$GW_PORT
workers: 1
demo: false
database: $work/gw.db
log: {enabled: false}
providers: [{name: mock, kind: openai, base_url: 'http://127.0.0.1:$MOCK_PORT/v1', models: '*'}]
YAML
"$bin" serve --config "$work/gw.yaml" >"$work/gw.log" 2>&1 &
pids+=($!)
wait_port "$MOCK_PORT" /mock/stats; wait_port "$GW_PORT" /healthz

through=$(node "$root/bench/audio/first_audio.mjs" "http://127.0.0.1:$GW_PORT/v1" "mock/len-40/seed-$SEED/tps-$TPS" "$REQUESTS")
sentence=$(node -e 'console.log(JSON.parse(process.argv[1]).sentence)' "$through")
direct=$("$root/build/release/bench/audio/espeak_direct" "$sentence" 100 nova)
long=$("$root/build/release/bench/audio/espeak_direct" "$(printf 'The router sends each request to a model that fits the user and the context. %.0s' $(seq 8))" 10 nova)
node -e '
  const [t, d, l] = process.argv.slice(1).map((s) => JSON.parse(s));
  console.log(`first sentence: "${t.sentence}"`);
  console.log(`| | p50 | p90 |`);
  console.log(`|---|---:|---:|`);
  console.log(`| end of the first sentence → first audio at the client, through the gateway | ${t.gap_ms_p50.toFixed(2)} ms | ${t.gap_ms_p90.toFixed(2)} ms |`);
  console.log(`| the engine alone, synthesize() → first audio (baseline) | ${d.first_audio_ms_p50.toFixed(2)} ms | ${d.first_audio_ms_p90.toFixed(2)} ms |`);
  console.log(`| added by the gateway | ${(t.gap_ms_p50 - d.first_audio_ms_p50).toFixed(2)} ms | ${(t.gap_ms_p90 - d.first_audio_ms_p90).toFixed(2)} ms |`);
  console.log(`real-time factor of espeak-ng: ${d.real_time_factor.toFixed(4)} (the sentence, ${d.audio_seconds.toFixed(2)} s of audio), ${l.real_time_factor.toFixed(4)} (${l.audio_seconds.toFixed(1)} s of audio)`);
' "$through" "$direct" "$long"
