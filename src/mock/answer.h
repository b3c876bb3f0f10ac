#pragma once
// The answer the mock gives to one request, decided before a byte is written, so that the
// three protocols tell the same story: the same reasoning, text or tool call, and usage.
//
//   const Answer a = plan_answer(behaviour, *prompt, seed);
//   for (int i = 0; i < a.reasoning_tokens; ++i) send(a.reasoning_token(i));
//   if (a.tool) send(a.tool->arguments); else for (int i = 0; i < a.text_tokens; ++i) send(a.text_token(i));

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mock/behaviour.h"
#include "mock/request.h"

namespace sy::mock {

enum class Finish { kStop, kLength, kToolUse };

struct Answer {
  uint64_t seed = 0;
  int prompt_tokens = 1;
  int cached_tokens = 0;  // of prompt_tokens, read from the cache
  int reasoning_tokens = 0;
  int text_tokens = 0;           // 0 with a tool call
  std::optional<ToolCall> tool;  // the answer is this call
  Finish finish = Finish::kStop;

  // A tool call costs a token per 4 bytes of its name and arguments.
  int tool_tokens() const;
  // Completion tokens, reasoning included (OpenAI's and Anthropic's count).
  int output_tokens() const { return reasoning_tokens + text_tokens + tool_tokens(); }

  std::string reasoning_token(int i) const;
  std::string text_token(int i) const;
  std::string reasoning() const;
  std::string text() const;
  // A stable opaque signature of the reasoning (base64 text, as providers send).
  std::string signature() const;
};

// The tool call when the behaviour asks for one and the request allows it; otherwise reasoning
// and text, cut to the request's completion limit (reasoning first, as providers count it).
Answer plan_answer(const Behaviour& b, const Prompt& prompt, uint64_t seed);

// Cuts `json` into `pieces` fragments (fewer when it is shorter), never inside a UTF-8
// sequence: the argument deltas of a streamed tool call.
std::vector<std::string_view> fragments(std::string_view json, int pieces = 4);

}  // namespace sy::mock
