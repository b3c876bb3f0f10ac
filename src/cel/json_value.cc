// JSON <-> Value: activations from request metadata (strings borrowed from the JSON text)
// and the conformance data's typed value form.
#include "cel/json_value.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "core/json_scan.h"
#include "cel/eval.h"

namespace sy::cel {
namespace {

class JsonParser {
 public:
  JsonParser(std::string_view s, bool copy) : s_(s), copy_(copy) {}

  tl::expected<Value, std::string> run() {
    Value v = value(0);
    if (!err_.empty()) return tl::unexpected(err_);
    ws();
    if (pos_ != s_.size()) return tl::unexpected(fmt::format("unexpected data at byte {}", pos_));
    return v;
  }

 private:
  void ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r')) ++pos_;
  }
  Value fail(std::string m) {
    if (err_.empty()) err_ = fmt::format("invalid JSON at byte {}: {}", pos_, m);
    return {};
  }
  bool lit(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }
  Value string_value() {
    const size_t start = pos_++;
    bool escaped = false;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      if (static_cast<unsigned char>(s_[pos_]) < 0x20) return fail("control character in string");
      if (s_[pos_] == '\\') {
        escaped = true;
        ++pos_;
      }
      ++pos_;
    }
    if (pos_ >= s_.size()) return fail("unterminated string");
    ++pos_;
    const std::string_view raw = s_.substr(start, pos_ - start);
    if (escaped) return Value::string(json::unescape(raw));
    const std::string_view body = raw.substr(1, raw.size() - 2);
    return copy_ ? Value::string(std::string(body)) : Value::string_view(body);
  }
  Value number() {
    const size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    bool integral = true;
    while (pos_ < s_.size() && ((s_[pos_] >= '0' && s_[pos_] <= '9') || s_[pos_] == '.' || s_[pos_] == 'e' ||
                                s_[pos_] == 'E' || s_[pos_] == '+' || s_[pos_] == '-')) {
      if (s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E') integral = false;
      ++pos_;
    }
    const std::string_view t = s_.substr(start, pos_ - start);
    if (integral) {
      int64_t i;
      auto r = std::from_chars(t.data(), t.data() + t.size(), i);
      if (r.ec == std::errc() && r.ptr == t.data() + t.size()) return Value::integer(i);
    }
    double d;
    auto r = std::from_chars(t.data(), t.data() + t.size(), d);
    if (r.ptr != t.data() + t.size() || t.empty()) return fail("invalid number");
    return Value::dbl(d);
  }
  Value value(int depth) {
    if (depth > 128) return fail("nesting is too deep");
    ws();
    if (pos_ >= s_.size()) return fail("unexpected end");
    const char c = s_[pos_];
    if (c == '"') return string_value();
    if (c == '{') {
      ++pos_;
      std::vector<std::pair<Value, Value>> entries;
      ws();
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return Value::map({});
      }
      for (;;) {
        ws();
        if (pos_ >= s_.size() || s_[pos_] != '"') return fail("expected a key");
        Value k = string_value();
        ws();
        if (pos_ >= s_.size() || s_[pos_] != ':') return fail("expected ':'");
        ++pos_;
        Value v = value(depth + 1);
        if (!err_.empty()) return {};
        bool replaced = false;
        for (auto& e : entries) {
          if (e.first.str() == k.str()) {
            e.second = v;
            replaced = true;
          }
        }
        if (!replaced) entries.emplace_back(std::move(k), std::move(v));
        ws();
        if (pos_ < s_.size() && s_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < s_.size() && s_[pos_] == '}') {
          ++pos_;
          return Value::map(std::move(entries));
        }
        return fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      ++pos_;
      std::vector<Value> items;
      ws();
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return Value::list({});
      }
      for (;;) {
        items.push_back(value(depth + 1));
        if (!err_.empty()) return {};
        ws();
        if (pos_ < s_.size() && s_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < s_.size() && s_[pos_] == ']') {
          ++pos_;
          return Value::list(std::move(items));
        }
        return fail("expected ',' or ']'");
      }
    }
    if (lit("true")) return Value::boolean(true);
    if (lit("false")) return Value::boolean(false);
    if (lit("null")) return Value::null();
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    return fail("unexpected character");
  }

