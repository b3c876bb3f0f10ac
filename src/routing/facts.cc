#include "routing/facts.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>

#include <boost/container/small_vector.hpp>

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
  std::vector<json::Field> parts;  // type, text; per part
  if (content.kind != json::Kind::kArray || !json::scan_elements(content.raw, kPartKeys, parts)) return out;
  for (size_t i = 0; i + 1 < parts.size(); i += 2) {
    const json::Field type = parts[i];
    const json::Field text = parts[i + 1];
    if (type.raw != "\"text\"" || text.kind != json::Kind::kString) continue;
    if (first_text != nullptr && !first_text->present()) *first_text = text;
    if (!out.empty()) out += '\n';
    out += json::unescape(text.raw);
  }
  return out;
}

// The messages array, read once: role and content of each message.
struct Messages {
  std::vector<json::Field> fields;  // role, content; per message
  size_t count() const { return fields.size() / 2; }
};

Messages read_messages(json::Field messages) {
  Messages m;
  if (messages.kind != json::Kind::kArray || !json::scan_elements(messages.raw, kMessageKeys, m.fields)) m.fields.clear();
  return m;
}

cel::Value messages_value(const Messages& messages) {
  std::vector<cel::Value> list;
  list.reserve(messages.count());
  for (size_t i = 0; i < messages.count(); ++i) {
    const json::Field role = messages.fields[2 * i];
    const json::Field content = messages.fields[2 * i + 1];
    std::vector<std::pair<cel::Value, cel::Value>> entries;
    entries.reserve(2);
    entries.emplace_back(cel::Value::string_view("role"),
                         role.kind == json::Kind::kString ? text_value(role.raw) : cel::Value::string_view(""));
    entries.emplace_back(cel::Value::string_view("content"), content.kind == json::Kind::kString
                                                                 ? text_value(content.raw)
                                                                 : cel::Value::string(content_text(content, nullptr)));
    list.push_back(cel::Value::map(std::move(entries)));
  }
  return cel::Value::list(std::move(list));
}

LastUserMessage last_user_of(const Messages& messages) {
  LastUserMessage out;
  for (size_t i = messages.count(); i-- > 0;) {
    if (messages.fields[2 * i].raw != "\"user\"") continue;
    out.text = content_text(messages.fields[2 * i + 1], &out.token);
    out.found = true;
    break;
  }
  return out;
}

cel::Value headers_value(const HeaderSource* headers) {
  std::vector<std::pair<cel::Value, cel::Value>> entries;
  if (headers == nullptr) return cel::Value::map({});
  entries.reserve(headers->count());
  for (size_t i = 0, n = headers->count(); i < n; ++i) {
    auto [name, value] = headers->at(i);
    const bool lower = std::none_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    std::string folded;
    if (!lower) {
      folded.assign(name);
      for (char& c : folded) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    const std::string_view key = lower ? name : std::string_view(folded);
    if (is_secret_header(key)) continue;
    bool repeated = false;
    for (const auto& e : entries) repeated = repeated || e.first.str() == key;
    if (repeated) continue;  // the first occurrence wins
    entries.emplace_back(lower ? cel::Value::string_view(name) : cel::Value::string(std::move(folded)),
                         cel::Value::string_view(value));
  }
  return cel::Value::map(std::move(entries));
}

cel::Value now_value() {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return cel::Value::timestamp(ns / 1'000'000'000, static_cast<int32_t>(ns % 1'000'000'000));
}

// The text of a stickiness key: a string's own text, or a number written into `storage`.
std::string_view key_text(const cel::Value& v, std::string& storage) {
  switch (v.kind()) {
    case cel::Kind::kString: return v.str();
    case cel::Kind::kInt: return storage = std::to_string(v.as_int());
    default: return {};
  }
}

// Whether any header is named x-switchyard-meta-<something>: when none is, the per-name
// header lookups are skipped.
bool has_meta_headers(const HeaderSource* headers) {
  if (headers == nullptr) return false;
  constexpr std::string_view kPrefix = "x-switchyard-meta-";
  for (size_t i = 0, n = headers->count(); i < n; ++i) {
    const std::string_view name = headers->at(i).first;
    if (name.size() > kPrefix.size() &&
        std::equal(kPrefix.begin(), kPrefix.end(), name.begin(),
                   [](char a, char b) { return a == (b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : b); })) {
      return true;
    }
  }
  return false;
}

