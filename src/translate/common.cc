#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "translate/internal.h"

namespace sy::translate {

tl::unexpected<Error> invalid(std::string message, std::string param) {
  return fail(ErrorCode::kInvalidRequest, std::move(message), std::move(param));
}

std::string for_model(std::string_view target) {
  return target.empty() ? std::string() : fmt::format(" (model '{}')", target);
}

void append_string(std::string& out, std::string_view escaped) {
  out += '"';
  out += escaped;
  out += '"';
}

std::string_view contents(std::string_view raw_string) {
  if (raw_string.size() < 2) return {};
  return raw_string.substr(1, raw_string.size() - 2);
}

void append_int(std::string& out, int64_t v) { fmt::format_to(std::back_inserter(out), "{}", v); }

void append_double(std::string& out, double v) {
  if (!std::isfinite(v)) v = 0;
  fmt::format_to(std::back_inserter(out), "{}", v);
}

std::string decoded(std::string_view escaped_contents) {
  if (escaped_contents.find('\\') == std::string_view::npos) return std::string(escaped_contents);
  std::string raw;
  raw.reserve(escaped_contents.size() + 2);
  append_string(raw, escaped_contents);
  return json::unescape(raw);
}

void append_escaped(std::string& out, std::string_view text) {
  std::string quoted;
  json::append_quoted(quoted, text);
  out.append(quoted, 1, quoted.size() - 2);
}

std::optional<int64_t> int_of(json::Field f) {
  if (f.kind != json::Kind::kNumber) return std::nullopt;
  int64_t v = 0;
  const char* end = f.raw.data() + f.raw.size();
  const auto r = std::from_chars(f.raw.data(), end, v);
  if (r.ec == std::errc() && r.ptr == end) return v;
  const auto d = double_of(f);  // 1e3, 4096.0
  if (d && *d == std::floor(*d) && std::fabs(*d) < 9e15) return static_cast<int64_t>(*d);
  return std::nullopt;
}

std::optional<double> double_of(json::Field f) {
  if (f.kind != json::Kind::kNumber) return std::nullopt;
  double v = 0;
  const char* end = f.raw.data() + f.raw.size();
  const auto r = std::from_chars(f.raw.data(), end, v);
  if (r.ec != std::errc() || r.ptr != end) return std::nullopt;
  return v;
}

int64_t estimate_input_tokens(const ChatRequest& req) {
  int64_t chars = 0;
  int64_t tokens = 0;
  auto parts = [&](const std::vector<Part>& ps, auto& self) -> void {
    for (const Part& p : ps) {
      chars += static_cast<int64_t>(p.text.size() + p.input.size() + p.name.size());
      if (p.kind == PartKind::kImage) tokens += 1'000;  // a typical image, whatever its size
      self(p.content, self);
    }
  };
  parts(req.system, parts);
  for (const Message& m : req.messages) {
    tokens += 4;  // role and separators
    parts(m.parts, parts);
  }
  for (const Tool& t : req.tools) chars += static_cast<int64_t>(t.name.size() + t.description.size() + t.parameters.size());
  return tokens + (chars + 3) / 4;
}

std::string_view openai_finish_reason(StopReason r) {
  switch (r) {
    case StopReason::kMaxTokens: return "length";
    case StopReason::kToolUse: return "tool_calls";
    case StopReason::kContentFilter:
    case StopReason::kRefusal: return "content_filter";
    case StopReason::kNone:
    case StopReason::kEndTurn:
    case StopReason::kStopSequence:
    case StopReason::kPauseTurn: return "stop";
  }
  return "stop";
}

std::string_view anthropic_stop_reason(StopReason r) {
  switch (r) {
    case StopReason::kMaxTokens: return "max_tokens";
    case StopReason::kStopSequence: return "stop_sequence";
    case StopReason::kToolUse: return "tool_use";
    case StopReason::kContentFilter:
    case StopReason::kRefusal: return "refusal";
    case StopReason::kPauseTurn: return "pause_turn";
    case StopReason::kNone:
    case StopReason::kEndTurn: return "end_turn";
  }
  return "end_turn";
}

std::unique_ptr<StreamDecoder> make_stream_decoder(std::string_view protocol) {
  if (protocol == "anthropic") return make_anthropic_stream_decoder();
  if (protocol == "gemini") return make_gemini_stream_decoder();
  return make_openai_stream_decoder();
}

std::unique_ptr<StreamEncoder> make_stream_encoder(std::string_view protocol, const EncoderOptions& options) {
  if (protocol == "anthropic") return make_anthropic_stream_encoder(options);
  return make_openai_stream_encoder(options);
}

UpstreamError read_error(int status, std::string_view body) {
  UpstreamError e{.status = status, .type = {}, .message = {}};
  static constexpr std::array<std::string_view, 1> kTop{"error"};
  static constexpr std::array<std::string_view, 4> kInner{"message", "type", "status", "code"};
  std::array<json::Field, 1> top;
  std::array<json::Field, 4> inner;
  if (fields(body, kTop, top) && top[0].kind == json::Kind::kObject && fields(top[0].raw, kInner, inner)) {
    if (inner[0].kind == json::Kind::kString) e.message = json::unescape(inner[0].raw);
    if (inner[1].kind == json::Kind::kString) {
      e.type = json::unescape(inner[1].raw);
    } else if (inner[2].kind == json::Kind::kString) {  // Google: "status": "RESOURCE_EXHAUSTED"
      e.type = json::unescape(inner[2].raw);
    } else if (inner[3].kind == json::Kind::kString) {
      e.type = json::unescape(inner[3].raw);
    }
  } else if (top[0].kind == json::Kind::kString) {  // {"error": "text"} (some OpenAI-compatible servers)
    e.message = json::unescape(top[0].raw);
  }
  if (e.message.empty()) {
    std::string_view text = body.substr(0, std::min<size_t>(body.size(), 300));
    e.message = text.empty() ? fmt::format("the provider answered HTTP {} without a body", status)
                             : fmt::format("the provider answered HTTP {}: {}", status, text);
  }
  return e;
}

// A stream to continue elsewhere (resumeStreams): the text already streamed becomes the
// assistant's turn. Anthropic continues a final assistant turn natively (prefill; it must not
// end in white space); other protocols are asked to continue it.
void add_continuation(ChatRequest& req, std::string_view streamed, std::string_view protocol) {
  constexpr std::string_view kContinue =
      "Continue your previous answer exactly where it stopped, mid-sentence if need be. Do not repeat any of it "
      "and add nothing before the continuation.";
  if (protocol == "anthropic") {
    // Trailing white space, as escaped JSON text: spaces and \n, \r, \t escapes.
    while (!streamed.empty()) {
      if (streamed.back() == ' ') {
        streamed.remove_suffix(1);
      } else if (streamed.size() >= 2 && streamed[streamed.size() - 2] == '\\' &&
                 (streamed.back() == 'n' || streamed.back() == 'r' || streamed.back() == 't')) {
        streamed.remove_suffix(2);
      } else {
        break;
      }
    }
  }
  req.messages.push_back({.role = Role::kAssistant, .parts = {{.text = streamed}}});
  if (protocol != "anthropic") req.messages.push_back({.role = Role::kUser, .parts = {{.text = kContinue}}});
  if (req.tool_choice == ToolChoice::kRequired || req.tool_choice == ToolChoice::kNamed) {
    req.tool_choice = ToolChoice::kAuto;  // a forced tool cannot follow a prefilled turn
  }
  req.thinking_budget.reset();  // a prefilled turn cannot start with reasoning
  req.reasoning_effort = {};
}

}  // namespace sy::translate
