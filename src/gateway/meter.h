#pragma once
// What a stream relayed untouched (the provider speaks the client's protocol) tells about its
// usage and its first token, read from its events as they pass: OpenAI's usage chunk (asked
// for with stream_options.include_usage), Anthropic's message_start and message_delta.
//
//   StreamMeter meter(/*openai=*/true);
//   json::Field usage;
//   if (meter.see(event, usage)) ...    // OpenAI's usage chunk; `usage` is its usage object
//   if (meter.carries_token(event)) ... // text, reasoning or a tool call
//   meter.usage();                      // what the stream reported so far

#include <optional>

#include "core/json_scan.h"
#include "gateway/cost.h"
#include "http/sse.h"
#include "translate/canonical.h"

namespace sy::gateway {

// Whether a canonical stream event is a token: text, reasoning, or a tool call's start or input.
inline bool carries_token(const translate::StreamEvent& e) {
  using T = translate::StreamEvent::Type;
  return e.type == T::kTextDelta || e.type == T::kThinkingDelta || e.type == T::kToolInputDelta ||
         (e.type == T::kBlockStart && e.block == translate::PartKind::kToolUse);
}

// A cheap test of an event's data: `[DONE]`, or text that begins and ends like a JSON object
// (a cut-off event does not). Whole validation costs ~10 instructions a byte on every event.
bool looks_like_json(std::string_view data);

class StreamMeter {
 public:
  explicit StreamMeter(bool openai) : openai_(openai) {}
  // Reads the usage an event reports. True for OpenAI's usage chunk, whose usage object is
  // then in `usage_field` (to add the cost to it, or to leave the chunk out).
  bool see(const http::SseEvent& ev, json::Field& usage_field);
  bool carries_token(const http::SseEvent& ev) const;
  // The answer's end (a finish reason, the last event) or an error event.
  bool ends_or_fails(const http::SseEvent& ev) const;
  const std::optional<Usage>& usage() const { return usage_; }

 private:
  bool openai_;
  std::optional<Usage> usage_;
};

}  // namespace sy::gateway
