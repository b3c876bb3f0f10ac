#pragma once
// What the mock reads from a request body, whatever its protocol: the prompt's size, the tool
// it would call, the completion limit.
//
//   auto p = mock::read_prompt(mock::Protocol::kAnthropic, body);
//   if (!p) return bad_request(p.error().message);
//   p->prompt_tokens;  p->tool->name;  p->tool->arguments == R"({"city":"mock-city"})"
//
// The prompt is counted in words of its text (system prompt, text parts, tool results), not of
// the JSON around it, so one conversation costs the same prompt tokens in every protocol: a
// request translated by the gateway reports the usage of the one the client sent. Tool
// declarations, tool calls and images are not counted (their shapes differ between protocols).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sy::mock {

enum class Protocol { kOpenAi, kAnthropic, kGemini };

struct ToolCall {
  std::string name;       // decoded
  std::string arguments;  // a JSON object, compact
};

struct Prompt {
  int prompt_tokens = 1;
  // The call the `tool` behaviour makes: to the tool a forced choice names, else the first one
  // declared. None when no tool is declared, the choice is "none", or the last message already
  // carries a tool result.
  std::optional<ToolCall> tool;
  std::optional<int> max_tokens;  // the completion limit the request sets, if any
  // A hash of the prompt's words: the seed of the answer's text unless the behaviour sets one,
  // so a conversation gets the same answer in every protocol.
  uint64_t text_hash = 0;
};

// `body` is one JSON object (the protocol handler has checked its required fields). Gemini's
// countTokens form {"generateContentRequest": {...}} is read as the request it wraps.
Result<Prompt> read_prompt(Protocol protocol, std::string_view body);

// The arguments the mock passes to a tool whose parameters are the JSON Schema `schema`: one
// value per property, in schema order — string "mock-<property>" (the first value of an enum),
// number and integer 42, boolean true, array [], object {}. "{}" for anything else.
std::string tool_arguments(std::string_view schema);

// Words (runs of non-space characters) in `text`: the mock's token count.
int count_words(std::string_view text);

}  // namespace sy::mock
