#pragma once
// How the mock upstream should behave for one request, read from the model name or headers.
//
//   auto b = mock::Behaviour::parse("ttft-300ms/tps-50/len-200", headers);
//   b.ttft == 300ms, b.tokens_per_second == 50, b.length == 200
//
// Model-name segments (any order, '/'-separated): ttft-<N>ms, tps-<N>, gap-<N>ms (fixed pace,
// overrides tps), len-<N> (completion tokens), status-<code>, retry-after-<N>s (with a 429),
// reset-after-<N> (tokens, then a TCP reset), drop (a TCP reset before any byte of the
// answer), hang (never answer), garble or garble-after-<N> (N deltas, 0 by default, then one
// event whose data is cut-off JSON and the end of the response; not streamed: a cut-off body),
// echo (the answer's content is the request body as received: tests see what the gateway
// sent), seed-<N>, tool (when the request declares tools, answer with a call to the forced or
// first one; a request whose last message is a tool result gets text, so a client's tool loop
// ends), think or think-<N> (the answer begins with N reasoning tokens, 16 by default),
// cached-<N> (N prompt tokens reported as read from the cache), pace-<N>x (text-to-speech:
// audio produced at N times real time, 50 by default; the chat segments tps, gap and len do
// not apply to speech, where reset-after and garble count 40 ms audio pieces). Random per request (see
// resolve()): faults-<P> (P% of requests fail before any byte of the answer: 500, 502, 503,
// the provider's overload, 429 without Retry-After, drop or garble, uniformly), slow-<P> with
// slowby-<N>ms (P% of requests wait N ms more, 2000 by default, before the first token).
// Presets `fast`, `smart`, `cheap` are the demo models. Headers x-mock-<segment-name> override
// the model name (x-mock-tool: 1, x-mock-think: 32, x-mock-garble: 3, x-mock-faults: 30, ...).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "http/message.h"
#include "mock/request.h"

namespace sy::mock {

struct Behaviour {
  std::chrono::milliseconds ttft{0};
  std::chrono::microseconds gap{0};  // between content deltas
  int length = 16;                   // completion tokens
  int status = 200;
  int retry_after_s = 1;  // -1: no Retry-After (a random 429 of `faults`)
  int reset_after = -1;   // tokens; -1: never
  int garble = -1;        // deltas before the malformed event; -1: never
  bool hang = false;
  bool drop = false;  // reset the connection (after ttft) before any byte of the answer
  bool echo = false;  // answer (non-stream) with the request body as the content
  bool tool = false;  // answer with a tool call when the request declares tools
  int think = 0;      // reasoning tokens before the answer
  int cached = 0;     // prompt tokens read from the cache (at most the prompt's)
  int faults = 0;     // percent of requests that fail at random (resolve())
  int slow = 0;       // percent of requests that wait `slowby` more before the first token
  std::chrono::milliseconds slowby{2000};
  int pace = kDefaultPace;  // speech: audio produced at `pace` times real time (>= 1)
  std::optional<uint64_t> seed;

  static constexpr int kDefaultThink = 16;  // reasoning tokens of a bare `think`
  static constexpr int kDefaultPace = 50;   // fast, so tests of minutes of audio stay quick

  static Behaviour parse(std::string_view model, const http::Request* headers = nullptr);

  // This request's behaviour: `faults` and `slow` drawn into the concrete status, drop, garble
  // and ttft (an overload is 529 in the Anthropic protocol, 503 in the others). The draw comes
  // from a process-wide request counter mixed with `seed` when one is set, else at random.
  // Protocol handlers call it once, before acting on anything else.
  Behaviour resolve(Protocol protocol) const;
  // The same for a given draw (any 64 bits): the pure part, for tests.
  Behaviour resolve(Protocol protocol, uint64_t draw) const;
};

}  // namespace sy::mock
