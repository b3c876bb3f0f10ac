// Canonical request → the body of Gemini's models/{model}:generateContent (and
// :streamGenerateContent, the same body). The model and the stream flag live in the URL.
//
// Gemini's shape: `contents` of role user/model whose `parts` are text, inline_data, file_data,
// functionCall and functionResponse; consecutive messages of one role are merged into one
// content, as Gemini wants turns to alternate. A functionResponse names its function, not the
// call's id, so a tool result takes the name of the nearest earlier tool_use with its id.
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "translate/internal.h"

namespace sy::translate {
namespace {

// Gemini 3 rejects a conversation whose function calls lack the signature it attached to them.
// Clients of other dialects cannot keep it, so a call without one gets the value Google
// documents for calls it did not produce (ai.google.dev/gemini-api/docs/thought-signatures).
constexpr std::string_view kSkipSignature = "skip_thought_signature_validator";

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  s = s.substr(s.size() - suffix.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != suffix[i]) return false;
  }
  return true;
}

// The MIME type of an image URL from its extension (query and fragment ignored); image/jpeg
// when the extension says nothing.
std::string_view image_type_of(std::string_view escaped_url) {
  std::string url = decoded(escaped_url);
  std::string_view path = url;
  path = path.substr(0, path.find_first_of("?#"));
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".png", "image/png"},   {".jpg", "image/jpeg"},  {".jpeg", "image/jpeg"}, {".webp", "image/webp"},
      {".gif", "image/gif"},   {".heic", "image/heic"}, {".heif", "image/heif"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (ends_with_ci(path, ext)) return type;
  }
  return "image/jpeg";
}

// "data:image/png;base64,AAAA" → media type and data (escaped contents stay escaped).
bool split_data_url(std::string_view url, std::string_view& media_type, std::string_view& data) {
  constexpr std::string_view kData = "data:";
  constexpr std::string_view kBase64 = ";base64,";
  if (url.substr(0, kData.size()) != kData) return false;
  const size_t mark = url.find(kBase64);
  if (mark == std::string_view::npos) return false;
  media_type = url.substr(kData.size(), mark - kData.size());
  data = url.substr(mark + kBase64.size());
  return true;
}

// One Gemini content being built: the parts of consecutive messages of one role.
struct Turn {
  Role role = Role::kUser;
  std::string parts;      // part objects, comma-separated
  bool has_call = false;  // a functionCall part is in it
};

void next_part(Turn& t) {
  if (!t.parts.empty()) t.parts += ',';
}

void write_text(Turn& t, std::string_view text) {
  if (text.empty()) return;  // Gemini rejects empty text parts
  next_part(t);
  t.parts += "{\"text\":";
  append_string(t.parts, text);
  t.parts += '}';
}

void write_image(Turn& t, const Part& p) {
  std::string_view media_type = p.media_type;
  std::string_view data = p.data;
  if (data.empty() && !split_data_url(p.url, media_type, data) && p.url.empty()) return;
  next_part(t);
  if (!data.empty()) {
    t.parts += "{\"inline_data\":{\"mime_type\":";
    append_string(t.parts, media_type.empty() ? std::string_view("image/jpeg") : media_type);
    t.parts += ",\"data\":";
    append_string(t.parts, data);
  } else {
    t.parts += "{\"file_data\":{\"mime_type\":";
    append_string(t.parts, image_type_of(p.url));
    t.parts += ",\"file_uri\":";
    append_string(t.parts, p.url);
  }
  t.parts += "}}";
}

class RequestWriter {
 public:
  RequestWriter(const ChatRequest& req, const WriteOptions& options) : req_(req), options_(options) {}

  Result<std::string> write() {
    // The reader takes Gemini's first candidate and no log probabilities.
    if (req_.n > 1) {
      return fail(ErrorCode::kInvalidRequest,
                  fmt::format("{}: 'n' > 1 is not supported through the gateway for Gemini models; ask once per choice.", label()),
                  "n");
    }
    if (req_.logprobs) {
      return fail(ErrorCode::kInvalidRequest,
                  fmt::format("{}: 'logprobs' is not supported through the gateway for Gemini models.", label()), "logprobs");
    }
    out_ = "{\"contents\":[";
    if (auto r = write_contents(); !r) return tl::unexpected(r.error());
    out_ += ']';
    write_system();
    write_tools();
    write_generation_config();
    out_ += '}';
    return std::move(out_);
  }

