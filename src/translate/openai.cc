// The OpenAI chat-completions dialect: requests, responses and streams to and from the
// canonical model.
#include <algorithm>
#include <ctime>

#include <fmt/format.h>

#include "translate/internal.h"

namespace sy::translate {
namespace {

using json::Field;
using json::Kind;

// Text parts of a content value: a string, or an array of {"type":"text","text"} parts.
Result<bool> read_text_content(Field content, std::vector<Part>& out, const std::string& param) {
  if (content.kind == Kind::kString) {
    out.push_back({.kind = PartKind::kText, .text = contents(content.raw)});
    return true;
  }
  if (content.kind == Kind::kNull || !content.present()) return true;
  if (content.kind != Kind::kArray) return invalid(fmt::format("'{}' must be a string or an array of text parts.", param), param);
  static constexpr std::array<std::string_view, 3> kKeys{"type", "text", "cache_control"};
  std::vector<Field> f;
  if (!json::scan_elements(content.raw, kKeys, f)) return invalid(fmt::format("'{}' is not a valid array.", param), param);
  for (size_t i = 0; i < f.size() / 3; ++i) {
    if (f[i * 3].raw != "\"text\"" || f[i * 3 + 1].kind != Kind::kString) {
      return invalid(fmt::format("'{}[{}]' must be a text part {{\"type\": \"text\", \"text\": ...}}.", param, i), param);
    }
    out.push_back({.kind = PartKind::kText, .text = contents(f[i * 3 + 1].raw), .cache_control = f[i * 3 + 2].raw});
  }
  return true;
}

// An image URL as a part: data URLs become media type + base64 data.
Part image_part(std::string_view url) {
  Part p{.kind = PartKind::kImage};
  if (url.starts_with("data:")) {
    const size_t marker = url.find(";base64,");
    if (marker != std::string_view::npos) {
      p.media_type = url.substr(5, marker - 5);
      p.data = url.substr(marker + 8);
      return p;
    }
  }
  p.url = url;
  return p;
}

Result<bool> read_user_content(Field content, std::vector<Part>& out, const std::string& param, std::string_view target) {
  if (content.kind != Kind::kArray) return read_text_content(content, out, param);
  static constexpr std::array<std::string_view, 4> kKeys{"type", "text", "image_url", "cache_control"};
  std::vector<Field> f;
  if (!json::scan_elements(content.raw, kKeys, f)) return invalid(fmt::format("'{}' is not a valid array.", param), param);
  for (size_t i = 0; i < f.size() / 4; ++i) {
    const Field* e = &f[i * 4];
    const std::string_view type = e[0].raw;
    if (type == "\"text\"" && e[1].kind == Kind::kString) {
      out.push_back({.kind = PartKind::kText, .text = contents(e[1].raw), .cache_control = e[3].raw});
    } else if (type == "\"image_url\"") {
      std::string_view url;
      if (e[2].kind == Kind::kString) {
        url = contents(e[2].raw);
      } else {
        static constexpr std::array<std::string_view, 1> kUrl{"url"};
        std::array<Field, 1> u;
        if (e[2].kind == Kind::kObject && fields(e[2].raw, kUrl, u) && u[0].kind == Kind::kString) url = contents(u[0].raw);
      }
      if (url.empty()) return invalid(fmt::format("'{}[{}].image_url.url' is missing.", param, i), param);
      Part p = image_part(url);
      p.cache_control = e[3].raw;
      out.push_back(p);
    } else {
      return invalid(fmt::format("Content parts of type {} cannot be translated for this model{}; send text and "
                                 "image_url parts.",
                                 type, for_model(target)),
                     param);
    }
  }
  return true;
}

Result<bool> read_tool_calls(Field calls, std::vector<Part>& out, Arena& arena, const std::string& param) {
  static constexpr std::array<std::string_view, 3> kKeys{"id", "type", "function"};
  std::vector<Field> f;
  if (calls.kind != Kind::kArray || !json::scan_elements(calls.raw, kKeys, f)) {
    return invalid(fmt::format("'{}' must be an array of tool calls.", param), param);
  }
  static constexpr std::array<std::string_view, 2> kFn{"name", "arguments"};
  for (size_t i = 0; i < f.size() / 3; ++i) {
    std::array<Field, 2> fn;
    if (f[i * 3].kind != Kind::kString || !fields(f[i * 3 + 2].raw, kFn, fn) || fn[0].kind != Kind::kString) {
      return invalid(fmt::format("'{}[{}]' must be {{\"id\", \"type\": \"function\", \"function\": {{\"name\", \"arguments\"}}}}.", param, i), param);
    }
    std::string_view input = "{}";
    if (fn[1].kind == Kind::kString) {
      std::string args = json::unescape(fn[1].raw);
      if (args.find_first_not_of(" \t\r\n") != std::string::npos) {
        if (!json::validate(args)) {
          return invalid(fmt::format("'{}[{}].function.arguments' is not valid JSON.", param, i), param);
        }
        input = arena.keep(std::move(args));
      }
    } else if (fn[1].kind == Kind::kObject) {
      input = fn[1].raw;
    }
    out.push_back({.kind = PartKind::kToolUse, .id = contents(f[i * 3].raw), .name = contents(fn[0].raw), .input = input});
  }
  return true;
}

Result<bool> read_thinking_blocks(Field blocks, std::vector<Part>& out) {
  static constexpr std::array<std::string_view, 4> kKeys{"type", "thinking", "signature", "data"};
  std::vector<Field> f;
  if (blocks.kind != Kind::kArray || !json::scan_elements(blocks.raw, kKeys, f)) return true;
  for (size_t i = 0; i < f.size() / 4; ++i) {
    if (f[i * 4].raw == "\"thinking\"" && f[i * 4 + 1].kind == Kind::kString) {
      out.push_back({.kind = PartKind::kThinking, .text = contents(f[i * 4 + 1].raw),
                     .signature = f[i * 4 + 2].kind == Kind::kString ? contents(f[i * 4 + 2].raw) : std::string_view()});
    } else if (f[i * 4].raw == "\"redacted_thinking\"" && f[i * 4 + 3].kind == Kind::kString) {
      out.push_back({.kind = PartKind::kRedactedThinking, .data = contents(f[i * 4 + 3].raw)});
    }
  }
  return true;
}

void add_message(ChatRequest& req, Role role, std::vector<Part> parts) {
  if (parts.empty()) return;
  if (!req.messages.empty() && req.messages.back().role == role) {
    auto& to = req.messages.back().parts;
    to.insert(to.end(), std::make_move_iterator(parts.begin()), std::make_move_iterator(parts.end()));
    return;
  }
  req.messages.push_back({.role = role, .parts = std::move(parts)});
}

Result<bool> read_messages(Field messages, ChatRequest& req, std::string_view target) {
  static constexpr std::array<std::string_view, 7> kKeys{"role", "content", "tool_calls", "tool_call_id",
                                                         "reasoning_content", "thinking_blocks", "reasoning"};
  std::vector<Field> f;
  if (!json::scan_elements(messages.raw, kKeys, f)) return invalid("'messages' must be an array of messages.", "messages");
  const size_t count = f.size() / kKeys.size();
  for (size_t i = 0; i < count; ++i) {
    const Field* m = &f[i * kKeys.size()];
    const std::string param = fmt::format("messages[{}]", i);
    const std::string_view role = m[0].raw;
    std::vector<Part> parts;
    if (role == "\"system\"" || role == "\"developer\"") {
      if (auto r = read_text_content(m[1], req.system, param + ".content"); !r) return r;
    } else if (role == "\"user\"") {
      if (auto r = read_user_content(m[1], parts, param + ".content", target); !r) return r;
      add_message(req, Role::kUser, std::move(parts));
    } else if (role == "\"assistant\"") {
      if (auto r = read_thinking_blocks(m[5], parts); !r) return r;
      if (parts.empty()) {
        const Field reasoning = m[4].kind == Kind::kString ? m[4] : m[6];
        if (reasoning.kind == Kind::kString && reasoning.raw.size() > 2) {
          parts.push_back({.kind = PartKind::kThinking, .text = contents(reasoning.raw)});
        }
      }
      if (auto r = read_text_content(m[1], parts, param + ".content"); !r) return r;
      if (m[2].present() && m[2].kind != Kind::kNull) {
        if (auto r = read_tool_calls(m[2], parts, req.arena, param + ".tool_calls"); !r) return r;
      }
      add_message(req, Role::kAssistant, std::move(parts));
    } else if (role == "\"tool\"") {
      if (m[3].kind != Kind::kString) return invalid(fmt::format("'{}.tool_call_id' is required for a tool message.", param), param);
      Part result{.kind = PartKind::kToolResult, .id = contents(m[3].raw)};
      if (auto r = read_text_content(m[1], result.content, param + ".content"); !r) return r;
      parts.push_back(std::move(result));
      add_message(req, Role::kUser, std::move(parts));
    } else {
      return invalid(fmt::format("'{}.role' must be system, developer, user, assistant or tool; got {}.", param,
                                 role.empty() ? std::string_view("nothing") : role),
                     param + ".role");
    }
  }
  if (req.messages.empty()) return invalid("'messages' must hold at least one user or assistant message.", "messages");
  return true;
}

Result<bool> read_tools(Field tools, ChatRequest& req) {
  static constexpr std::array<std::string_view, 3> kKeys{"type", "function", "cache_control"};
  std::vector<Field> f;
  if (tools.kind != Kind::kArray || !json::scan_elements(tools.raw, kKeys, f)) {
    return invalid("'tools' must be an array of {\"type\": \"function\", \"function\": {...}}.", "tools");
  }
  static constexpr std::array<std::string_view, 3> kFn{"name", "description", "parameters"};
  for (size_t i = 0; i < f.size() / 3; ++i) {
    std::array<Field, 3> fn;
    if (f[i * 3].raw != "\"function\"" || !fields(f[i * 3 + 1].raw, kFn, fn) || fn[0].kind != Kind::kString) {
      return invalid(fmt::format("'tools[{}]' must be {{\"type\": \"function\", \"function\": {{\"name\", "
                                 "\"description\", \"parameters\"}}}}.",
                                 i),
                     fmt::format("tools[{}]", i));
    }
    req.tools.push_back({.name = contents(fn[0].raw),
                         .description = fn[1].kind == Kind::kString ? contents(fn[1].raw) : std::string_view(),
                         .parameters = fn[2].kind == Kind::kObject ? fn[2].raw : std::string_view(),
                         .cache_control = f[i * 3 + 2].raw});
  }
  return true;
}

Result<bool> read_tool_choice(Field choice, ChatRequest& req) {
  req.tool_choice_given = true;
  if (choice.raw == "\"auto\"") {
    req.tool_choice = ToolChoice::kAuto;
  } else if (choice.raw == "\"none\"") {
    req.tool_choice = ToolChoice::kNone;
  } else if (choice.raw == "\"required\"") {
    req.tool_choice = ToolChoice::kRequired;
  } else {
    static constexpr std::array<std::string_view, 2> kKeys{"type", "function"};
    static constexpr std::array<std::string_view, 1> kName{"name"};
    std::array<Field, 2> c;
    std::array<Field, 1> n;
    if (choice.kind != Kind::kObject || !fields(choice.raw, kKeys, c) || !fields(c[1].raw, kName, n) ||
        n[0].kind != Kind::kString) {
      return invalid("'tool_choice' must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}.",
                     "tool_choice");
    }
    req.tool_choice = ToolChoice::kNamed;
    req.tool_choice_name = contents(n[0].raw);
  }
  return true;
}

Result<bool> read_response_format(Field format, ChatRequest& req) {
  static constexpr std::array<std::string_view, 2> kKeys{"type", "json_schema"};
  std::array<Field, 2> f;
  if (format.kind != Kind::kObject || !fields(format.raw, kKeys, f)) {
    return invalid("'response_format' must be {\"type\": \"text\" | \"json_object\" | \"json_schema\", ...}.", "response_format");
  }
  if (f[0].raw == "\"json_object\"") {
    req.response_format = ResponseFormat::kJsonObject;
  } else if (f[0].raw == "\"json_schema\"") {
    static constexpr std::array<std::string_view, 2> kSchema{"name", "schema"};
    std::array<Field, 2> s;
    if (!fields(f[1].raw, kSchema, s) || s[1].kind != Kind::kObject) {
      return invalid("'response_format.json_schema.schema' must be a JSON Schema object.", "response_format.json_schema");
    }
    req.response_format = ResponseFormat::kJsonSchema;
    req.response_schema = s[1].raw;
    if (s[0].kind == Kind::kString) req.response_schema_name = contents(s[0].raw);
  } else if (f[0].raw != "\"text\"") {
    return invalid("'response_format.type' must be \"text\", \"json_object\" or \"json_schema\".", "response_format.type");
  }
  return true;
}

constexpr std::array<std::string_view, 21> kRequestKeys{
    "messages", "tools", "tool_choice", "parallel_tool_calls", "max_tokens", "max_completion_tokens", "temperature",
    "top_p", "stop", "stream", "response_format", "reasoning_effort", "user", "n", "logprobs", "top_k", "thinking",
    "functions", "audio", "modalities", "stream_options"};
enum RequestField { kMessages, kTools, kToolChoice, kParallel, kMaxTokens, kMaxCompletionTokens, kTemperature, kTopP,
                    kStop, kStream, kResponseFormat, kReasoningEffort, kUser, kN, kLogprobs, kTopK, kThinking,
                    kFunctions, kAudio, kModalities, kStreamOptions };

void write_text_parts(std::string& out, const std::vector<Part>& parts) {
  // One string when there is a single text part, else an array of text parts.
  size_t texts = 0;
  for (const Part& p : parts) texts += p.kind == PartKind::kText ? 1 : 0;
  if (texts == 1) {
    for (const Part& p : parts) {
      if (p.kind == PartKind::kText) append_string(out, p.text);
    }
    return;
  }
  out += '[';
  bool first = true;
  for (const Part& p : parts) {
    if (p.kind != PartKind::kText) continue;
    if (!first) out += ',';
    first = false;
    out += R"({"type":"text","text":)";
    append_string(out, p.text);
    out += '}';
  }
  out += ']';
}

void write_image_url(std::string& out, const Part& p) {
  out += R"({"type":"image_url","image_url":{"url":")";
  if (p.url.empty()) {
    out += "data:";
    out += p.media_type;
    out += ";base64,";
    out += p.data;
  } else {
    out += p.url;
  }
  out += "\"}}";
}

// Tool results become tool messages (first, as OpenAI wants them right after the call); other
// parts a user message.
Result<bool> write_user_message(std::string& out, const Message& m, std::string_view target) {
  bool wrote = false;
  for (const Part& p : m.parts) {
    if (p.kind != PartKind::kToolResult) continue;
    if (wrote) out += ',';
    wrote = true;
    out += R"({"role":"tool","tool_call_id":)";
    append_string(out, p.id);
    out += R"(,"content":)";
    for (const Part& c : p.content) {
      if (c.kind == PartKind::kImage) {
        return invalid(fmt::format("Images inside tool results cannot be sent to this model{}: the OpenAI protocol's "
                                   "tool messages hold text only.",
                                   for_model(target)),
                       "messages");
      }
    }
    if (p.content.empty()) {
      out += p.is_error ? R"("error")" : R"("")";
    } else {
      write_text_parts(out, p.content);
    }
    out += '}';
  }
  bool has_other = false;
  bool only_one_text = true;
  size_t count = 0;
  for (const Part& p : m.parts) {
    if (p.kind == PartKind::kToolResult) continue;
    has_other = true;
    ++count;
    if (p.kind != PartKind::kText) only_one_text = false;
  }
  if (!has_other) return true;
  if (wrote) out += ',';
  out += R"({"role":"user","content":)";
  if (only_one_text && count == 1) {
    for (const Part& p : m.parts) {
      if (p.kind == PartKind::kText) append_string(out, p.text);
    }
  } else {
    out += '[';
    bool first = true;
    for (const Part& p : m.parts) {
      if (p.kind == PartKind::kToolResult) continue;
      if (!first) out += ',';
      first = false;
      if (p.kind == PartKind::kImage) {
        write_image_url(out, p);
      } else {
        out += R"({"type":"text","text":)";
        append_string(out, p.text);
        out += '}';
      }
    }
    out += ']';
  }
  out += '}';
  return true;
}

// An assistant's text parts as one `content` string (escaped contents join as they are), or null.
void write_content(std::string& out, const std::vector<Part>& parts) {
  const bool any = std::any_of(parts.begin(), parts.end(), [](const Part& p) { return p.kind == PartKind::kText; });
  if (!any) {
    out += "null";
    return;
  }
  out += '"';
  for (const Part& p : parts) {
    if (p.kind == PartKind::kText) out += p.text;
  }
  out += '"';
}

// `,"tool_calls":[...]` for the tool_use parts, nothing when there are none.
void write_tool_calls(std::string& out, const std::vector<Part>& parts) {
  bool first = true;
  for (const Part& p : parts) {
    if (p.kind != PartKind::kToolUse) continue;
    out += first ? R"(,"tool_calls":[)" : ",";
    first = false;
    out += R"({"id":)";
    append_string(out, p.id);
    out += R"(,"type":"function","function":{"name":)";
    append_string(out, p.name);
    out += R"(,"arguments":")";
    append_escaped(out, p.input.empty() ? std::string_view("{}") : p.input);
    out += "\"}}";
  }
  if (!first) out += ']';
}