// The top-level body field `name`, from the caller's member list or a scan of the body.
json::Field body_field(const RequestView& req, std::string_view name) {
  if (!req.members.empty()) {
    for (const auto& m : req.members) {
      const std::string_view key = m.key.substr(1, m.key.size() - 2);
      if (key == name || (has_escape(key) && json::unescape(m.key) == name)) return m.value;
    }
    return {};
  }
  const std::array<std::string_view, 1> keys{name};
  std::array<json::Field, 1> out;
  if (!json::scan_object(req.body, keys, out)) return {};
  return out[0];
}

}  // namespace

bool is_secret_header(std::string_view n) {
  return n == "authorization" || n == "proxy-authorization" || n == "x-api-key" || n == "api-key" ||
         n == "cookie" || n == "x-goog-api-key" || n.starts_with("x-switchyard-provider-key");
}

void bind_facts(const CompiledRouter& router, const RequestView& req, cel::Activation& act, FactScratch& scratch) {
  const auto& vars = router.meta_vars();
  act.reserve(vars.size() + router.builtins().size());
  const bool sticky_by_user = router.spec().stickiness_key == "user";
  const bool wants_user = router.needs(Builtin::kUser);

  // Metadata keys first: one scan of the metadata object for every name the router reads.
  boost::container::small_vector<std::string_view, 16> keys;
  for (const auto& v : vars) keys.push_back(v.name);
  const size_t user_at = keys.size();
  if (wants_user) {
    keys.push_back("user");
    keys.push_back("user_id");
  }
  boost::container::small_vector<json::Field, 16> found(keys.size());
  if (!keys.empty() && req.metadata.kind == json::Kind::kObject) {
    if (!json::scan_object(req.metadata.raw, keys, found)) std::fill(found.begin(), found.end(), json::Field{});
  }
  // Then the header x-switchyard-meta-<name>, then a top-level body field of that name.
  const bool meta_headers = !vars.empty() && has_meta_headers(req.headers);
  for (size_t i = 0; i < vars.size(); ++i) {
    const std::string& name = vars[i].name;
    if (found[i].present()) {
      act.bind(name, value_of(found[i]));
    } else if (auto h = meta_headers ? req.headers->get(vars[i].header) : std::string_view(); !h.empty()) {
      act.bind(name, cel::Value::string_view(h));
    } else if (const json::Field f = body_field(req, name); f.present()) {
      act.bind(name, value_of(f));
      scratch.from_body.emplace_back(name, f);
    } else {
      continue;
    }
    if (!sticky_by_user && name == router.spec().stickiness_key) {
      if (const cel::Value* v = act.find(name)) scratch.sticky_key = key_text(*v, scratch.key_storage);
    }
  }

  std::optional<Messages> messages;  // read on first use, once
  auto read = [&]() -> const Messages& {
    if (!messages) messages = read_messages(req.messages);
    return *messages;
  };
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
          act.bind("user", std::move(user));
          // The bound value owns or borrows the text for as long as the activation lives.
          if (sticky_by_user) scratch.sticky_key = act.find("user")->str();
        }
        break;
      }
      case Builtin::kModel: act.bind("model", cel::Value::string_view(req.model)); break;
      case Builtin::kStream: act.bind("stream", cel::Value::boolean(req.stream)); break;
      case Builtin::kMessages: act.bind("messages", messages_value(read())); break;
      case Builtin::kMessageCount:
        act.bind("message_count", cel::Value::integer(static_cast<int64_t>(read().count())));
        break;
      case Builtin::kLastUserMessage:
        scratch.last_user = last_user_of(read());
        act.bind("last_user_message", cel::Value::string_view(scratch.last_user.text));
        break;
      case Builtin::kHeaders: act.bind("headers", headers_value(req.headers)); break;
      case Builtin::kNow: act.bind("now", now_value()); break;
    }
  }
}

}  // namespace sy::routing
