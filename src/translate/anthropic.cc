// The Anthropic Messages dialect: requests, responses and streams to and from the canonical
// model, and the forced tool that carries JSON response formats.
#include <fmt/format.h>

#include "translate/internal.h"

namespace sy::translate {
namespace {

using json::Field;
using json::Kind;

constexpr std::array<std::string_view, 11> kBlockKeys{"type", "text", "source", "id", "name", "input", "tool_use_id",
                                                      "content", "is_error", "thinking", "cache_control"};
enum BlockField { kType, kText, kSource, kId, kName, kInput, kToolUseId, kContent, kIsError, kThinkingText, kCache };
// signature and data share the slots of fields a thinking block does not have.
constexpr std::array<std::string_view, 2> kThinkingExtra{"signature", "data"};

Result<bool> read_image(Field source, Part& p, const std::string& param) {
  static constexpr std::array<std::string_view, 4> kKeys{"type", "media_type", "data", "url"};
  std::array<Field, 4> s;
  if (!fields(source.raw, kKeys, s)) return invalid(fmt::format("'{}.source' must be an object.", param), param);
  if (s[0].raw == "\"base64\"" && s[1].kind == Kind::kString && s[2].kind == Kind::kString) {
    p.media_type = contents(s[1].raw);
    p.data = contents(s[2].raw);
  } else if (s[0].raw == "\"url\"" && s[3].kind == Kind::kString) {
    p.url = contents(s[3].raw);
  } else {
    return invalid(fmt::format("'{}.source' must be {{\"type\": \"base64\", \"media_type\", \"data\"}} or "
                               "{{\"type\": \"url\", \"url\"}}.",
                               param),
                   param);
  }
  return true;
}

Result<bool> read_blocks(Field content, std::vector<Part>& out, const std::string& param, std::string_view target,
                         bool nested);

Result<bool> read_block(const Field* b, Field raw, std::vector<Part>& out, const std::string& param,
                        std::string_view target, bool nested) {
  const std::string_view type = b[kType].raw;
  Part p{.cache_control = b[kCache].raw};
  if (type == "\"text\"") {
    if (b[kText].kind != Kind::kString) return invalid(fmt::format("'{}.text' must be a string.", param), param);
    p.kind = PartKind::kText;
    p.text = contents(b[kText].raw);
  } else if (type == "\"image\"") {
    p.kind = PartKind::kImage;
    if (auto r = read_image(b[kSource], p, param); !r) return r;
  } else if (!nested && type == "\"tool_use\"") {
    if (b[kId].kind != Kind::kString || b[kName].kind != Kind::kString) {
      return invalid(fmt::format("'{}' must be {{\"type\": \"tool_use\", \"id\", \"name\", \"input\"}}.", param), param);
    }
    p.kind = PartKind::kToolUse;
    p.id = contents(b[kId].raw);
    p.name = contents(b[kName].raw);
    p.input = b[kInput].kind == Kind::kObject ? b[kInput].raw : std::string_view("{}");
  } else if (!nested && type == "\"tool_result\"") {
    if (b[kToolUseId].kind != Kind::kString) return invalid(fmt::format("'{}.tool_use_id' is required.", param), param);
    p.kind = PartKind::kToolResult;
    p.id = contents(b[kToolUseId].raw);
    p.is_error = b[kIsError].kind == Kind::kTrue;
    if (auto r = read_blocks(b[kContent], p.content, param + ".content", target, true); !r) return r;
  } else if (!nested && (type == "\"thinking\"" || type == "\"redacted_thinking\"")) {
    std::array<Field, 2> extra;
    (void)fields(raw.raw, kThinkingExtra, extra);
    if (type == "\"thinking\"") {
      p.kind = PartKind::kThinking;
      p.text = b[kThinkingText].kind == Kind::kString ? contents(b[kThinkingText].raw) : std::string_view();
      p.signature = extra[0].kind == Kind::kString ? contents(extra[0].raw) : std::string_view();
    } else {
      p.kind = PartKind::kRedactedThinking;
      p.data = extra[1].kind == Kind::kString ? contents(extra[1].raw) : std::string_view();
    }
  } else {
    return invalid(fmt::format("Content blocks of type {} cannot be translated for this model{}; send text, image, "
                               "tool_use, tool_result and thinking blocks.",
                               type.empty() ? std::string_view("(none)") : type, for_model(target)),
                   param + ".type");
  }
  out.push_back(std::move(p));
  return true;
}

// A content value: a string, or an array of blocks.
Result<bool> read_blocks(Field content, std::vector<Part>& out, const std::string& param, std::string_view target,
                         bool nested) {
  if (content.kind == Kind::kString) {
    out.push_back({.kind = PartKind::kText, .text = contents(content.raw)});
    return true;
  }
  if (!content.present() && nested) return true;
  if (content.kind != Kind::kArray) return invalid(fmt::format("'{}' must be a string or an array of content blocks.", param), param);
  std::vector<Field> elements;
  if (!json::scan_array(content.raw, elements)) return invalid(fmt::format("'{}' is not a valid array.", param), param);
  std::array<Field, kBlockKeys.size()> b;
  for (size_t i = 0; i < elements.size(); ++i) {
    const std::string at = fmt::format("{}[{}]", param, i);
    if (elements[i].kind != Kind::kObject || !fields(elements[i].raw, kBlockKeys, b)) {
      return invalid(fmt::format("'{}' must be a content block object.", at), at);
    }
    if (auto r = read_block(b.data(), elements[i], out, at, target, nested); !r) return r;
  }
  return true;
}

constexpr std::array<std::string_view, 14> kRequestKeys{
    "messages", "system", "max_tokens", "temperature", "top_p", "top_k", "stop_sequences", "stream",
    "tools", "tool_choice", "thinking", "metadata", "mcp_servers", "container"};
enum RequestField { kMessages, kSystem, kMaxTokens, kTemperature, kTopP, kTopK, kStopSequences, kStream, kTools,
                    kToolChoice, kThinking, kMetadata, kMcpServers, kContainer };

Result<bool> read_tools(Field tools, ChatRequest& req, std::string_view target) {
  static constexpr std::array<std::string_view, 5> kKeys{"name", "description", "input_schema", "cache_control", "type"};
  std::vector<Field> f;
  if (tools.kind != Kind::kArray || !json::scan_elements(tools.raw, kKeys, f)) {
    return invalid("'tools' must be an array of {\"name\", \"description\", \"input_schema\"}.", "tools");
  }
  for (size_t i = 0; i < f.size() / kKeys.size(); ++i) {
    const Field* t = &f[i * kKeys.size()];
    if (t[4].present() && t[4].raw != "\"custom\"") {
      return invalid(fmt::format("Anthropic's server tools ({}) run only on Anthropic models; this model{} cannot take "
                                 "them.",
                                 t[4].raw, for_model(target)),
                     fmt::format("tools[{}].type", i));
    }
    if (t[0].kind != Kind::kString) return invalid(fmt::format("'tools[{}].name' is required.", i), fmt::format("tools[{}].name", i));
    req.tools.push_back({.name = contents(t[0].raw),
                         .description = t[1].kind == Kind::kString ? contents(t[1].raw) : std::string_view(),
                         .parameters = t[2].kind == Kind::kObject ? t[2].raw : std::string_view(),
                         .cache_control = t[3].raw});
  }
  return true;
}

Result<bool> read_tool_choice(Field choice, ChatRequest& req) {
  static constexpr std::array<std::string_view, 3> kKeys{"type", "name", "disable_parallel_tool_use"};
  std::array<Field, 3> c;
  if (choice.kind != Kind::kObject || !fields(choice.raw, kKeys, c)) {
    return invalid("'tool_choice' must be {\"type\": \"auto\" | \"any\" | \"tool\" | \"none\"}.", "tool_choice");
  }
  req.tool_choice_given = true;
  if (c[0].raw == "\"auto\"") {
    req.tool_choice = ToolChoice::kAuto;
  } else if (c[0].raw == "\"any\"") {
    req.tool_choice = ToolChoice::kRequired;
  } else if (c[0].raw == "\"none\"") {
    req.tool_choice = ToolChoice::kNone;
  } else if (c[0].raw == "\"tool\"" && c[1].kind == Kind::kString) {
    req.tool_choice = ToolChoice::kNamed;
    req.tool_choice_name = contents(c[1].raw);
  } else {
    return invalid("'tool_choice.type' must be \"auto\", \"any\", \"tool\" (with a name) or \"none\".", "tool_choice.type");
  }
  if (c[2].kind == Kind::kTrue) req.parallel_tool_calls = false;
  return true;
}

void write_cache_control(std::string& out, std::string_view cache_control) {
  if (cache_control.empty() || cache_control == "null") return;
  out += R"(,"cache_control":)";
  out += cache_control;
}

void write_text_block(std::string& out, std::string_view text, std::string_view cache_control) {
  out += R"({"type":"text","text":)";
  append_string(out, text);
  write_cache_control(out, cache_control);
  out += '}';
}

void write_image_block(std::string& out, const Part& p) {
  if (p.url.empty()) {
    out += R"({"type":"image","source":{"type":"base64","media_type":)";
    append_string(out, p.media_type);
    out += R"(,"data":)";
    append_string(out, p.data);
  } else {
    out += R"({"type":"image","source":{"type":"url","url":)";
    append_string(out, p.url);
  }
  out += '}';
  write_cache_control(out, p.cache_control);
  out += '}';
}

// Writes the block; false for a part that has nothing to say (an empty text).
bool write_block(std::string& out, const Part& p) {
  switch (p.kind) {
    case PartKind::kText:
      if (p.text.empty()) return false;  // Anthropic rejects empty text blocks
      write_text_block(out, p.text, p.cache_control);
      return true;
    case PartKind::kImage:
      write_image_block(out, p);
      return true;
    case PartKind::kToolUse:
      out += R"({"type":"tool_use","id":)";
      append_string(out, p.id);
      out += R"(,"name":)";
      append_string(out, p.name);
      out += R"(,"input":)";
      out += p.input.empty() ? std::string_view("{}") : p.input;
      write_cache_control(out, p.cache_control);
      out += '}';
      return true;
    case PartKind::kToolResult: {
      out += R"({"type":"tool_result","tool_use_id":)";
      append_string(out, p.id);
      out += R"(,"content":[)";
      bool first = true;
      for (const Part& c : p.content) {
        const size_t mark = out.size();
        if (!first) out += ',';
        if (write_block(out, c)) {
          first = false;
        } else {
          out.resize(mark);
        }
      }
      out += ']';
      if (p.is_error) out += R"(,"is_error":true)";
      write_cache_control(out, p.cache_control);
      out += '}';
      return true;
    }
    case PartKind::kThinking:
      if (p.signature.empty()) return false;  // Anthropic accepts only its own signed thinking back
      out += R"({"type":"thinking","thinking":)";
      append_string(out, p.text);
      out += R"(,"signature":)";
      append_string(out, p.signature);
      out += '}';
      return true;
    case PartKind::kRedactedThinking:
      out += R"({"type":"redacted_thinking","data":)";
      append_string(out, p.data);
      out += '}';
      return true;
  }
  return false;
}

Usage read_usage(std::string_view raw) {
  static constexpr std::array<std::string_view, 4> kKeys{"input_tokens", "output_tokens", "cache_read_input_tokens",
                                                         "cache_creation_input_tokens"};
  std::array<Field, 4> f;
  Usage u;
  if (!fields(raw, kKeys, f)) return u;
  u.present = true;
  u.cache_read = int_of(f[2]).value_or(0);
  u.cache_write = int_of(f[3]).value_or(0);
  u.input = int_of(f[0]).value_or(0) + u.cache_read + u.cache_write;
  u.output = int_of(f[1]).value_or(0);
  return u;
}

void write_usage(std::string& out, const Usage& u) {
  out += R"({"input_tokens":)";
  append_int(out, std::max<int64_t>(0, u.input - u.cache_read - u.cache_write));
  out += R"(,"cache_creation_input_tokens":)";
  append_int(out, u.cache_write);
  out += R"(,"cache_read_input_tokens":)";
  append_int(out, u.cache_read);
  out += R"(,"output_tokens":)";
  append_int(out, u.output);
  out += '}';
}

StopReason stop_of(std::string_view raw) {
  if (raw == "\"max_tokens\"") return StopReason::kMaxTokens;
  if (raw == "\"stop_sequence\"") return StopReason::kStopSequence;
  if (raw == "\"tool_use\"") return StopReason::kToolUse;
  if (raw == "\"pause_turn\"") return StopReason::kPauseTurn;
  if (raw == "\"refusal\"") return StopReason::kRefusal;
  return StopReason::kEndTurn;
}

int64_t thinking_budget(const ChatRequest& req) {
  if (req.thinking_budget && *req.thinking_budget > 0) return *req.thinking_budget;
  const std::string_view e = req.reasoning_effort;
  if (e == "minimal" || e == "low" || (req.thinking_budget && e.empty())) return 1024;
  if (e == "medium") return 4096;
  if (e == "high") return 16384;
  return 0;
}

}  // namespace

bool uses_json_tool(const ChatRequest& req, std::string_view protocol) {
  return protocol == "anthropic" && req.response_format != ResponseFormat::kText;
}

void json_tool_to_text(ChatResponse& res) {
  for (Part& p : res.content) {
    if (p.kind != PartKind::kToolUse || p.name != kJsonToolName) continue;
    std::string text;
    append_escaped(text, p.input);
    p = Part{.kind = PartKind::kText, .text = res.arena.keep(std::move(text))};
    if (res.stop == StopReason::kToolUse) res.stop = StopReason::kEndTurn;
  }
}

void json_tool_to_text(StreamEvent& e) {
  using T = StreamEvent::Type;
  if (e.type == T::kBlockStart && e.block == PartKind::kToolUse && e.name == kJsonToolName) {
    e.block = PartKind::kText;
    e.id = e.name = {};
  } else if (e.type == T::kToolInputDelta) {
    e.type = T::kTextDelta;  // the arguments' fragments are escaped JSON text, as text deltas are
  } else if (e.type == T::kFinish && e.stop == StopReason::kToolUse) {
    e.stop = StopReason::kEndTurn;
  }
}

// ---- requests ----------------------------------------------------------------------------

Result<ChatRequest> read_anthropic_request(std::string_view body, std::string_view target) {
  std::array<Field, kRequestKeys.size()> f;
  if (auto r = json::scan_object(body, kRequestKeys, f); !r) {
    return invalid(fmt::format("The request body is not valid JSON: {}.", r.error().message), {});
  }
  if (f[kMcpServers].present() || f[kContainer].present()) {
    return invalid(fmt::format("'{}' runs only on Anthropic models; this model{} cannot take it.",
                               f[kMcpServers].present() ? "mcp_servers" : "container", for_model(target)),
                   f[kMcpServers].present() ? "mcp_servers" : "container");
  }
  ChatRequest req;
  if (f[kMessages].kind != Kind::kArray) return invalid("messages: Field required", "messages");
  static constexpr std::array<std::string_view, 2> kMessageKeys{"role", "content"};
  std::vector<Field> m;
  if (!json::scan_elements(f[kMessages].raw, kMessageKeys, m)) return invalid("'messages' must be an array of messages.", "messages");
  for (size_t i = 0; i < m.size() / 2; ++i) {
    const std::string param = fmt::format("messages[{}]", i);
    Role role;
    if (m[i * 2].raw == "\"user\"") {
      role = Role::kUser;
    } else if (m[i * 2].raw == "\"assistant\"") {
      role = Role::kAssistant;
    } else {
      return invalid(fmt::format("'{}.role' must be \"user\" or \"assistant\".", param), param + ".role");
    }
    std::vector<Part> parts;
    if (auto r = read_blocks(m[i * 2 + 1], parts, param + ".content", target, false); !r) return tl::unexpected(r.error());
    if (!req.messages.empty() && req.messages.back().role == role) {
      auto& to = req.messages.back().parts;
      to.insert(to.end(), std::make_move_iterator(parts.begin()), std::make_move_iterator(parts.end()));
    } else {
      req.messages.push_back({.role = role, .parts = std::move(parts)});
    }
  }
  if (req.messages.empty()) return invalid("messages: at least one message is required", "messages");
  if (f[kSystem].present() && f[kSystem].kind != Kind::kNull) {
    std::vector<Part> system;
    if (auto r = read_blocks(f[kSystem], system, "system", target, true); !r) return tl::unexpected(r.error());
    for (Part& p : system) {
      if (p.kind != PartKind::kText) return invalid("'system' must be a string or an array of text blocks.", "system");
      req.system.push_back(std::move(p));
    }
  }
  if (f[kMaxTokens].present()) {
    auto v = int_of(f[kMaxTokens]);
    if (!v || *v < 1) return invalid("max_tokens: must be a positive integer", "max_tokens");
    req.max_tokens = *v;
  }
  if (f[kTemperature].kind == Kind::kNumber) req.temperature = double_of(f[kTemperature]);
  if (f[kTopP].kind == Kind::kNumber) req.top_p = double_of(f[kTopP]);
  if (f[kTopK].kind == Kind::kNumber) req.top_k = int_of(f[kTopK]);
  if (f[kStopSequences].kind == Kind::kArray) {
    std::vector<Field> stops;
    if (!json::scan_array(f[kStopSequences].raw, stops)) return invalid("'stop_sequences' must be an array of strings.", "stop_sequences");
    for (const Field& s : stops) {
      if (s.kind != Kind::kString) return invalid("'stop_sequences' must be an array of strings.", "stop_sequences");
      req.stop.push_back(contents(s.raw));
    }
  }
  req.stream = f[kStream].kind == Kind::kTrue;
  if (f[kTools].present()) {
    if (auto r = read_tools(f[kTools], req, target); !r) return tl::unexpected(r.error());
  }
  if (f[kToolChoice].present()) {
    if (auto r = read_tool_choice(f[kToolChoice], req); !r) return tl::unexpected(r.error());
  }
  if (f[kThinking].kind == Kind::kObject) {
    static constexpr std::array<std::string_view, 2> kKeys{"type", "budget_tokens"};
    std::array<Field, 2> t;
    if (fields(f[kThinking].raw, kKeys, t) && t[0].raw == "\"enabled\"") req.thinking_budget = int_of(t[1]).value_or(0);
  }
  if (f[kMetadata].kind == Kind::kObject) {
    static constexpr std::array<std::string_view, 1> kKeys{"user_id"};
    std::array<Field, 1> u;
    if (fields(f[kMetadata].raw, kKeys, u) && u[0].kind == Kind::kString) req.user = contents(u[0].raw);
  }
  return req;
}

Result<std::string> write_anthropic_request(const ChatRequest& req, const WriteOptions& options) {
  if (req.n > 1) {
    return invalid(fmt::format("Anthropic models return one choice: 'n' > 1 is not supported for model '{}'.", options.model_label), "n");
  }
  if (req.logprobs) {
    return invalid(fmt::format("Anthropic models do not return log probabilities: 'logprobs' is not supported for model '{}'.",
                               options.model_label),
                   "logprobs");
  }
  const int64_t budget = thinking_budget(req);
  const bool json_tool = req.response_format != ResponseFormat::kText;
  if (json_tool && !req.tools.empty()) {
    return invalid(fmt::format("A JSON response_format together with tools is not supported for model '{}': the JSON "
                               "format reaches Anthropic models as a forced tool call.",
                               options.model_label),
                   "response_format");
  }
  if (json_tool && budget > 0) {
    return invalid(fmt::format("A JSON response_format together with reasoning is not supported for model '{}' "
                               "(Anthropic does not force a tool while thinking).",
                               options.model_label),
                   "response_format");
  }
  if (budget > 0 && !req.tools.empty() && req.tool_choice_given &&
      (req.tool_choice == ToolChoice::kRequired || req.tool_choice == ToolChoice::kNamed)) {
    return invalid(fmt::format("Reasoning together with a forced tool_choice is not supported for model '{}' "
                               "(Anthropic's extended thinking takes only \"auto\" or \"none\").",
                               options.model_label),
                   "tool_choice");
  }
  int64_t max_tokens = req.max_tokens.value_or(options.default_max_tokens);
  if (budget > 0 && !req.max_tokens && max_tokens <= budget) max_tokens = budget + options.default_max_tokens;
  if (budget > 0 && max_tokens <= budget) {
    if (max_tokens <= 1024) {
      return invalid(fmt::format("Reasoning on model '{}' needs max_tokens above 1024 (thinking spends at least 1024 "
                                 "tokens of it); got {}.",
                                 options.model_label, max_tokens),
                     "max_tokens");
    }
  }
  std::string out;
  out.reserve(1024);
  out += R"({"model":)";
  json::append_quoted(out, options.model);
  out += R"(,"max_tokens":)";
  append_int(out, max_tokens);
  if (!req.system.empty()) {
    out += R"(,"system":[)";
    bool first = true;
    for (const Part& p : req.system) {
      if (p.text.empty()) continue;
      if (!first) out += ',';
      first = false;
      write_text_block(out, p.text, p.cache_control);
    }
    out += ']';
  }
  out += R"(,"messages":[)";
  bool first_message = true;
  for (const Message& m : req.messages) {
    const size_t mark = out.size();
    if (!first_message) out += ',';
    out += m.role == Role::kUser ? R"({"role":"user","content":[)" : R"({"role":"assistant","content":[)";
    bool first = true;
    for (const Part& p : m.parts) {
      const size_t block_mark = out.size();
      if (!first) out += ',';
      if (write_block(out, p)) {
        first = false;
      } else {
        out.resize(block_mark);
      }
    }
    if (first) {
      out.resize(mark);  // nothing Anthropic takes (an empty text, unsigned thinking)
      continue;
    }
    out += "]}";
    first_message = false;
  }
  out += ']';
  if (budget > 0) {
    out += R"(,"thinking":{"type":"enabled","budget_tokens":)";
    append_int(out, std::min(budget, max_tokens - 1));
    out += '}';
  } else {  // Anthropic's ranges: temperature 0–1 (OpenAI's reach 2); none of these while thinking
    if (req.temperature) {
      out += R"(,"temperature":)";
      append_double(out, std::clamp(*req.temperature, 0.0, 1.0));
    }
    if (req.top_p) {
      out += R"(,"top_p":)";
      append_double(out, *req.top_p);
    }
    if (req.top_k) {
      out += R"(,"top_k":)";
      append_int(out, *req.top_k);
    }
  }
  if (!req.stop.empty()) {
    out += R"(,"stop_sequences":[)";
    for (size_t i = 0; i < req.stop.size(); ++i) {
      if (i > 0) out += ',';
      append_string(out, req.stop[i]);
    }
    out += ']';
  }
  if (json_tool) {
    out += R"(,"tools":[{"name":")";
    out += kJsonToolName;
    out += R"(","description":"Respond with the answer as this tool's input.","input_schema":)";
    out += req.response_format == ResponseFormat::kJsonSchema ? req.response_schema : std::string_view(R"({"type":"object"})");
    out += R"(}],"tool_choice":{"type":"tool","name":")";
    out += kJsonToolName;
    out += R"("})";
  } else if (!req.tools.empty()) {
    out += R"(,"tools":[)";
    for (size_t i = 0; i < req.tools.size(); ++i) {
      const Tool& t = req.tools[i];
      if (i > 0) out += ',';
      out += R"({"name":)";
      append_string(out, t.name);
      if (!t.description.empty()) {
        out += R"(,"description":)";
        append_string(out, t.description);
      }
      out += R"(,"input_schema":)";
      out += t.parameters.empty() ? std::string_view(R"({"type":"object","properties":{}})") : t.parameters;
      write_cache_control(out, t.cache_control);
      out += '}';
    }
    out += ']';
    if (req.tool_choice_given || !req.parallel_tool_calls) {
      switch (req.tool_choice) {
        case ToolChoice::kAuto: out += R"(,"tool_choice":{"type":"auto")"; break;
        case ToolChoice::kNone: out += R"(,"tool_choice":{"type":"none")"; break;
        case ToolChoice::kRequired: out += R"(,"tool_choice":{"type":"any")"; break;
        case ToolChoice::kNamed:
          out += R"(,"tool_choice":{"type":"tool","name":)";
          append_string(out, req.tool_choice_name);
          break;
      }
      if (!req.parallel_tool_calls && req.tool_choice != ToolChoice::kNone) out += R"(,"disable_parallel_tool_use":true)";
      out += '}';
    }
  }
  if (!req.user.empty()) {
    out += R"(,"metadata":{"user_id":)";
    append_string(out, req.user);
    out += '}';
  }
  if (req.stream) out += R"(,"stream":true)";
  out += '}';
  return out;
}