void write_assistant_message(std::string& out, const Message& m) {
  out += R"({"role":"assistant","content":)";
  write_content(out, m.parts);
  write_tool_calls(out, m.parts);
  out += '}';
}

void write_usage(std::string& out, const Usage& u, std::string_view cost) {
  out += R"({"prompt_tokens":)";
  append_int(out, u.input);
  out += R"(,"completion_tokens":)";
  append_int(out, u.output);
  out += R"(,"total_tokens":)";
  append_int(out, u.input + u.output);
  out += R"(,"prompt_tokens_details":{"cached_tokens":)";
  append_int(out, u.cache_read);
  out += R"(},"completion_tokens_details":{"reasoning_tokens":)";
  append_int(out, u.reasoning);
  out += '}';
  if (!cost.empty()) {
    out += R"(,"cost":)";
    out += cost;
  }
  out += '}';
}

Usage read_usage(std::string_view raw) {
  static constexpr std::array<std::string_view, 4> kKeys{"prompt_tokens", "completion_tokens", "prompt_tokens_details",
                                                         "completion_tokens_details"};
  static constexpr std::array<std::string_view, 1> kCached{"cached_tokens"};
  static constexpr std::array<std::string_view, 1> kReasoning{"reasoning_tokens"};
  std::array<Field, 4> f;
  Usage u;
  if (!fields(raw, kKeys, f)) return u;
  u.present = true;
  u.input = int_of(f[0]).value_or(0);
  u.output = int_of(f[1]).value_or(0);
  std::array<Field, 1> d;
  if (f[2].kind == Kind::kObject && fields(f[2].raw, kCached, d)) u.cache_read = int_of(d[0]).value_or(0);
  if (f[3].kind == Kind::kObject && fields(f[3].raw, kReasoning, d)) u.reasoning = int_of(d[0]).value_or(0);
  return u;
}

