#include "mock/request.h"

#include <boost/json.hpp>

#include <cctype>
#include <cstdint>

namespace sy::mock {
namespace {

namespace bj = boost::json;

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

// Google's JSON mapping takes a field by its proto name too: systemInstruction or
// system_instruction. The other protocols' names have no capitals, so this is a plain lookup.
const bj::value* member(const bj::object& o, std::string_view camel) {
  if (const bj::value* v = o.if_contains(camel)) return v;
  std::string snake;
  for (const char c : camel) {
    if (c >= 'A' && c <= 'Z') {
      snake += '_';
      snake += static_cast<char>(c - 'A' + 'a');
    } else {
      snake += c;
    }
  }
  return snake.size() == camel.size() ? nullptr : o.if_contains(snake);
}

const bj::object* object_at(const bj::object& o, std::string_view key) {
  const bj::value* v = member(o, key);
  return v != nullptr ? v->if_object() : nullptr;
}
const bj::array* array_at(const bj::object& o, std::string_view key) {
  const bj::value* v = member(o, key);
  return v != nullptr ? v->if_array() : nullptr;
}
std::string_view string_at(const bj::object& o, std::string_view key) {
  const bj::value* v = member(o, key);
  const bj::string* s = v != nullptr ? v->if_string() : nullptr;
  return s != nullptr ? std::string_view(*s) : std::string_view();
}
std::optional<int> int_at(const bj::object& o, std::string_view key) {
  const bj::value* v = member(o, key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  bj::error_code ec;
  const auto n = v->to_number<int64_t>(ec);
  if (ec || n < 0) return std::nullopt;
  return static_cast<int>(n > INT32_MAX ? INT32_MAX : n);
}

// Counts the words of a prompt's text pieces, and hashes them (word by word, so that text
// split into parts differently hashes the same).
struct Counter {
  int words = 0;
  uint64_t hash = 1469598103934665603ULL;  // FNV-1a
  void text(std::string_view s) {
    bool in_word = false;
    for (const char c : s) {
      const bool space = is_space(c);
      if (!space && !in_word) ++words;
      if (space && in_word) mix(' ');
      if (!space) mix(c);
      in_word = !space;
    }
    if (in_word) mix(' ');
  }
  void mix(char c) { hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL; }
  void string_value(const bj::value* v) {
    if (v != nullptr && v->is_string()) text(v->get_string());
  }
  // A string, or an array of text parts {"type":"text","text":...} (OpenAI and Anthropic).
  void content(const bj::value* v) {
    if (v == nullptr) return;
    if (v->is_string()) return text(v->get_string());
    if (!v->is_array()) return;
    for (const bj::value& part : v->get_array()) {
      const bj::object* p = part.if_object();
      if (p == nullptr) continue;
      const std::string_view type = string_at(*p, "type");
      if (type == "text") string_value(p->if_contains("text"));
      if (type == "tool_result") content(p->if_contains("content"));
    }
  }
  // Every string inside a value (a Gemini functionResponse's response object).
  void strings(const bj::value& v) {
    if (v.is_string()) text(v.get_string());
    if (const bj::object* o = v.if_object()) {
      for (const auto& kv : *o) strings(kv.value());
    }
    if (const bj::array* a = v.if_array()) {
      for (const bj::value& e : *a) strings(e);
    }
  }
};

struct DeclaredTool {
  std::string_view name;
  const bj::value* schema = nullptr;
};

// What a tool choice says: no call, a named tool, or the first declared.
struct Choice {
  bool none = false;
  std::string_view name;
};

std::string arguments_for(const bj::value* schema);

std::optional<ToolCall> pick(const std::vector<DeclaredTool>& tools, Choice choice, bool answered) {
  if (tools.empty() || choice.none || answered) return std::nullopt;
  const DeclaredTool* t = &tools.front();
  for (const DeclaredTool& d : tools) {
    if (!choice.name.empty() && d.name == choice.name) t = &d;
  }
  return ToolCall{std::string(t->name), arguments_for(t->schema)};
}

Prompt read_openai(const bj::object& body) {
  Prompt p;
  Counter c;
  bool answered = false;
  if (const bj::array* messages = array_at(body, "messages")) {
    for (const bj::value& m : *messages) {
      const bj::object* o = m.if_object();
      if (o == nullptr) continue;
      c.content(o->if_contains("content"));
      const std::string_view role = string_at(*o, "role");
      answered = role == "tool" || role == "function";
    }
  }
  std::vector<DeclaredTool> tools;
  if (const bj::array* ts = array_at(body, "tools")) {
    for (const bj::value& t : *ts) {
      const bj::object* o = t.if_object();
      const bj::object* f = o != nullptr ? object_at(*o, "function") : nullptr;
      if (f != nullptr) tools.push_back({string_at(*f, "name"), f->if_contains("parameters")});
    }
  }
  Choice choice;
  if (const bj::value* tc = body.if_contains("tool_choice")) {
    if (tc->is_string()) choice.none = tc->get_string() == "none";
    if (const bj::object* o = tc->if_object()) {
      if (const bj::object* f = object_at(*o, "function")) choice.name = string_at(*f, "name");
    }
  }
  p.prompt_tokens = c.words;
  p.text_hash = c.hash;
  p.tool = pick(tools, choice, answered);
  p.max_tokens = int_at(body, "max_completion_tokens");
  if (!p.max_tokens) p.max_tokens = int_at(body, "max_tokens");
  return p;
}

Prompt read_anthropic(const bj::object& body) {
  Prompt p;
  Counter c;
  c.content(body.if_contains("system"));
  bool answered = false;
  if (const bj::array* messages = array_at(body, "messages")) {
    for (const bj::value& m : *messages) {
      const bj::object* o = m.if_object();
      if (o == nullptr) continue;
      const bj::value* content = o->if_contains("content");
      c.content(content);
      answered = false;
      if (content != nullptr && content->is_array() && string_at(*o, "role") == "user") {
        for (const bj::value& block : content->get_array()) {
          if (block.is_object() && string_at(block.get_object(), "type") == "tool_result") answered = true;
        }
      }
    }
  }
  std::vector<DeclaredTool> tools;
  if (const bj::array* ts = array_at(body, "tools")) {
    for (const bj::value& t : *ts) {
      const bj::object* o = t.if_object();
      if (o != nullptr && o->contains("input_schema")) tools.push_back({string_at(*o, "name"), o->if_contains("input_schema")});
    }
  }
  Choice choice;
  if (const bj::object* tc = object_at(body, "tool_choice")) {
    choice.none = string_at(*tc, "type") == "none";
    if (string_at(*tc, "type") == "tool") choice.name = string_at(*tc, "name");
  }
  p.prompt_tokens = c.words;
  p.text_hash = c.hash;
  p.tool = pick(tools, choice, answered);
  p.max_tokens = int_at(body, "max_tokens");
  return p;
}

Prompt read_gemini(const bj::object& body) {
  if (const bj::object* wrapped = object_at(body, "generateContentRequest")) return read_gemini(*wrapped);
  Prompt p;
  Counter c;
  auto parts_of = [](const bj::object& content) { return array_at(content, "parts"); };
  if (const bj::object* system = object_at(body, "systemInstruction")) {
    if (const bj::array* parts = parts_of(*system)) {
      for (const bj::value& part : *parts) {
        if (part.is_object()) c.string_value(part.get_object().if_contains("text"));
      }
    }
  }
  bool answered = false;
  if (const bj::array* contents = array_at(body, "contents")) {
    for (const bj::value& content : *contents) {
      const bj::array* parts = content.is_object() ? parts_of(content.get_object()) : nullptr;
      answered = false;
      if (parts == nullptr) continue;
      for (const bj::value& part : *parts) {
        const bj::object* o = part.if_object();
        if (o == nullptr) continue;
        const bj::value* thought = o->if_contains("thought");
        if (thought == nullptr || !thought->is_bool() || !thought->get_bool()) c.string_value(o->if_contains("text"));
        if (const bj::object* response = object_at(*o, "functionResponse")) {
          answered = true;
          if (const bj::value* r = member(*response, "response")) c.strings(*r);
        }
      }
    }
  }
  std::vector<DeclaredTool> tools;
  if (const bj::array* ts = array_at(body, "tools")) {
    for (const bj::value& t : *ts) {
      const bj::array* decls = t.is_object() ? array_at(t.get_object(), "functionDeclarations") : nullptr;
      if (decls == nullptr) continue;
      for (const bj::value& d : *decls) {
        if (!d.is_object()) continue;
        const bj::object& o = d.get_object();
        const bj::value* schema = member(o, "parametersJsonSchema");
        tools.push_back({string_at(o, "name"), schema != nullptr ? schema : member(o, "parameters")});
      }
    }
  }
  Choice choice;
  const bj::object* config = object_at(body, "toolConfig");
  if (const bj::object* fc = config != nullptr ? object_at(*config, "functionCallingConfig") : nullptr) {
    choice.none = string_at(*fc, "mode") == "NONE";
    if (const bj::array* allowed = array_at(*fc, "allowedFunctionNames"); allowed != nullptr && !allowed->empty()) {
      if (allowed->front().is_string()) choice.name = allowed->front().get_string();
    }
  }
  p.prompt_tokens = c.words;
  p.text_hash = c.hash;
  p.tool = pick(tools, choice, answered);
  if (const bj::object* gen = object_at(body, "generationConfig")) p.max_tokens = int_at(*gen, "maxOutputTokens");
  return p;
}

// A schema's type in lower case ("STRING" in Gemini's Schema, "string" in JSON Schema); a list
// of types gives its first non-null one; a schema without one is guessed from its keywords.
std::string type_of(const bj::object& schema) {
  const bj::value* t = schema.if_contains("type");
  std::string_view name;
  if (t != nullptr && t->is_string()) name = t->get_string();
  if (t != nullptr && t->is_array()) {
    for (const bj::value& e : t->get_array()) {
      if (e.is_string() && e.get_string() != "null" && e.get_string() != "NULL") {
        name = e.get_string();
        break;
      }
    }
  }
  if (name.empty()) {
    for (const char* alt : {"anyOf", "oneOf"}) {
      const bj::array* branches = array_at(schema, alt);
      if (branches != nullptr && !branches->empty() && branches->front().is_object()) return type_of(branches->front().get_object());
    }
    if (schema.contains("properties")) return "object";
    if (schema.contains("items")) return "array";
  }
  std::string lower;
  for (const char ch : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return lower;
}

bj::value argument_value(std::string_view property, const bj::value& schema) {
  const bj::object* s = schema.if_object();
  if (s == nullptr) return bj::string("mock-" + std::string(property));
  if (const bj::array* values = array_at(*s, "enum"); values != nullptr && !values->empty()) return values->front();
  const std::string type = type_of(*s);
  if (type == "number" || type == "integer") return 42;
  if (type == "boolean") return true;
  if (type == "array") return bj::array();
  if (type == "object") return bj::object();
  if (type == "null") return nullptr;
  return bj::string("mock-" + std::string(property));
}

std::string arguments_for(const bj::value* schema) {
  bj::object args;
  const bj::object* s = schema != nullptr ? schema->if_object() : nullptr;
  if (const bj::object* props = s != nullptr ? object_at(*s, "properties") : nullptr) {
    for (const auto& kv : *props) args[kv.key()] = argument_value(kv.key(), kv.value());
  }
  return bj::serialize(args);
}

}  // namespace

int count_words(std::string_view text) {
  int words = 0;
  bool in_word = false;
  for (const char c : text) {
    const bool space = is_space(c);
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

std::string tool_arguments(std::string_view schema) {
  bj::error_code ec;
  const bj::value v = bj::parse(schema, ec);
  return arguments_for(ec ? nullptr : &v);
}

Result<Prompt> read_prompt(Protocol protocol, std::string_view body) {
  bj::parse_options options;
  options.max_depth = 128;  // as deep as the request scanner allows
  bj::error_code ec;
  const bj::value v = bj::parse(body, ec, {}, options);
  if (ec || !v.is_object()) return fail(ErrorCode::kInvalidRequest, "the body is not a JSON object: " + ec.message());
  Prompt p;
  switch (protocol) {
    case Protocol::kOpenAi: p = read_openai(v.get_object()); break;
    case Protocol::kAnthropic: p = read_anthropic(v.get_object()); break;
    case Protocol::kGemini: p = read_gemini(v.get_object()); break;
  }
  if (p.prompt_tokens < 1) p.prompt_tokens = 1;
  return p;
}

}  // namespace sy::mock
