// The strings extension: charAt, indexOf, lastIndexOf, lowerAscii, upperAscii, replace, split,
// substring, trim, join, reverse, strings.quote and format. Positions count code points.
#include <fmt/format.h>

#include <algorithm>

#include "cel/eval.h"
#include "cel/string_format.h"

namespace sy::cel {
namespace {

constexpr uint8_t kS = k(Kind::kString);
constexpr uint8_t kI = k(Kind::kInt);
constexpr uint8_t kL = k(Kind::kList);

// Byte offset of every code point, plus the end.
std::vector<size_t> code_points(std::string_view s) {
  std::vector<size_t> out;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) out.push_back(i);
  }
  out.push_back(s.size());
  return out;
}

Value out_of_range(int64_t i) { return Value::error(fmt::format("index out of range: {}", i)); }

Value char_at(const Value* a, EvalContext&) {
  const auto cps = code_points(a[0].str());
  const int64_t i = a[1].as_int();
  const auto n = static_cast<int64_t>(cps.size() - 1);
  if (i < 0 || i > n) return out_of_range(i);
  if (i == n) return Value::string("");
  const auto u = static_cast<size_t>(i);
  return Value::string(std::string(a[0].str().substr(cps[u], cps[u + 1] - cps[u])));
}

int64_t cp_index(const std::vector<size_t>& cps, size_t byte) {
  return static_cast<int64_t>(std::lower_bound(cps.begin(), cps.end(), byte) - cps.begin());
}

Value index_of_impl(const Value* a, int64_t start) {
  const std::string_view s = a[0].str();
  const auto cps = code_points(s);
  const auto n = static_cast<int64_t>(cps.size() - 1);
  if (start < 0 || start > n) return out_of_range(start);
  const size_t pos = s.find(a[1].str(), cps[static_cast<size_t>(start)]);
  return Value::integer(pos == std::string_view::npos ? -1 : cp_index(cps, pos));
}
Value index_of(const Value* a, EvalContext&) { return index_of_impl(a, 0); }
Value index_of_from(const Value* a, EvalContext&) { return index_of_impl(a, a[2].as_int()); }

Value last_index_of_impl(const Value* a, int64_t start) {
  const std::string_view s = a[0].str();
  const auto cps = code_points(s);
  const auto n = static_cast<int64_t>(cps.size() - 1);
  if (start < 0 || start > n) return out_of_range(start);
  const size_t pos = s.rfind(a[1].str(), cps[static_cast<size_t>(start)]);
  return Value::integer(pos == std::string_view::npos ? -1 : cp_index(cps, pos));
}
Value last_index_of(const Value* a, EvalContext&) {
  return last_index_of_impl(a, static_cast<int64_t>(code_points(a[0].str()).size() - 1));
}
Value last_index_of_from(const Value* a, EvalContext&) { return last_index_of_impl(a, a[2].as_int()); }