StopReason stop_of(std::string_view finish) {
  if (finish == "\"length\"") return StopReason::kMaxTokens;
  if (finish == "\"tool_calls\"" || finish == "\"function_call\"") return StopReason::kToolUse;
  if (finish == "\"content_filter\"") return StopReason::kContentFilter;
  return StopReason::kEndTurn;
}

// The completion's id as a JSON string: the provider's (already escaped), or one of ours.
std::string completion_id(std::string_view given, std::string_view request_id) {
  std::string out;
  if (given.empty()) {
    json::append_quoted(out, fmt::format("chatcmpl-{}", request_id));
  } else {
    append_string(out, given);
  }
  return out;
}

}  // namespace

// ---- requests ----------------------------------------------------------------------------

Result<ChatRequest> read_openai_request(std::string_view body, std::string_view target) {
  std::array<Field, kRequestKeys.size()> f;
  if (auto r = json::scan_object(body, kRequestKeys, f); !r) {
    return invalid(fmt::format("The request body is not valid JSON: {}.", r.error().message), {});
  }
  ChatRequest req;
  if (f[kMessages].kind != Kind::kArray) return invalid("Missing required parameter: 'messages'.", "messages");
  if (f[kFunctions].present()) {
    return invalid(fmt::format("'functions' (the legacy form of tools) cannot be translated for this model{}: send 'tools'.", for_model(target)),
                   "functions");
  }
  if (f[kAudio].present() || (f[kModalities].present() && f[kModalities].raw.find("audio") != std::string_view::npos)) {
    return invalid(fmt::format("Audio output cannot be translated for this model{}.", for_model(target)), "audio");
  }
  if (auto r = read_messages(f[kMessages], req, target); !r) return tl::unexpected(r.error());
  if (f[kTools].present() && f[kTools].kind != Kind::kNull) {
    if (auto r = read_tools(f[kTools], req); !r) return tl::unexpected(r.error());
  }
  if (f[kToolChoice].present() && f[kToolChoice].kind != Kind::kNull) {
    if (auto r = read_tool_choice(f[kToolChoice], req); !r) return tl::unexpected(r.error());
  }
  if (f[kParallel].kind == Kind::kFalse) req.parallel_tool_calls = false;
  const Field max = f[kMaxCompletionTokens].present() ? f[kMaxCompletionTokens] : f[kMaxTokens];
  if (max.present() && max.kind != Kind::kNull) {
    auto v = int_of(max);
    if (!v || *v < 1) return invalid("'max_tokens' must be a positive integer.", "max_tokens");
    req.max_tokens = *v;
  }
  if (f[kTemperature].present() && f[kTemperature].kind != Kind::kNull) {
    req.temperature = double_of(f[kTemperature]);
    if (!req.temperature) return invalid("'temperature' must be a number.", "temperature");
  }
  if (f[kTopP].present() && f[kTopP].kind != Kind::kNull) {
    req.top_p = double_of(f[kTopP]);
    if (!req.top_p) return invalid("'top_p' must be a number.", "top_p");
  }
  if (f[kTopK].kind == Kind::kNumber) req.top_k = int_of(f[kTopK]);
  if (f[kStop].kind == Kind::kString) {
    req.stop.push_back(contents(f[kStop].raw));
  } else if (f[kStop].kind == Kind::kArray) {
    std::vector<Field> stops;
    if (!json::scan_array(f[kStop].raw, stops)) return invalid("'stop' must be a string or an array of strings.", "stop");
    for (const Field& s : stops) {
      if (s.kind != Kind::kString) return invalid("'stop' must be a string or an array of strings.", "stop");
      req.stop.push_back(contents(s.raw));
    }
  }
  req.stream = f[kStream].kind == Kind::kTrue;
  if (f[kStreamOptions].kind == Kind::kObject) {
    static constexpr std::array<std::string_view, 1> kKeys{"include_usage"};
    std::array<Field, 1> o;
    req.include_usage = fields(f[kStreamOptions].raw, kKeys, o) && o[0].kind == Kind::kTrue;
  }
  if (f[kResponseFormat].present() && f[kResponseFormat].kind != Kind::kNull) {
    if (auto r = read_response_format(f[kResponseFormat], req); !r) return tl::unexpected(r.error());
  }
  if (f[kReasoningEffort].kind == Kind::kString) {
    const std::string_view effort = contents(f[kReasoningEffort].raw);
    if (effort != "minimal" && effort != "low" && effort != "medium" && effort != "high") {
      return invalid("'reasoning_effort' must be \"minimal\", \"low\", \"medium\" or \"high\".", "reasoning_effort");
    }
    req.reasoning_effort = effort;
  }
  if (f[kThinking].kind == Kind::kObject) {  // Anthropic's form, as some OpenAI clients send it for Claude
    static constexpr std::array<std::string_view, 2> kKeys{"type", "budget_tokens"};
    std::array<Field, 2> t;
    if (fields(f[kThinking].raw, kKeys, t) && t[0].raw == "\"enabled\"") req.thinking_budget = int_of(t[1]).value_or(0);
  }
  if (f[kUser].kind == Kind::kString) req.user = contents(f[kUser].raw);
  if (f[kN].kind == Kind::kNumber) req.n = int_of(f[kN]).value_or(1);
  req.logprobs = f[kLogprobs].kind == Kind::kTrue;
  return req;
}

