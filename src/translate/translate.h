#pragma once
// Translation between chat dialects through the canonical model (canonical.h).
//
//   auto req = read_openai_request(body);                       // client's dialect → canonical
//   auto up = write_anthropic_request(*req, {.model = "claude-sonnet-4-5", .max_tokens = 8192});
//   ... send `up`, read the answer ...
//   auto ans = read_anthropic_response(answer_body);            // provider's dialect → canonical
//   std::string out = write_openai_response(*ans, {.model = "anthropic/claude-sonnet-4-5"});
//
//   auto dec = make_stream_decoder("anthropic");  auto enc = make_stream_encoder("openai", {...});
//   dec->decode(event_name, data, events);  for (auto& e : events) enc->encode(e, out);
//
// Readers validate as they go and say which field is wrong; writers never fail except for a
// combination the target dialect cannot express, which they name.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "translate/canonical.h"

namespace sy::translate {

// ---- requests ----------------------------------------------------------------------------

// `target` names the model in errors about features it cannot take ("anthropic/claude-…").
Result<ChatRequest> read_openai_request(std::string_view body, std::string_view target = {});
Result<ChatRequest> read_anthropic_request(std::string_view body, std::string_view target = {});

struct WriteOptions {
  std::string_view model;         // the provider's model id (plain text, not escaped)
  std::string_view model_label;   // how errors name the model ("anthropic/claude-sonnet-4-5")
  int64_t default_max_tokens = 4096;  // when the dialect requires max_tokens and the client gave none
  bool reasoning_model = false;   // OpenAI: the model reasons (max_completion_tokens, reasoning_effort)
};

Result<std::string> write_openai_request(const ChatRequest& req, const WriteOptions& options);
Result<std::string> write_anthropic_request(const ChatRequest& req, const WriteOptions& options);
// The body of models/{model}:generateContent (the model is in the URL, not the body).
Result<std::string> write_gemini_request(const ChatRequest& req, const WriteOptions& options);

// An estimate of the request's input tokens (about four characters a token, plus the
// per-message and per-image overheads), for protocols without a count endpoint.
int64_t estimate_input_tokens(const ChatRequest& req);

// A broken stream to continue elsewhere: `streamed` (escaped text) becomes the assistant's last
// turn. `protocol` "anthropic" continues it natively (prefill, trailing white space trimmed);
// others get an instruction to continue it. Reasoning and forced tools are dropped.
void add_continuation(ChatRequest& req, std::string_view streamed, std::string_view protocol);

// ---- responses ---------------------------------------------------------------------------

Result<ChatResponse> read_openai_response(std::string_view body);
Result<ChatResponse> read_anthropic_response(std::string_view body);
Result<ChatResponse> read_gemini_response(std::string_view body);

struct ResponseOptions {
  std::string_view model;       // the model named to the client (plain text)
  std::string_view request_id;  // used as the response id when the provider gave none
  std::string_view cost;        // "0.000123": OpenAI dialect adds usage.cost; "" for none
};

std::string write_openai_response(const ChatResponse& res, const ResponseOptions& options);
std::string write_anthropic_response(const ChatResponse& res, const ResponseOptions& options);

// Whether a request written for Anthropic carries a JSON response format as the forced
// kJsonToolName tool; its answers are then turned back into text by json_tool_to_text.
bool uses_json_tool(const ChatRequest& req, std::string_view protocol);
void json_tool_to_text(ChatResponse& res);
void json_tool_to_text(StreamEvent& event);

// ---- streams -----------------------------------------------------------------------------

// Reads one protocol's SSE events into canonical events.
class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  // Appends the canonical events of one SSE event (its `event:` name and its data) to `out`.
  // The views in `out` point into `data` or into the decoder, valid until the next call.
  virtual Result<bool> decode(std::string_view event, std::string_view data, std::vector<StreamEvent>& out) = 0;
  // Whether the protocol's last event has been seen.
  virtual bool done() const = 0;
};

// Writes canonical events as one protocol's SSE events.
class StreamEncoder {
 public:
  virtual ~StreamEncoder() = default;
  virtual void encode(const StreamEvent& event, std::string& out) = 0;
};

// protocol: "openai", "anthropic" or "gemini".
std::unique_ptr<StreamDecoder> make_stream_decoder(std::string_view protocol);
// protocol: "openai" or "anthropic". OpenAI streams carry usage in a final chunk when
// include_usage is set (stream_options.include_usage), as OpenAI does.
struct EncoderOptions {
  std::string_view model;       // named to the client
  std::string_view request_id;  // id of the completion when the provider gave none
  bool include_usage = false;
};
std::unique_ptr<StreamEncoder> make_stream_encoder(std::string_view protocol, const EncoderOptions& options);

// ---- errors ------------------------------------------------------------------------------

// A provider's error body in any dialect ({"error":{"message","type"}}, Anthropic's
// {"type":"error","error":{...}}, Google's {"error":{"code","message","status"}}).
UpstreamError read_error(int status, std::string_view body);

// ---- shared helpers ----------------------------------------------------------------------

std::string_view openai_finish_reason(StopReason r);      // "stop", "length", "tool_calls", "content_filter"
std::string_view anthropic_stop_reason(StopReason r);     // "end_turn", "max_tokens", ...
// Appends `"` + escaped + `"`.
void append_string(std::string& out, std::string_view escaped);
// The escaped contents of a raw JSON string token (its quotes removed).
std::string_view contents(std::string_view raw_string);
// Escaped contents decoded into plain text.
std::string decoded(std::string_view escaped_contents);

}  // namespace sy::translate