 private:
  Result<bool> write_contents() {
    Turn turn;
    bool any = false;
    for (const Message& m : req_.messages) {
      if (m.role == turn.role) {
        if (auto r = write_parts(turn, m); !r) return r;
        continue;
      }
      // A message with nothing Gemini can take does not end the turn before it.
      Turn next{.role = m.role};
      if (auto r = write_parts(next, m); !r) return r;
      if (next.parts.empty()) continue;
      any |= flush(turn);
      turn = std::move(next);
    }
    any |= flush(turn);
    if (!any) return fail(ErrorCode::kInvalidRequest, fmt::format("{}: the request has no message content to send", label()), "messages");
    return true;
  }

  Result<bool> write_parts(Turn& t, const Message& m) {
    for (const Part& p : m.parts) {
      if (auto r = write_part(t, p); !r) return r;
    }
    return true;
  }

  Result<bool> write_part(Turn& t, const Part& p) {
    switch (p.kind) {
      case PartKind::kText: write_text(t, p.text); break;
      case PartKind::kImage: write_image(t, p); break;
      case PartKind::kToolUse: write_call(t, p); break;
      case PartKind::kToolResult: return write_result(t, p);
      case PartKind::kThinking:
        // Gemini's thoughts go back only with their signature; a summary alone means nothing to it.
        if (t.role != Role::kAssistant || p.signature.empty()) break;
        next_part(t);
        t.parts += "{\"text\":";
        append_string(t.parts, p.text);
        t.parts += ",\"thought\":true,\"thoughtSignature\":";
        append_string(t.parts, p.signature);
        t.parts += '}';
        break;
      case PartKind::kRedactedThinking: break;  // another provider's opaque data
    }
    return true;
  }

  void write_call(Turn& t, const Part& p) {
    calls_.emplace_back(p.id, p.name);
    next_part(t);
    t.parts += "{\"functionCall\":{\"name\":";
    append_string(t.parts, p.name);
    t.parts += ",\"args\":";
    t.parts += p.input.empty() ? std::string_view("{}") : p.input;
    t.parts += '}';
    std::string_view signature = p.signature;
    if (signature.empty() && !t.has_call) signature = kSkipSignature;  // required on a turn's first call
    if (!signature.empty()) {
      t.parts += ",\"thoughtSignature\":";
      append_string(t.parts, signature);
    }
    t.parts += '}';
    t.has_call = true;
  }

  Result<bool> write_result(Turn& t, const Part& p) {
    std::string_view name;
    for (auto it = calls_.rbegin(); it != calls_.rend(); ++it) {
      if (it->first == p.id) {
        name = it->second;
        break;
      }
    }
    if (name.empty()) {
      return fail(ErrorCode::kInvalidRequest,
                  fmt::format("{}: the tool result for call '{}' answers no earlier tool call of the conversation; "
                              "Gemini needs the called function's name",
                              label(), decoded(p.id)),
                  "messages");
    }
    // {"output": text} or {"error": text}: the keys Gemini's documentation gives for a
    // function's result and its failure.
    next_part(t);
    t.parts += "{\"functionResponse\":{\"name\":";
    append_string(t.parts, name);
    t.parts += p.is_error ? ",\"response\":{\"error\":\"" : ",\"response\":{\"output\":\"";
    bool first = true;
    for (const Part& c : p.content) {
      if (c.kind != PartKind::kText) continue;
      if (!first) t.parts += "\\n";
      t.parts += c.text;
      first = false;
    }
    t.parts += "\"}}}";
    for (const Part& c : p.content) {  // images of a result follow it in the same turn
      if (c.kind == PartKind::kImage) write_image(t, c);
    }
    return true;
  }

  // Appends the turn to contents and starts it over; whether it had parts.
  bool flush(Turn& t) {
    if (t.parts.empty()) return false;
    if (out_.back() != '[') out_ += ',';
    out_ += t.role == Role::kUser ? "{\"role\":\"user\",\"parts\":[" : "{\"role\":\"model\",\"parts\":[";
    out_ += t.parts;
    out_ += "]}";
    t.parts.clear();
    t.has_call = false;
    return true;
  }