Result<std::string> write_openai_request(const ChatRequest& req, const WriteOptions& options) {
  std::string out;
  out.reserve(1024);
  out += R"({"model":)";
  json::append_quoted(out, options.model);
  out += R"(,"messages":[)";
  bool first = true;
  if (!req.system.empty()) {
    out += R"({"role":"system","content":)";
    write_text_parts(out, req.system);
    out += '}';
    first = false;
  }
  for (const Message& m : req.messages) {
    const size_t before = out.size();
    if (!first) out += ',';
    const size_t start = out.size();
    if (m.role == Role::kUser) {
      if (auto r = write_user_message(out, m, options.model_label); !r) return tl::unexpected(r.error());
    } else if (std::any_of(m.parts.begin(), m.parts.end(),
                           [](const Part& p) { return p.kind == PartKind::kText || p.kind == PartKind::kToolUse; })) {
      write_assistant_message(out, m);
    }
    if (out.size() == start) {
      out.resize(before);  // nothing OpenAI takes (a turn of reasoning only)
    } else {
      first = false;
    }
  }
  out += ']';
  if (req.max_tokens) {
    out += options.reasoning_model ? R"(,"max_completion_tokens":)" : R"(,"max_tokens":)";
    append_int(out, *req.max_tokens);
  }
  if (req.temperature && !options.reasoning_model) {  // reasoning models refuse sampling parameters
    out += R"(,"temperature":)";
    append_double(out, *req.temperature);
  }
  if (req.top_p && !options.reasoning_model) {
    out += R"(,"top_p":)";
    append_double(out, *req.top_p);
  }
  if (!req.stop.empty()) {
    out += R"(,"stop":[)";
    for (size_t i = 0; i < req.stop.size(); ++i) {
      if (i > 0) out += ',';
      append_string(out, req.stop[i]);
    }
    out += ']';
  }
  if (!req.tools.empty()) {
    out += R"(,"tools":[)";
    for (size_t i = 0; i < req.tools.size(); ++i) {
      const Tool& t = req.tools[i];
      if (i > 0) out += ',';
      out += R"({"type":"function","function":{"name":)";
      append_string(out, t.name);
      if (!t.description.empty()) {
        out += R"(,"description":)";
        append_string(out, t.description);
      }
      out += R"(,"parameters":)";
      out += t.parameters.empty() ? std::string_view(R"({"type":"object","properties":{}})") : t.parameters;
      out += "}}";
    }
    out += ']';
    if (!req.parallel_tool_calls) out += R"(,"parallel_tool_calls":false)";
  }
  if (req.tool_choice_given) {
    switch (req.tool_choice) {
      case ToolChoice::kAuto: out += R"(,"tool_choice":"auto")"; break;
      case ToolChoice::kNone: out += R"(,"tool_choice":"none")"; break;
      case ToolChoice::kRequired: out += R"(,"tool_choice":"required")"; break;
      case ToolChoice::kNamed:
        out += R"(,"tool_choice":{"type":"function","function":{"name":)";
        append_string(out, req.tool_choice_name);
        out += "}}";
        break;
    }
  }
  if (req.response_format == ResponseFormat::kJsonObject) {
    out += R"(,"response_format":{"type":"json_object"})";
  } else if (req.response_format == ResponseFormat::kJsonSchema) {
    out += R"(,"response_format":{"type":"json_schema","json_schema":{"name":)";
    append_string(out, req.response_schema_name.empty() ? std::string_view("response") : req.response_schema_name);
    out += R"(,"schema":)";
    out += req.response_schema;
    out += "}}";
  }
  if (options.reasoning_model) {
    std::string_view effort = req.reasoning_effort;
    if (effort.empty() && req.thinking_budget) {
      effort = *req.thinking_budget <= 2048 ? "low" : *req.thinking_budget <= 8192 ? "medium" : "high";
    }
    if (!effort.empty()) {
      out += R"(,"reasoning_effort":")";
      out += effort;
      out += '"';
    }
  }
  if (!req.user.empty()) {
    out += R"(,"user":)";
    append_string(out, req.user);
  }
  if (req.stream) out += R"(,"stream":true,"stream_options":{"include_usage":true})";
  out += '}';
  return out;
}

