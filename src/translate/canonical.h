#pragma once
// The canonical chat model: one request, response and stream-event shape that every dialect
// (OpenAI chat completions, Anthropic Messages, Gemini generateContent) reads into and writes
// from, so n dialects need 2n translators instead of n².
//
//   auto req = translate::read_openai_request(body);          // OpenAI client
//   if (!req) return req.error();                              // 400 naming the field
//   std::string up = translate::write_anthropic_request(*req, "claude-sonnet-4-5", {});
//
// Text values are views of *escaped JSON string contents* (no quotes) in the source body, so a
// writer copies them between dialects without decoding and re-encoding: `"` + text + `"`.
// Raw JSON values (tool schemas, tool inputs, cache_control) are views of whole JSON texts.
// Values the translation has to build (an OpenAI arguments string decoded to its JSON object)
// live in the value's Arena; a view never outlives the body and arena it came from.

#include <cstdint>
#include <forward_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sy::translate {

// Owns the strings a translation had to build; views into it stay valid while it lives.
class Arena {
 public:
  std::string_view keep(std::string s) { return strings_.emplace_front(std::move(s)); }

 private:
  std::forward_list<std::string> strings_;
};

enum class Role { kUser, kAssistant };

enum class PartKind {
  kText,
  kImage,       // url, or media_type + data (base64)
  kToolUse,     // an assistant's call: id, name, input (a JSON object)
  kToolResult,  // the caller's answer to a call: id, content (text and image parts), is_error
  kThinking,    // reasoning text, with the provider's signature when it has one
  kRedactedThinking,  // data: opaque
};

struct Part {
  PartKind kind = PartKind::kText;
  std::string_view text;           // kText, kThinking: escaped contents
  std::string_view url;            // kImage: an http(s) URL, escaped contents
  std::string_view media_type;     // kImage with data: "image/png"
  std::string_view data;           // kImage: base64; kRedactedThinking: opaque data
  std::string_view id;             // kToolUse, kToolResult: the call's id
  std::string_view name;           // kToolUse: the tool's name
  std::string_view input;          // kToolUse: the arguments, a raw JSON object
  std::string_view signature;      // kThinking
  std::string_view cache_control;  // raw JSON object, "" when none
  bool is_error = false;           // kToolResult
  std::vector<Part> content;       // kToolResult: text and image parts
};

struct Message {
  Role role = Role::kUser;
  std::vector<Part> parts;
};

struct Tool {
  std::string_view name;           // escaped contents
  std::string_view description;    // escaped contents, may be ""
  std::string_view parameters;     // raw JSON Schema object ("" → {"type":"object"})
  std::string_view cache_control;  // raw JSON object, "" when none
};

enum class ToolChoice { kAuto, kNone, kRequired, kNamed };

enum class ResponseFormat { kText, kJsonObject, kJsonSchema };

// Stop reasons in the canonical vocabulary (Anthropic's, the richest).
enum class StopReason { kNone, kEndTurn, kMaxTokens, kStopSequence, kToolUse, kContentFilter, kPauseTurn, kRefusal };

struct Usage {
  int64_t input = 0;        // prompt tokens, cached and cache-written ones included
  int64_t output = 0;       // completion tokens, reasoning included
  int64_t cache_read = 0;   // of the input: read from the provider's cache
  int64_t cache_write = 0;  // of the input: written to the cache
  int64_t reasoning = 0;    // of the output: reasoning (thinking) tokens
  bool present = false;     // the provider reported usage
};

struct ChatRequest {
  std::vector<Part> system;  // text parts
  std::vector<Message> messages;
  std::vector<Tool> tools;
  ToolChoice tool_choice = ToolChoice::kAuto;
  std::string_view tool_choice_name;  // kNamed
  bool tool_choice_given = false;
  bool parallel_tool_calls = true;
  std::optional<int64_t> max_tokens;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int64_t> top_k;
  std::vector<std::string_view> stop;  // escaped contents
  bool stream = false;
  bool include_usage = false;  // OpenAI: stream_options.include_usage (the stream's usage chunk)
  ResponseFormat response_format = ResponseFormat::kText;
  std::string_view response_schema;       // kJsonSchema: raw JSON Schema
  std::string_view response_schema_name;  // escaped contents, may be ""
  std::optional<int64_t> thinking_budget;  // tokens; 0: thinking asked without a budget
  std::string_view reasoning_effort;       // "low" | "medium" | "high", as the client said it
  std::string_view user;                   // escaped contents: end-user id (OpenAI user, Anthropic metadata.user_id)
  int64_t n = 1;                           // OpenAI: choices asked for
  bool logprobs = false;                   // OpenAI: log probabilities asked for
  Arena arena;
};

struct ChatResponse {
  std::string_view id;     // escaped contents
  std::string_view model;  // escaped contents
  std::vector<Part> content;  // text, thinking and tool_use parts, in order
  StopReason stop = StopReason::kEndTurn;
  std::string_view stop_sequence;  // escaped contents, when stop == kStopSequence
  Usage usage;
  Arena arena;
};

// One step of a streamed answer. Decoders emit blocks explicitly (start, deltas, stop), one
// block open at a time, numbered from 0, whatever their source protocol does.
struct StreamEvent {
  enum class Type {
    kStart,           // id, model, usage (input so far)
    kBlockStart,      // index, block (kText | kThinking | kToolUse with id and name | kRedactedThinking with data)
    kTextDelta,       // index, text
    kThinkingDelta,   // index, text
    kSignatureDelta,  // index, text: the thinking block's signature
    kToolInputDelta,  // index, text: a fragment of the arguments' JSON text, escaped as a string's contents
    kBlockStop,       // index
    kFinish,          // stop, stop_sequence, usage (complete)
    kError,           // text: the message (plain text, not escaped); error_type: the provider's type
  };
  Type type = Type::kStart;
  int index = 0;
  PartKind block = PartKind::kText;
  std::string_view id, model, name, text, data;
  std::string_view error_type;
  StopReason stop = StopReason::kNone;
  std::string_view stop_sequence;
  Usage usage;
  std::string_view cost;  // kFinish: the answer's cost in USD ("0.0012"), set by the gateway; "" for none
};

// The tool through which a JSON response format reaches a dialect without one (Anthropic):
// the model is made to call it, and its input is handed back as the answer's text.
inline constexpr std::string_view kJsonToolName = "json_response";

// A provider's error, read from its body in any dialect.
struct UpstreamError {
  int status = 0;
  std::string type;     // the provider's error type ("rate_limit_error", "RESOURCE_EXHAUSTED")
  std::string message;  // decoded
};

}  // namespace sy::translate
