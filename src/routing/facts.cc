#include "routing/facts.h"

#include <fmt/format.h>

#include <array>
#include <chrono>

#include "cel/json_value.h"

namespace sy::routing {
namespace {

constexpr std::array<std::string_view, 2> kMessageKeys{"role", "content"};
constexpr std::array<std::string_view, 2> kPartKeys{"type", "text"};

bool has_escape(std::string_view raw) { return raw.find('\\') != std::string_view::npos; }

// A JSON value from the body as a CEL value; unescaped strings stay views into the body.
cel::Value value_of(json::Field f) {
  switch (f.kind) {
    case json::Kind::kString:
      if (!has_escape(f.raw)) return cel::Value::string_view(f.raw.substr(1, f.raw.size() - 2));
      return cel::Value::string(json::unescape(f.raw));
    case json::Kind::kTrue: return cel::Value::boolean(true);
    case json::Kind::kFalse: return cel::Value::boolean(false);
    case json::Kind::kNull:
    case json::Kind::kMissing: return cel::Value::null();
    default: {
      auto v = cel::parse_json(f.raw, /*copy_strings=*/false);
      return v ? std::move(*v) : cel::Value::error(v.error());
    }
  }
}

cel::Value text_value(std::string_view raw_string) {
  return value_of(json::Field{raw_string, json::Kind::kString});
}

// A message's content as text: a string, or its text parts joined by "\n". `first_text` gets
// the JSON string token of the first text (where a slash command would be).
std::string content_text(json::Field content, json::Field* first_text) {
  if (content.kind == json::Kind::kString) {
    if (first_text != nullptr) *first_text = content;
    return has_escape(content.raw) ? json::unescape(content.raw)
                                   : std::string(content.raw.substr(1, content.raw.size() - 2));
  }
  std::string out;
  if (content.kind != json::Kind::kArray) return out;
  std::vector<json::Field> parts;
  if (!json::scan_array(content.raw, parts)) return out;
  for (const auto& p : parts) {
    std::array<json::Field, 2> f;
    if (p.kind != json::Kind::kObject || !json::scan_object(p.raw, kPartKeys, f)) continue;
    if (f[0].raw != "\"text\"" || f[1].kind != json::Kind::kString) continue;
    if (first_text != nullptr && !first_text->present()) *first_text = f[1];
    if (!out.empty()) out += '\n';
    out += json::unescape(f[1].raw);
  }
  return out;
}

cel::Value messages_value(json::Field messages, int64_t& count) {
  std::vector<json::Field> items;
  count = 0;
  if (messages.kind != json::Kind::kArray || !json::scan_array(messages.raw, items)) {
    return cel::Value::error("the request's messages are not an array");
  }
  std::vector<cel::Value> list;
  list.reserve(items.size());
  for (const auto& m : items) {
    std::array<json::Field, 2> f;
    if (m.kind != json::Kind::kObject || !json::scan_object(m.raw, kMessageKeys, f)) continue;
    std::vector<std::pair<cel::Value, cel::Value>> entries;
    entries.emplace_back(cel::Value::string_view("role"), f[0].kind == json::Kind::kString ? text_value(f[0].raw)
                                                                                          : cel::Value::string_view(""));
    if (f[1].kind == json::Kind::kString) {
      entries.emplace_back(cel::Value::string_view("content"), text_value(f[1].raw));
    } else {
      entries.emplace_back(cel::Value::string_view("content"), cel::Value::string(content_text(f[1], nullptr)));
    }
    list.push_back(cel::Value::map(std::move(entries)));
  }
  count = static_cast<int64_t>(list.size());
  return cel::Value::list(std::move(list));
}

cel::Value headers_value(const HeaderSource* headers) {
  std::vector<std::pair<cel::Value, cel::Value>> entries;
  if (headers == nullptr) return cel::Value::map({});
  for (size_t i = 0, n = headers->count(); i < n; ++i) {
    auto [name, value] = headers->at(i);
    std::string lower(name);
    for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (is_secret_header(lower)) continue;
    bool repeated = false;
    for (const auto& e : entries) repeated = repeated || e.first.str() == lower;
    if (repeated) continue;  // the first occurrence wins
    entries.emplace_back(cel::Value::string(std::move(lower)), cel::Value::string_view(value));
  }
  return cel::Value::map(std::move(entries));
}

cel::Value now_value() {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return cel::Value::timestamp(ns / 1'000'000'000, static_cast<int32_t>(ns % 1'000'000'000));
}

std::string key_text(const cel::Value& v) {
  switch (v.kind()) {
    case cel::Kind::kString: return std::string(v.str());
    case cel::Kind::kInt: return std::to_string(v.as_int());
    default: return {};
  }
}

}  // namespace

bool is_secret_header(std::string_view n) {
  return n == "authorization" || n == "proxy-authorization" || n == "x-api-key" || n == "api-key" ||
         n == "cookie" || n == "x-goog-api-key" || n.starts_with("x-switchyard-provider-key");
}