// ---- responses ---------------------------------------------------------------------------

Result<ChatResponse> read_openai_response(std::string_view body) {
  static constexpr std::array<std::string_view, 4> kKeys{"id", "model", "choices", "usage"};
  std::array<Field, 4> f;
  if (!fields(body, kKeys, f) || f[2].kind != Kind::kArray) {
    return fail(ErrorCode::kUpstreamError, "the provider's answer is not a chat completion (no 'choices')");
  }
  ChatResponse res;
  if (f[0].kind == Kind::kString) res.id = contents(f[0].raw);
  if (f[1].kind == Kind::kString) res.model = contents(f[1].raw);
  if (f[3].kind == Kind::kObject) res.usage = read_usage(f[3].raw);
  static constexpr std::array<std::string_view, 2> kChoice{"message", "finish_reason"};
  std::vector<Field> choices;
  if (!json::scan_elements(f[2].raw, kChoice, choices) || choices.size() < 2) {
    return fail(ErrorCode::kUpstreamError, "the provider's answer has no choice");
  }
  static constexpr std::array<std::string_view, 6> kMessage{"content", "tool_calls", "reasoning_content", "reasoning",
                                                            "refusal", "thinking_blocks"};
  std::array<Field, 6> m;
  if (!fields(choices[0].raw, kMessage, m)) return fail(ErrorCode::kUpstreamError, "the provider's answer has no message");
  if (m[5].kind == Kind::kArray) {
    (void)read_thinking_blocks(m[5], res.content);
  } else {
    const Field reasoning = m[2].kind == Kind::kString ? m[2] : m[3];
    if (reasoning.kind == Kind::kString && reasoning.raw.size() > 2) {
      res.content.push_back({.kind = PartKind::kThinking, .text = contents(reasoning.raw)});
    }
  }
  if (m[0].kind == Kind::kString && m[0].raw.size() > 2) {
    res.content.push_back({.kind = PartKind::kText, .text = contents(m[0].raw)});
  } else if (m[4].kind == Kind::kString) {
    res.content.push_back({.kind = PartKind::kText, .text = contents(m[4].raw)});
  }
  if (m[1].kind == Kind::kArray) {
    if (auto r = read_tool_calls(m[1], res.content, res.arena, "tool_calls"); !r) {
      return fail(ErrorCode::kUpstreamError, "the provider's tool calls are malformed: " + r.error().message);
    }
  }
  res.stop = m[4].kind == Kind::kString && m[0].kind != Kind::kString ? StopReason::kRefusal : stop_of(choices[1].raw);
  return res;
}