// ---- responses ---------------------------------------------------------------------------

Result<ChatResponse> read_anthropic_response(std::string_view body) {
  static constexpr std::array<std::string_view, 6> kKeys{"id", "model", "content", "stop_reason", "stop_sequence", "usage"};
  std::array<Field, 6> f;
  if (!fields(body, kKeys, f) || f[2].kind != Kind::kArray) {
    return fail(ErrorCode::kUpstreamError, "the provider's answer is not an Anthropic message (no 'content')");
  }
  ChatResponse res;
  if (f[0].kind == Kind::kString) res.id = contents(f[0].raw);
  if (f[1].kind == Kind::kString) res.model = contents(f[1].raw);
  if (auto r = read_blocks(f[2], res.content, "content", {}, false); !r) {
    return fail(ErrorCode::kUpstreamError, "the provider's answer has content the gateway cannot translate: " + r.error().message);
  }
  res.stop = stop_of(f[3].raw);
  if (f[4].kind == Kind::kString) res.stop_sequence = contents(f[4].raw);
  if (f[5].kind == Kind::kObject) res.usage = read_usage(f[5].raw);
  return res;
}

std::string write_anthropic_response(const ChatResponse& res, const ResponseOptions& options) {
  std::string out;
  out.reserve(512);
  out += R"({"id":)";
  if (res.id.empty()) {
    json::append_quoted(out, fmt::format("msg_{}", options.request_id));
  } else {
    append_string(out, res.id);
  }
  out += R"(,"type":"message","role":"assistant","model":)";
  json::append_quoted(out, options.model);
  out += R"(,"content":[)";
  bool first = true;
  for (const Part& p : res.content) {
    const size_t mark = out.size();
    if (!first) out += ',';
    if (p.kind == PartKind::kThinking && p.signature.empty()) {  // another provider's reasoning: unsigned
      out += R"({"type":"thinking","thinking":)";
      append_string(out, p.text);
      out += R"(,"signature":""})";
      first = false;
    } else if (write_block(out, p)) {
      first = false;
    } else {
      out.resize(mark);
    }
  }
  out += R"(],"stop_reason":")";
  out += anthropic_stop_reason(res.stop);
  out += R"(","stop_sequence":)";
  if (res.stop == StopReason::kStopSequence && !res.stop_sequence.empty()) {
    append_string(out, res.stop_sequence);
  } else {
    out += "null";
  }
  out += R"(,"usage":)";
  write_usage(out, res.usage);
  out += '}';
  return out;
}