  std::string_view s_;
  bool copy_;
  size_t pos_ = 0;
  std::string err_;
};

const std::string_view kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string json_string(std::string_view s) {
  std::string out;
  json::append_quoted(out, s);
  return out;
}

std::string json_double(double d) {
  if (std::isnan(d)) return "\"NaN\"";
  if (std::isinf(d)) return d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  if (d == 0 && std::signbit(d)) return "\"-0\"";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

const Value* field(const Value& m, std::string_view k) { return m.find_string(k); }

tl::expected<Value, std::string> from_typed(const Value& t) {
  if (t.kind() != Kind::kMap) return tl::unexpected(std::string("typed value must be an object"));
  const Value* type = field(t, "type");
  const Value* v = field(t, "value");
  if (!type || type->kind() != Kind::kString) return tl::unexpected(std::string("typed value without a type"));
  const std::string_view ty = type->str();
  static const Value kNull;
  const Value& val = v ? *v : kNull;
  auto text = [&]() -> std::string {
    if (val.kind() == Kind::kString) return std::string(val.str());
    if (val.kind() == Kind::kInt) return fmt::format("{}", val.as_int());
    if (val.kind() == Kind::kDouble) return fmt::format("{}", val.as_double());
    return "";
  };
  if (ty == "null") return Value::null();
  if (ty == "bool") return Value::boolean(val.kind() == Kind::kBool && val.as_bool());
  if (ty == "int") {
    int64_t i = 0;
    const std::string s = text();
    std::from_chars(s.data(), s.data() + s.size(), i);
    return Value::integer(i);
  }
  if (ty == "uint") {
    uint64_t u = 0;
    const std::string s = text();
    std::from_chars(s.data(), s.data() + s.size(), u);
    return Value::uinteger(u);
  }
  if (ty == "double") {
    if (val.kind() == Kind::kInt) return Value::dbl(static_cast<double>(val.as_int()));
    if (val.kind() == Kind::kDouble) return val;
    const std::string s = text();
    if (s == "NaN") return Value::dbl(NAN);
    if (s == "Infinity") return Value::dbl(INFINITY);
    if (s == "-Infinity") return Value::dbl(-INFINITY);
    if (s == "-0") return Value::dbl(-0.0);
    return Value::dbl(std::strtod(s.c_str(), nullptr));
  }
  if (ty == "string") return Value::string(text());
  if (ty == "bytes") {
    auto decoded = base64_decode(val.str());
    if (!decoded) return tl::unexpected(std::string("invalid base64 bytes"));
    return Value::bytes(std::move(*decoded));
  }
  if (ty == "list") {
    std::vector<Value> items;
    for (const auto& x : val.items()) {
      auto e = from_typed(x);
      if (!e) return e;
      items.push_back(std::move(*e));
    }
    return Value::list(std::move(items));
  }
  if (ty == "map") {
    std::vector<std::pair<Value, Value>> entries;
    for (const auto& x : val.items()) {
      const Value* k = field(x, "key");
      const Value* mv = field(x, "value");
      if (!k || !mv) return tl::unexpected(std::string("map entry without key or value"));
      auto kk = from_typed(*k);
      auto vv = from_typed(*mv);
      if (!kk) return kk;
      if (!vv) return vv;
      entries.emplace_back(std::move(*kk), std::move(*vv));
    }
    return Value::map(std::move(entries));
  }
  if (ty == "timestamp") {
    Value r = parse_timestamp(val.str());
    if (r.is_error()) return tl::unexpected(std::string(r.str()));
    return r;
  }
  if (ty == "duration") {
    Value r = parse_duration(val.str());
    if (r.is_error()) return tl::unexpected(std::string(r.str()));
    return r;
  }
  if (ty == "type") {
    static const std::vector<std::string_view> kNames = {
        "int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type",
        "google.protobuf.Timestamp", "google.protobuf.Duration", "optional_type"};
    for (auto n : kNames) {
      if (n == val.str()) return Value::type(n);
    }
    return tl::unexpected(fmt::format("unknown type '{}'", val.str()));
  }
  return tl::unexpected(fmt::format("unsupported typed value '{}'", ty));
}

}  // namespace