std::string write_openai_response(const ChatResponse& res, const ResponseOptions& options) {
  std::string out;
  out.reserve(512);
  out += R"({"id":)";
  out += completion_id(res.id, options.request_id);
  out += R"(,"object":"chat.completion","created":)";
  append_int(out, static_cast<int64_t>(std::time(nullptr)));
  out += R"(,"model":)";
  json::append_quoted(out, options.model);
  out += R"(,"choices":[{"index":0,"message":{"role":"assistant","content":)";
  write_content(out, res.content);
  // Reasoning as DeepSeek and vLLM return it, and the blocks (with signatures) to send back.
  bool thinking = false;
  for (const Part& p : res.content) thinking |= p.kind == PartKind::kThinking || p.kind == PartKind::kRedactedThinking;
  if (thinking) {
    out += R"(,"reasoning_content":")";
    for (const Part& p : res.content) {
      if (p.kind == PartKind::kThinking) out += p.text;
    }
    out += R"(","thinking_blocks":[)";
    bool first = true;
    for (const Part& p : res.content) {
      if (p.kind != PartKind::kThinking && p.kind != PartKind::kRedactedThinking) continue;
      if (!first) out += ',';
      first = false;
      if (p.kind == PartKind::kThinking) {
        out += R"({"type":"thinking","thinking":)";
        append_string(out, p.text);
        out += R"(,"signature":)";
        append_string(out, p.signature);
      } else {
        out += R"({"type":"redacted_thinking","data":)";
        append_string(out, p.data);
      }
      out += '}';
    }
    out += ']';
  }
  write_tool_calls(out, res.content);
  out += R"(,"refusal":null},"logprobs":null,"finish_reason":")";
  out += openai_finish_reason(res.stop);
  out += R"("}],"usage":)";
  write_usage(out, res.usage, options.cost);
  out += '}';
  return out;
}