// ---- streams -----------------------------------------------------------------------------

namespace {

class AnthropicDecoder final : public StreamDecoder {
 public:
  Result<bool> decode(std::string_view event, std::string_view data, std::vector<StreamEvent>& out) override {
    static constexpr std::array<std::string_view, 7> kKeys{"type", "message", "index", "content_block", "delta", "usage", "error"};
    std::array<Field, 7> f;
    if (auto r = json::scan_object(data, kKeys, f); !r) {
      return fail(ErrorCode::kUpstreamError, "the provider sent a malformed stream event: " + r.error().message);
    }
    const std::string_view type = f[0].kind == Kind::kString ? contents(f[0].raw) : event;
    const int index = static_cast<int>(int_of(f[2]).value_or(0));
    using T = StreamEvent::Type;
    if (type == "message_start") {
      static constexpr std::array<std::string_view, 3> kMessage{"id", "model", "usage"};
      std::array<Field, 3> m;
      if (fields(f[1].raw, kMessage, m)) {
        if (m[2].kind == Kind::kObject) usage_ = read_usage(m[2].raw);
        out.push_back({.type = T::kStart, .id = contents(m[0].raw), .model = contents(m[1].raw), .usage = usage_});
      } else {
        out.push_back({.type = T::kStart});
      }
    } else if (type == "content_block_start") {
      static constexpr std::array<std::string_view, 4> kBlock{"type", "id", "name", "data"};
      std::array<Field, 4> b;
      if (!fields(f[3].raw, kBlock, b)) return true;
      StreamEvent e{.type = T::kBlockStart, .index = index};
      if (b[0].raw == "\"tool_use\"") {
        e.block = PartKind::kToolUse;
        e.id = contents(b[1].raw);
        e.name = contents(b[2].raw);
      } else if (b[0].raw == "\"thinking\"") {
        e.block = PartKind::kThinking;
      } else if (b[0].raw == "\"redacted_thinking\"") {
        e.block = PartKind::kRedactedThinking;
        e.data = contents(b[3].raw);
      } else {
        e.block = PartKind::kText;
      }
      out.push_back(e);
    } else if (type == "content_block_delta") {
      static constexpr std::array<std::string_view, 6> kDelta{"type", "text", "partial_json", "thinking", "signature", "citation"};
      std::array<Field, 6> d;
      if (!fields(f[4].raw, kDelta, d)) return true;
      if (d[0].raw == "\"text_delta\"") {
        out.push_back({.type = T::kTextDelta, .index = index, .text = contents(d[1].raw)});
      } else if (d[0].raw == "\"input_json_delta\"") {
        out.push_back({.type = T::kToolInputDelta, .index = index, .text = contents(d[2].raw)});
      } else if (d[0].raw == "\"thinking_delta\"") {
        out.push_back({.type = T::kThinkingDelta, .index = index, .text = contents(d[3].raw)});
      } else if (d[0].raw == "\"signature_delta\"") {
        out.push_back({.type = T::kSignatureDelta, .index = index, .text = contents(d[4].raw)});
      }
    } else if (type == "content_block_stop") {
      out.push_back({.type = T::kBlockStop, .index = index});
    } else if (type == "message_delta") {
      static constexpr std::array<std::string_view, 2> kDelta{"stop_reason", "stop_sequence"};
      std::array<Field, 2> d;
      if (fields(f[4].raw, kDelta, d)) {
        stop_ = stop_of(d[0].raw);
        if (d[1].kind == Kind::kString) stop_sequence_.assign(contents(d[1].raw));
      }
      if (f[5].kind == Kind::kObject) {  // cumulative: output always, input and cache when the API sends them
        const Usage u = read_usage(f[5].raw);
        usage_.output = u.output;
        if (u.input > 0) usage_.input = u.input, usage_.cache_read = u.cache_read, usage_.cache_write = u.cache_write;
        usage_.present = true;
      }
    } else if (type == "message_stop") {
      out.push_back({.type = T::kFinish, .stop = stop_, .stop_sequence = stop_sequence_, .usage = usage_});
      done_ = true;
    } else if (type == "error") {
      error_ = read_error(0, data);
      out.push_back({.type = T::kError, .text = error_.message, .error_type = error_.type});
    }
    return true;  // ping and event types added later are skipped
  }
  bool done() const override { return done_; }