LastUserMessage last_user_message(json::Field messages) {
  LastUserMessage out;
  std::vector<json::Field> items;
  if (messages.kind != json::Kind::kArray || !json::scan_array(messages.raw, items)) return out;
  for (auto it = items.rbegin(); it != items.rend(); ++it) {
    std::array<json::Field, 2> f;
    if (it->kind != json::Kind::kObject || !json::scan_object(it->raw, kMessageKeys, f)) continue;
    if (f[0].raw != "\"user\"") continue;
    out.text = content_text(f[1], &out.token);
    out.found = true;
    break;
  }
  return out;
}

void bind_facts(const CompiledRouter& router, const RequestView& req, cel::Activation& act, FactScratch& scratch) {
  const auto& vars = router.meta_vars();
  const bool sticky_by_user = router.spec().stickiness_key == "user";
  const bool wants_user = router.needs(Builtin::kUser);

  // Metadata keys first: one scan of the metadata object for every name the router reads.
  std::vector<std::string_view> keys;
  keys.reserve(vars.size() + 2);
  for (const auto& v : vars) keys.push_back(v.name);
  const size_t user_at = keys.size();
  if (wants_user) {
    keys.push_back("user");
    keys.push_back("user_id");
  }
  std::vector<json::Field> found(keys.size());
  if (!keys.empty() && req.metadata.kind == json::Kind::kObject) {
    if (!json::scan_object(req.metadata.raw, keys, found)) std::fill(found.begin(), found.end(), json::Field{});
  }
  // Then headers, then top-level body fields (one more scan, only for names still missing).
  std::vector<std::string_view> missing;
  std::vector<cel::Value> values(vars.size());
  std::vector<bool> bound(vars.size(), false);
  for (size_t i = 0; i < vars.size(); ++i) {
    if (found[i].present()) {
      values[i] = value_of(found[i]);
      bound[i] = true;
    } else if (req.headers != nullptr) {
      if (auto h = req.headers->get(vars[i].header); !h.empty()) {
        values[i] = cel::Value::string_view(h);
        bound[i] = true;
      }
    }
    if (!bound[i]) missing.push_back(vars[i].name);
  }
  if (!missing.empty()) {
    std::vector<json::Field> top(missing.size());
    if (json::scan_object(req.body, missing, top)) {
      for (size_t i = 0, m = 0; i < vars.size(); ++i) {
        if (bound[i]) continue;
        if (top[m].present()) {
          values[i] = value_of(top[m]);
          bound[i] = true;
          scratch.from_body.emplace_back(vars[i].name, top[m]);
        }
        ++m;
      }
    }
  }
  for (size_t i = 0; i < vars.size(); ++i) {
    if (bound[i]) act.bind(vars[i].name, std::move(values[i]));
    if (!sticky_by_user && vars[i].name == router.spec().stickiness_key && bound[i]) {
      // values[i] was moved; read the bound copy back.
      if (const cel::Value* v = act.find(vars[i].name)) scratch.sticky_key = key_text(*v);
    }
  }

  int64_t count = -1;
  for (Builtin b : router.builtins()) {
    switch (b) {
      case Builtin::kUser: {
        cel::Value user;
        if (req.user.kind == json::Kind::kString) {
          user = value_of(req.user);
        } else if (found.size() > user_at && found[user_at].kind == json::Kind::kString) {
          user = value_of(found[user_at]);
        } else if (found.size() > user_at + 1 && found[user_at + 1].kind == json::Kind::kString) {
          user = value_of(found[user_at + 1]);
        } else if (req.headers != nullptr) {
          if (auto h = req.headers->get("x-switchyard-user"); !h.empty()) user = cel::Value::string_view(h);
        }
        if (user.kind() == cel::Kind::kString) {
          if (sticky_by_user) scratch.sticky_key.assign(user.str());
          act.bind("user", std::move(user));
        }
        break;
      }
      case Builtin::kModel: act.bind("model", cel::Value::string_view(req.model)); break;
      case Builtin::kStream: act.bind("stream", cel::Value::boolean(req.stream)); break;
      case Builtin::kMessages: act.bind("messages", messages_value(req.messages, count)); break;
      case Builtin::kMessageCount: {
        if (count < 0) {
          std::vector<json::Field> items;
          count = req.messages.kind == json::Kind::kArray && json::scan_array(req.messages.raw, items)
                      ? static_cast<int64_t>(items.size())
                      : 0;
        }
        act.bind("message_count", cel::Value::integer(count));
        break;
      }
      case Builtin::kLastUserMessage:
        scratch.last_user = last_user_message(req.messages);
        act.bind("last_user_message", cel::Value::string_view(scratch.last_user.text));
        break;
      case Builtin::kHeaders: act.bind("headers", headers_value(req.headers)); break;
      case Builtin::kNow: act.bind("now", now_value()); break;
    }
  }
}

}  // namespace sy::routing