// ---- streams -----------------------------------------------------------------------------

namespace {

class OpenAiDecoder final : public StreamDecoder {
 public:
  Result<bool> decode(std::string_view, std::string_view data, std::vector<StreamEvent>& out) override {
    if (data == "[DONE]") {
      close_block(out);
      StreamEvent e{.type = StreamEvent::Type::kFinish, .stop = stop_, .usage = usage_};
      out.push_back(e);
      done_ = true;
      return true;
    }
    static constexpr std::array<std::string_view, 5> kKeys{"id", "model", "choices", "usage", "error"};
    std::array<Field, 5> f;
    if (auto r = json::scan_object(data, kKeys, f); !r) {
      return fail(ErrorCode::kUpstreamError, "the provider sent a malformed stream chunk: " + r.error().message);
    }
    if (f[4].kind == Kind::kObject) {
      error_ = read_error(0, std::string("{\"error\":").append(f[4].raw).append("}"));
      out.push_back({.type = StreamEvent::Type::kError, .text = error_.message, .error_type = error_.type});
      return true;
    }
    if (!started_) {
      started_ = true;
      id_.assign(f[0].kind == Kind::kString ? contents(f[0].raw) : std::string_view());
      model_.assign(f[1].kind == Kind::kString ? contents(f[1].raw) : std::string_view());
      out.push_back({.type = StreamEvent::Type::kStart, .id = id_, .model = model_});
    }
    if (f[3].kind == Kind::kObject) usage_ = read_usage(f[3].raw);
    if (f[2].kind != Kind::kArray) return true;
    static constexpr std::array<std::string_view, 2> kChoice{"delta", "finish_reason"};
    std::vector<Field> choices;
    if (!json::scan_elements(f[2].raw, kChoice, choices) || choices.size() < 2) return true;
    static constexpr std::array<std::string_view, 5> kDelta{"content", "reasoning_content", "reasoning", "tool_calls",
                                                            "refusal"};
    std::array<Field, 5> d;
    if (choices[0].kind == Kind::kObject && fields(choices[0].raw, kDelta, d)) {
      const Field reasoning = d[1].kind == Kind::kString ? d[1] : d[2];
      if (reasoning.kind == Kind::kString && reasoning.raw.size() > 2) {
        open(PartKind::kThinking, out);
        out.push_back({.type = StreamEvent::Type::kThinkingDelta, .index = index_, .text = contents(reasoning.raw)});
      }
      if (d[0].kind == Kind::kString && d[0].raw.size() > 2) {
        open(PartKind::kText, out);
        out.push_back({.type = StreamEvent::Type::kTextDelta, .index = index_, .text = contents(d[0].raw)});
      }
      if (d[4].kind == Kind::kString && d[4].raw.size() > 2) {  // a refusal reads as text that ends the turn
        refused_ = true;
        open(PartKind::kText, out);
        out.push_back({.type = StreamEvent::Type::kTextDelta, .index = index_, .text = contents(d[4].raw)});
      }
      if (d[3].kind == Kind::kArray) tool_deltas(d[3], out);
    }
    if (choices[1].kind == Kind::kString) {
      stop_ = refused_ ? StopReason::kRefusal : stop_of(choices[1].raw);
      close_block(out);
    }
    return true;
  }
  bool done() const override { return done_; }