tl::expected<Value, std::string> parse_json(std::string_view text, bool copy_strings) {
  return JsonParser(text, copy_strings).run();
}

tl::expected<std::string, std::string> base64_decode(std::string_view in) {
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  size_t n = in.size();
  while (n > 0 && in[n - 1] == '=') --n;
  for (size_t i = 0; i < n; ++i) {
    const size_t p = kB64.find(in[i]);
    if (p == std::string_view::npos) return tl::unexpected(std::string("invalid base64"));
    buf = (buf << 6) | static_cast<uint32_t>(p);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xFF);
    }
  }
  return out;
}

std::string base64_encode(std::string_view in) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint32_t{static_cast<unsigned char>(in[i])} << 16) |
                       (uint32_t{static_cast<unsigned char>(in[i + 1])} << 8) | static_cast<unsigned char>(in[i + 2]);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint32_t{static_cast<unsigned char>(in[i])} << 16;
    if (i + 1 < in.size()) v |= uint32_t{static_cast<unsigned char>(in[i + 1])} << 8;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string to_typed_json(const Value& v) {
  auto typed = [](std::string_view t, const std::string& value) {
    return fmt::format("{{\"type\":\"{}\",\"value\":{}}}", t, value);
  };
  switch (v.kind()) {
    case Kind::kNull: return "{\"type\":\"null\"}";
    case Kind::kBool: return typed("bool", v.as_bool() ? "true" : "false");
    case Kind::kInt: return typed("int", fmt::format("\"{}\"", v.as_int()));
    case Kind::kUint: return typed("uint", fmt::format("\"{}\"", v.as_uint()));
    case Kind::kDouble: return typed("double", json_double(v.as_double()));
    case Kind::kString: return typed("string", json_string(v.str()));
    case Kind::kBytes: return typed("bytes", json_string(base64_encode(v.str())));
    case Kind::kType: return typed("type", json_string(v.str()));
    case Kind::kTimestamp: return typed("timestamp", json_string(format_timestamp(v)));
    case Kind::kDuration: return typed("duration", json_string(format_duration(v)));
    case Kind::kError: return typed("error", json_string(v.str()));
    case Kind::kOptional:
      return v.has_value() ? typed("optional", to_typed_json(v.optional_value())) : "{\"type\":\"optional\"}";
    case Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < v.items().size(); ++i) out += (i ? "," : "") + to_typed_json(v.items()[i]);
      return typed("list", out + "]");
    }
    case Kind::kMap: {
      std::string out = "[";
      bool first = true;
      for (const auto& [k, x] : v.entries()) {
        out += fmt::format("{}{{\"key\":{},\"value\":{}}}", first ? "" : ",", to_typed_json(k), to_typed_json(x));
        first = false;
      }
      return typed("map", out + "]");
    }
  }
  return "null";
}

tl::expected<Value, std::string> from_typed_json(std::string_view json) {
  auto v = parse_json(json, true);
  if (!v) return v;
  return from_typed(*v);
}

tl::expected<Value, std::string> from_typed_value(const Value& parsed) { return from_typed(parsed); }

tl::expected<Activation, EvalError> Activation::from_json(std::string_view json) {
  auto v = parse_json(json, false);
  if (!v) return tl::unexpected(EvalError{v.error()});
  if (v->kind() != Kind::kMap) return tl::unexpected(EvalError{"variables must be a JSON object"});
  Activation a;
  for (const auto& [k, x] : v->entries()) a.bind(k.str(), x);
  return a;
}

}  // namespace sy::cel