  void write_system() {
    std::string parts;
    for (const Part& p : req_.system) {
      if (p.kind != PartKind::kText || p.text.empty()) continue;
      if (!parts.empty()) parts += ',';
      parts += "{\"text\":";
      append_string(parts, p.text);
      parts += '}';
    }
    if (parts.empty()) return;
    out_ += ",\"systemInstruction\":{\"parts\":[";
    out_ += parts;
    out_ += "]}";
  }

  void write_tools() {
    if (req_.tools.empty()) return;
    out_ += ",\"tools\":[{\"functionDeclarations\":[";
    bool first = true;
    for (const Tool& tool : req_.tools) {
      if (!first) out_ += ',';
      first = false;
      out_ += "{\"name\":";
      append_string(out_, tool.name);
      if (!tool.description.empty()) {
        out_ += ",\"description\":";
        append_string(out_, tool.description);
      }
      if (!tool.parameters.empty()) {  // a function without parameters leaves them unset
        out_ += ",\"parametersJsonSchema\":";
        out_ += tool.parameters;
      }
      out_ += '}';
    }
    out_ += "]}]";
    if (!req_.tool_choice_given && req_.tool_choice != ToolChoice::kNamed) return;
    out_ += ",\"toolConfig\":{\"functionCallingConfig\":{\"mode\":";
    switch (req_.tool_choice) {
      case ToolChoice::kAuto: out_ += "\"AUTO\""; break;
      case ToolChoice::kNone: out_ += "\"NONE\""; break;
      case ToolChoice::kRequired: out_ += "\"ANY\""; break;
      case ToolChoice::kNamed:
        out_ += "\"ANY\",\"allowedFunctionNames\":[";
        append_string(out_, req_.tool_choice_name);
        out_ += ']';
        break;
    }
    out_ += "}}";
  }

  // Tokens of thinking asked for: a budget, or an effort (minimal or low, medium, high → 1024,
  // 4096, 16384, as for Anthropic models). A budget of 0 in the canonical model means "thinking,
  // no budget given": Gemini's dynamic -1 (its 0 turns thinking off).
  std::optional<int64_t> thinking_budget() const {
    if (req_.thinking_budget) return *req_.thinking_budget > 0 ? *req_.thinking_budget : -1;
    if (req_.reasoning_effort == "minimal" || req_.reasoning_effort == "low") return 1024;
    if (req_.reasoning_effort == "medium") return 4096;
    if (req_.reasoning_effort == "high") return 16384;
    return std::nullopt;
  }

  void write_generation_config() {
    std::string g;
    auto key = [&g](std::string_view name) {
      g += g.empty() ? "\"" : ",\"";
      g += name;
      g += "\":";
    };
    if (req_.max_tokens) {
      key("maxOutputTokens");
      append_int(g, *req_.max_tokens);
    }
    if (req_.temperature) {
      key("temperature");
      append_double(g, *req_.temperature);
    }
    if (req_.top_p) {
      key("topP");
      append_double(g, *req_.top_p);
    }
    if (req_.top_k) {
      key("topK");
      append_int(g, *req_.top_k);
    }
    if (!req_.stop.empty()) {
      key("stopSequences");
      g += '[';
      for (size_t i = 0; i < req_.stop.size(); ++i) {
        if (i > 0) g += ',';
        append_string(g, req_.stop[i]);
      }
      g += ']';
    }
    if (req_.response_format != ResponseFormat::kText) {
      key("responseMimeType");
      g += "\"application/json\"";
      if (req_.response_format == ResponseFormat::kJsonSchema && !req_.response_schema.empty()) {
        key("responseJsonSchema");
        g += req_.response_schema;
      }
    }
    if (auto budget = thinking_budget()) {
      key("thinkingConfig");
      g += "{\"thinkingBudget\":";
      append_int(g, *budget);
      g += ",\"includeThoughts\":true}";
    }
    if (g.empty()) return;
    out_ += ",\"generationConfig\":{";
    out_ += g;
    out_ += '}';
  }

  std::string_view label() const {
    if (!options_.model_label.empty()) return options_.model_label;
    return options_.model.empty() ? std::string_view("gemini") : options_.model;
  }

  const ChatRequest& req_;
  const WriteOptions& options_;
  std::string out_;
  std::vector<std::pair<std::string_view, std::string_view>> calls_;  // tool_use id → name, in order
};

}  // namespace

Result<std::string> write_gemini_request(const ChatRequest& req, const WriteOptions& options) {
  return RequestWriter(req, options).write();
}

}  // namespace sy::translate