template <bool Upper>
Value ascii_case(const Value* a, EvalContext&) {
  std::string s(a[0].str());
  for (char& c : s) {
    if (Upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    if (!Upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return Value::string(std::move(s));
}

Value replace_impl(const Value* a, int64_t limit, EvalContext& ctx) {
  const std::string_view s = a[0].str();
  const std::string_view from = a[1].str();
  const std::string_view to = a[2].str();
  std::string out;
  size_t pos = 0;
  int64_t count = 0;
  while (limit < 0 || count < limit) {
    size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(s.substr(pos, hit - pos)).append(to);
    ++count;
    if (from.empty()) {
      // Empty pattern: insert between code points.
      if (hit >= s.size()) {
        pos = s.size() + 1;
        break;
      }
      size_t next = hit + 1;
      while (next < s.size() && (static_cast<unsigned char>(s[next]) & 0xC0) == 0x80) ++next;
      out.append(s.substr(hit, next - hit));
      pos = next;
    } else {
      pos = hit + from.size();
    }
    if (out.size() > ctx.limits->max_string_bytes) return make_string(std::move(out), ctx);
  }
  if (pos <= s.size()) out.append(s.substr(pos));
  return make_string(std::move(out), ctx);
}
Value replace_all(const Value* a, EvalContext& ctx) { return replace_impl(a, -1, ctx); }
Value replace_n(const Value* a, EvalContext& ctx) { return replace_impl(a, a[3].as_int(), ctx); }

Value split_impl(const Value* a, int64_t limit, EvalContext& ctx) {
  const std::string_view s = a[0].str();
  const std::string_view sep = a[1].str();
  std::vector<Value> parts;
  if (limit == 0) return Value::list({});
  if (sep.empty()) {
    const auto cps = code_points(s);
    for (size_t i = 0; i + 1 < cps.size(); ++i) {
      if (limit > 0 && static_cast<int64_t>(parts.size()) == limit - 1) {
        parts.push_back(Value::string(std::string(s.substr(cps[i]))));
        return make_list(std::move(parts), ctx);
      }
      parts.push_back(Value::string(std::string(s.substr(cps[i], cps[i + 1] - cps[i]))));
    }
    return make_list(std::move(parts), ctx);
  }
  size_t pos = 0;
  for (;;) {
    if (limit > 0 && static_cast<int64_t>(parts.size()) == limit - 1) break;
    const size_t hit = s.find(sep, pos);
    if (hit == std::string_view::npos) break;
    parts.push_back(Value::string(std::string(s.substr(pos, hit - pos))));
    pos = hit + sep.size();
    if (parts.size() > ctx.limits->max_collection_size) return make_list(std::move(parts), ctx);
  }
  parts.push_back(Value::string(std::string(s.substr(pos))));
  return make_list(std::move(parts), ctx);
}
Value split_all(const Value* a, EvalContext& ctx) { return split_impl(a, -1, ctx); }
Value split_n(const Value* a, EvalContext& ctx) { return split_impl(a, a[2].as_int(), ctx); }

Value substring_impl(const Value* a, int64_t start, int64_t end, bool has_end) {
  const auto cps = code_points(a[0].str());
  const auto n = static_cast<int64_t>(cps.size() - 1);
  if (!has_end) end = n;
  if (start < 0 || start > n) return out_of_range(start);
  if (end < 0 || end > n) return out_of_range(end);
  if (start > end) return Value::error(fmt::format("invalid substring range. start: {}, end: {}", start, end));
  const size_t b = cps[static_cast<size_t>(start)];
  const size_t e = cps[static_cast<size_t>(end)];
  return Value::string(std::string(a[0].str().substr(b, e - b)));
}
Value substring1(const Value* a, EvalContext&) { return substring_impl(a, a[1].as_int(), 0, false); }
Value substring2(const Value* a, EvalContext&) { return substring_impl(a, a[1].as_int(), a[2].as_int(), true); }

// Unicode White_Space code points (as Go's unicode.IsSpace).
bool is_space(uint32_t c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

uint32_t decode_at(std::string_view s, size_t b, size_t e) {
  const auto c0 = static_cast<unsigned char>(s[b]);
  if (e - b == 1) return c0;
  uint32_t cp = c0 & (e - b == 2 ? 0x1F : e - b == 3 ? 0x0F : 0x07);
  for (size_t i = b + 1; i < e; ++i) cp = (cp << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
  return cp;
}

Value trim(const Value* a, EvalContext&) {
  const std::string_view s = a[0].str();
  const auto cps = code_points(s);
  size_t first = 0;
  size_t last = cps.size() - 1;
  while (first < last && is_space(decode_at(s, cps[first], cps[first + 1]))) ++first;
  while (last > first && is_space(decode_at(s, cps[last - 1], cps[last]))) --last;
  return Value::string(std::string(s.substr(cps[first], cps[last] - cps[first])));
}

Value join_impl(const Value* a, std::string_view sep, EvalContext& ctx) {
  std::string out;
  bool first = true;
  for (const auto& v : a[0].items()) {
    if (v.kind() != Kind::kString) return Value::error("join: list must contain only strings");
    if (!first) out.append(sep);
    out.append(v.str());
    first = false;
  }
  return make_string(std::move(out), ctx);
}
Value join0(const Value* a, EvalContext& ctx) { return join_impl(a, "", ctx); }
Value join1(const Value* a, EvalContext& ctx) { return join_impl(a, a[1].str(), ctx); }

Value reverse(const Value* a, EvalContext&) {
  const std::string_view s = a[0].str();
  const auto cps = code_points(s);
  std::string out;
  for (size_t i = cps.size() - 1; i > 0; --i) out.append(s.substr(cps[i - 1], cps[i] - cps[i - 1]));
  return Value::string(std::move(out));
}

Value quote(const Value* a, EvalContext&) {
  std::string out = "\"";
  for (char c : a[0].str()) {
    switch (c) {
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      default: out += c;
    }
  }
  out += "\"";
  return Value::string(std::move(out));
}

Value format(const Value* a, EvalContext& ctx) { return format_string(a[0].str(), a[1], ctx); }

}  // namespace

void register_strings_ext(Registry& r) {
  r.add("charAt", true, {kS, kI}, char_at);
  r.add("indexOf", true, {kS, kS}, index_of);
  r.add("indexOf", true, {kS, kS, kI}, index_of_from);
  r.add("lastIndexOf", true, {kS, kS}, last_index_of);
  r.add("lastIndexOf", true, {kS, kS, kI}, last_index_of_from);
  r.add("lowerAscii", true, {kS}, ascii_case<false>);
  r.add("upperAscii", true, {kS}, ascii_case<true>);
  r.add("replace", true, {kS, kS, kS}, replace_all);
  r.add("replace", true, {kS, kS, kS, kI}, replace_n);
  r.add("split", true, {kS, kS}, split_all);
  r.add("split", true, {kS, kS, kI}, split_n);
  r.add("substring", true, {kS, kI}, substring1);
  r.add("substring", true, {kS, kI, kI}, substring2);
  r.add("trim", true, {kS}, trim);
  r.add("join", true, {kL}, join0);
  r.add("join", true, {kL, kS}, join1);
  r.add("reverse", true, {kS}, reverse);
  r.add("strings.quote", false, {kS}, quote);
  r.add("format", true, {kS, kL}, format);
}

}  // namespace sy::cel
