#pragma once
// How the mock upstream should behave for one request, read from the model name or headers.
//
//   auto b = mock::Behaviour::parse("ttft-300ms/tps-50/len-200", headers);
//   b.ttft == 300ms, b.tokens_per_second == 50, b.length == 200
//
// Model-name segments (any order, '/'-separated): ttft-<N>ms, tps-<N>, gap-<N>ms (fixed pace,
// overrides tps), len-<N> (completion tokens), status-<code>, retry-after-<N>s (with a 429),
// reset-after-<N> (tokens, then a TCP reset), drop (a TCP reset before any byte of the
// answer), hang (never answer), echo (the answer's content
// is the request body as received: tests see what the gateway sent), seed-<N>, tool (when the
// request declares tools, answer with a call to the forced or first one; a request whose last
// message is a tool result gets text, so a client's tool loop ends), think or think-<N> (the
// answer begins with N reasoning tokens, 16 by default), cached-<N> (N prompt tokens reported
// as read from the cache). Presets `fast`, `smart`, `cheap` are the demo models. Headers
// x-mock-<segment-name> override the model name (x-mock-tool: 1, x-mock-think: 32, ...).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "http/message.h"

namespace sy::mock {

struct Behaviour {
  std::chrono::milliseconds ttft{0};
  std::chrono::microseconds gap{0};  // between content deltas
  int length = 16;                   // completion tokens
  int status = 200;
  int retry_after_s = 1;
  int reset_after = -1;  // tokens; -1: never
  bool hang = false;
  bool drop = false;  // reset the connection (after ttft) before any byte of the answer
  bool echo = false;  // answer (non-stream) with the request body as the content
  bool tool = false;  // answer with a tool call when the request declares tools
  int think = 0;      // reasoning tokens before the answer
  int cached = 0;     // prompt tokens read from the cache (at most the prompt's)
  std::optional<uint64_t> seed;

  static constexpr int kDefaultThink = 16;  // reasoning tokens of a bare `think`

  static Behaviour parse(std::string_view model, const http::Request* headers = nullptr);
};

}  // namespace sy::mock