 private:
  void open(PartKind kind, std::vector<StreamEvent>& out, std::string_view id = {}, std::string_view name = {}) {
    if (open_ && kind_ == kind && kind != PartKind::kToolUse) return;
    close_block(out);
    index_ = next_++;
    open_ = true;
    kind_ = kind;
    out.push_back({.type = StreamEvent::Type::kBlockStart, .index = index_, .block = kind, .id = id, .name = name});
  }
  void close_block(std::vector<StreamEvent>& out) {
    if (!open_) return;
    out.push_back({.type = StreamEvent::Type::kBlockStop, .index = index_});
    open_ = false;
  }
  void tool_deltas(Field calls, std::vector<StreamEvent>& out) {
    static constexpr std::array<std::string_view, 3> kKeys{"index", "id", "function"};
    static constexpr std::array<std::string_view, 2> kFn{"name", "arguments"};
    std::vector<Field> c;
    if (!json::scan_elements(calls.raw, kKeys, c)) return;
    for (size_t i = 0; i < c.size() / 3; ++i) {
      std::array<Field, 2> fn;
      if (!fields(c[i * 3 + 2].raw, kFn, fn)) fn = {};
      if (c[i * 3 + 1].kind == Kind::kString) {  // a new call
        open(PartKind::kToolUse, out, contents(c[i * 3 + 1].raw),
             fn[0].kind == Kind::kString ? contents(fn[0].raw) : std::string_view());
      }
      if (fn[1].kind == Kind::kString && fn[1].raw.size() > 2 && open_ && kind_ == PartKind::kToolUse) {
        out.push_back({.type = StreamEvent::Type::kToolInputDelta, .index = index_, .text = contents(fn[1].raw)});
      }
    }
  }

  bool started_ = false;
  bool done_ = false;
  bool open_ = false;
  bool refused_ = false;
  PartKind kind_ = PartKind::kText;
  int index_ = 0;
  int next_ = 0;
  StopReason stop_ = StopReason::kEndTurn;
  Usage usage_;
  std::string id_, model_;
  UpstreamError error_;
};

class OpenAiEncoder final : public StreamEncoder {
 public:
  explicit OpenAiEncoder(const EncoderOptions& o)
      : model_(o.model), request_id_(o.request_id), include_usage_(o.include_usage), created_(std::time(nullptr)) {}

  void encode(const StreamEvent& e, std::string& out) override {
    using T = StreamEvent::Type;
    switch (e.type) {
      case T::kStart:
        id_ = completion_id(e.id, request_id_);
        chunk(out, R"({"role":"assistant","content":""})", "null");
        break;
      case T::kBlockStart:
        if (e.block == PartKind::kToolUse) {
          delta_.assign(R"({"tool_calls":[{"index":)");
          append_int(delta_, tools_++);
          delta_ += R"(,"id":)";
          append_string(delta_, e.id);
          delta_ += R"(,"type":"function","function":{"name":)";
          append_string(delta_, e.name);
          delta_ += R"(,"arguments":""}}]})";
          chunk(out, delta_, "null");
        }
        break;
      case T::kTextDelta:
        delta_.assign(R"({"content":)");
        append_string(delta_, e.text);
        delta_ += '}';
        chunk(out, delta_, "null");
        break;
      case T::kThinkingDelta:
        delta_.assign(R"({"reasoning_content":)");
        append_string(delta_, e.text);
        delta_ += '}';
        chunk(out, delta_, "null");
        break;
      case T::kToolInputDelta:
        delta_.assign(R"({"tool_calls":[{"index":)");
        append_int(delta_, tools_ - 1);
        delta_ += R"(,"function":{"arguments":)";
        append_string(delta_, e.text);
        delta_ += "}}]}";
        chunk(out, delta_, "null");
        break;
      case T::kFinish: {
        std::string reason = "\"";
        reason += openai_finish_reason(e.stop);
        reason += '"';
        chunk(out, "{}", reason);
        if (include_usage_) {
          out += R"(data: {"id":)";
          out += id_;
          out += R"(,"object":"chat.completion.chunk","created":)";
          append_int(out, created_);
          out += R"(,"model":)";
          json::append_quoted(out, model_);
          out += R"(,"choices":[],"usage":)";
          write_usage(out, e.usage, e.cost);
          out += "}\n\n";
        }
        out += "data: [DONE]\n\n";
        break;
      }
      case T::kError:
        out += R"(data: {"error":{"message":)";
        append_escaped_quoted(out, e.text);
        out += R"(,"type":)";
        append_escaped_quoted(out, e.error_type.empty() ? std::string_view("api_error") : e.error_type);
        out += R"(,"param":null,"code":null}})";
        out += "\n\n";
        break;
      case T::kBlockStop:
      case T::kSignatureDelta:
        break;
    }
  }

 private:
  static void append_escaped_quoted(std::string& out, std::string_view plain) { json::append_quoted(out, plain); }

  void chunk(std::string& out, std::string_view delta, std::string_view finish) {
    out += R"(data: {"id":)";
    out += id_;
    out += R"(,"object":"chat.completion.chunk","created":)";
    append_int(out, created_);
    out += R"(,"model":)";
    json::append_quoted(out, model_);
    out += R"(,"choices":[{"index":0,"delta":)";
    out += delta;
    out += R"(,"logprobs":null,"finish_reason":)";
    out += finish;
    out += "}]}\n\n";
  }

  std::string model_;
  std::string request_id_;
  bool include_usage_;
  int64_t created_;
  std::string id_;
  std::string delta_;
  int tools_ = 0;
};

}  // namespace

std::unique_ptr<StreamDecoder> make_openai_stream_decoder() { return std::make_unique<OpenAiDecoder>(); }
std::unique_ptr<StreamEncoder> make_openai_stream_encoder(const EncoderOptions& options) {
  return std::make_unique<OpenAiEncoder>(options);
}

}  // namespace sy::translate