 private:
  Usage usage_;
  StopReason stop_ = StopReason::kEndTurn;
  std::string stop_sequence_;
  bool done_ = false;
  UpstreamError error_;
};

class AnthropicEncoder final : public StreamEncoder {
 public:
  explicit AnthropicEncoder(const EncoderOptions& o) : model_(o.model), request_id_(o.request_id) {}

  void encode(const StreamEvent& e, std::string& out) override {
    using T = StreamEvent::Type;
    switch (e.type) {
      case T::kStart:
        out += "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":";
        if (e.id.empty()) {
          json::append_quoted(out, fmt::format("msg_{}", request_id_));
        } else {
          append_string(out, e.id);
        }
        out += R"(,"type":"message","role":"assistant","model":)";
        json::append_quoted(out, model_);
        out += R"(,"content":[],"stop_reason":null,"stop_sequence":null,"usage":)";
        write_usage(out, e.usage);
        out += "}}\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\n";
        break;
      case T::kBlockStart:
        out += "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":";
        append_int(out, e.index);
        out += R"(,"content_block":)";
        switch (e.block) {
          case PartKind::kToolUse:
            out += R"({"type":"tool_use","id":)";
            append_string(out, e.id);
            out += R"(,"name":)";
            append_string(out, e.name);
            out += R"(,"input":{}})";
            break;
          case PartKind::kThinking: out += R"({"type":"thinking","thinking":"","signature":""})"; break;
          case PartKind::kRedactedThinking:
            out += R"({"type":"redacted_thinking","data":)";
            append_string(out, e.data);
            out += '}';
            break;
          default: out += R"({"type":"text","text":""})"; break;
        }
        out += "}\n\n";
        break;
      case T::kTextDelta: delta(out, e.index, "text_delta", "text", e.text); break;
      case T::kThinkingDelta: delta(out, e.index, "thinking_delta", "thinking", e.text); break;
      case T::kSignatureDelta: delta(out, e.index, "signature_delta", "signature", e.text); break;
      case T::kToolInputDelta: delta(out, e.index, "input_json_delta", "partial_json", e.text); break;
      case T::kBlockStop:
        out += "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":";
        append_int(out, e.index);
        out += "}\n\n";
        break;
      case T::kFinish:
        out += "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"";
        out += anthropic_stop_reason(e.stop);
        out += R"(","stop_sequence":)";
        if (e.stop == StopReason::kStopSequence && !e.stop_sequence.empty()) {
          append_string(out, e.stop_sequence);
        } else {
          out += "null";
        }
        out += R"(},"usage":)";
        write_usage(out, e.usage);
        out += "}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        break;
      case T::kError:
        out += "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":";
        json::append_quoted(out, e.error_type.empty() ? std::string_view("api_error") : e.error_type);
        out += R"(,"message":)";
        json::append_quoted(out, e.text);
        out += "}}\n\n";
        break;
    }
  }

 private:
  static void delta(std::string& out, int index, std::string_view type, std::string_view key, std::string_view text) {
    out += "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":";
    append_int(out, index);
    out += R"(,"delta":{"type":")";
    out += type;
    out += R"(",")";
    out += key;
    out += R"(":)";
    append_string(out, text);
    out += "}}\n\n";
  }

  std::string model_;
  std::string request_id_;
};

}  // namespace

std::unique_ptr<StreamDecoder> make_anthropic_stream_decoder() { return std::make_unique<AnthropicDecoder>(); }
std::unique_ptr<StreamEncoder> make_anthropic_stream_encoder(const EncoderOptions& options) {
  return std::make_unique<AnthropicEncoder>(options);
}

}  // namespace sy::translate
