// Type conversions: int, uint, double, string, bytes, bool, type, dyn.
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "cel/eval.h"

namespace sy::cel {
namespace {

constexpr uint8_t kI = k(Kind::kInt);
constexpr uint8_t kU = k(Kind::kUint);
constexpr uint8_t kD = k(Kind::kDouble);
constexpr uint8_t kS = k(Kind::kString);
constexpr uint8_t kB = k(Kind::kBytes);

Value range_error() { return Value::error("range error"); }

bool parse_int(std::string_view s, int64_t& out) {
  if (s.empty()) return false;
  if (s[0] == '+') s.remove_prefix(1);
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_uint(std::string_view s, uint64_t& out) {
  if (s.empty() || s[0] == '-') return false;
  if (s[0] == '+') s.remove_prefix(1);
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

Value to_int(const Value* a, EvalContext&) {
  const Value& v = a[0];
  switch (v.kind()) {
    case Kind::kInt: return v;
    case Kind::kUint:
      if (v.as_uint() > static_cast<uint64_t>(INT64_MAX)) return range_error();
      return Value::integer(static_cast<int64_t>(v.as_uint()));
    case Kind::kDouble: {
      const double d = v.as_double();
      if (!(d > -9223372036854775808.0 && d < 9223372036854775808.0)) return range_error();
      return Value::integer(static_cast<int64_t>(d));
    }
    case Kind::kString: {
      int64_t i;
      if (!parse_int(v.str(), i)) return Value::error(fmt::format("cannot convert '{}' to int", v.str()));
      return Value::integer(i);
    }
    case Kind::kTimestamp: return Value::integer(v.seconds());
    case Kind::kDuration: return Value::integer(static_cast<int64_t>(total_nanos(v)));
    default: return no_overload("int", a, 1);
  }
}

Value to_uint(const Value* a, EvalContext&) {
  const Value& v = a[0];
  switch (v.kind()) {
    case Kind::kUint: return v;
    case Kind::kInt:
      if (v.as_int() < 0) return range_error();
      return Value::uinteger(static_cast<uint64_t>(v.as_int()));
    case Kind::kDouble: {
      const double d = v.as_double();
      if (!(d > -1.0 && d < 18446744073709551616.0)) return range_error();
      return Value::uinteger(static_cast<uint64_t>(d));
    }
    case Kind::kString: {
      uint64_t u;
      if (!parse_uint(v.str(), u)) return Value::error(fmt::format("cannot convert '{}' to uint", v.str()));
      return Value::uinteger(u);
    }
    default: return no_overload("uint", a, 1);
  }
}

bool parse_double(std::string_view s, double& out) {
  std::string t(s);
  if (t.empty()) return false;
  std::string lower;
  for (char c : t) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view body = lower;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == "inf" || body == "infinity") {
    out = neg ? -INFINITY : INFINITY;
    return true;
  }
  if (body == "nan") {
    out = NAN;
    return true;
  }
  if (lower.find_first_not_of("0123456789+-.e") != std::string::npos) return false;
  char* end = nullptr;
  out = std::strtod(t.c_str(), &end);
  return end == t.c_str() + t.size();
}

Value to_double(const Value* a, EvalContext&) {
  const Value& v = a[0];
  switch (v.kind()) {
    case Kind::kDouble: return v;
    case Kind::kInt: return Value::dbl(static_cast<double>(v.as_int()));
    case Kind::kUint: return Value::dbl(static_cast<double>(v.as_uint()));
    case Kind::kString: {
      double d;
      if (!parse_double(v.str(), d)) return Value::error(fmt::format("cannot convert '{}' to double", v.str()));
      return Value::dbl(d);
    }
    default: return no_overload("double", a, 1);
  }
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (int j = 1; j <= n; ++j) {
      if (i + static_cast<size_t>(j) >= s.size()) return false;
      const auto cc = static_cast<unsigned char>(s[i + static_cast<size_t>(j)]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp < 0xE000)) {
      return false;
    }
    i += static_cast<size_t>(n) + 1;
  }
  return true;
}

Value to_string(const Value* a, EvalContext& ctx) {
  const Value& v = a[0];
  switch (v.kind()) {
    case Kind::kString: return v;
    case Kind::kInt: return Value::string(fmt::format("{}", v.as_int()));
    case Kind::kUint: return Value::string(fmt::format("{}", v.as_uint()));
    case Kind::kDouble: return Value::string(format_double(v.as_double()));
    case Kind::kBool: return Value::string(v.as_bool() ? "true" : "false");
    case Kind::kBytes:
      if (!valid_utf8(v.str())) return Value::error("invalid UTF-8 in bytes");
      return make_string(std::string(v.str()), ctx);
    case Kind::kTimestamp: return Value::string(format_timestamp(v));
    case Kind::kDuration: return Value::string(format_duration(v));
    case Kind::kType: return Value::string(std::string(v.str()));
    default: return no_overload("string", a, 1);
  }
}

Value to_bytes(const Value* a, EvalContext&) {
  if (a[0].kind() == Kind::kBytes) return a[0];
  return Value::bytes(std::string(a[0].str()));
}

Value to_bool(const Value* a, EvalContext&) {
  if (a[0].kind() == Kind::kBool) return a[0];
  const std::string_view s = a[0].str();
  if (s == "true" || s == "TRUE" || s == "True" || s == "t" || s == "T" || s == "1") return Value::boolean(true);
  if (s == "false" || s == "FALSE" || s == "False" || s == "f" || s == "F" || s == "0") return Value::boolean(false);
  return Value::error(fmt::format("Type conversion error: cannot convert '{}' to bool", s));
}

Value type_of(const Value* a, EvalContext&) { return Value::type(type_name(a[0].kind())); }
Value dyn(const Value* a, EvalContext&) { return a[0]; }

}  // namespace

std::string format_double(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  // Go's strconv.FormatFloat(d, 'g', -1, 64): shortest digits, %e when exp < -4 || exp >= 6.
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, r.ptr);
  const size_t e = sci.find('e');
  std::string mant = sci.substr(0, e);
  const int exp = std::atoi(sci.c_str() + e + 1);
  bool neg = false;
  if (mant[0] == '-') {
    neg = true;
    mant.erase(0, 1);
  }
  std::string digs;
  for (char c : mant) {
    if (c != '.') digs += c;
  }
  std::string out = neg ? "-" : "";
  if (exp < -4 || exp >= 6) {
    out += digs.substr(0, 1);
    if (digs.size() > 1) out += "." + digs.substr(1);
    out += fmt::format("e{}{:02}", exp < 0 ? '-' : '+', std::abs(exp));
    return out;
  }
  if (exp < 0) {
    out += "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digs;
    return out;
  }
  const auto int_len = static_cast<size_t>(exp + 1);
  if (digs.size() <= int_len) {
    out += digs + std::string(int_len - digs.size(), '0');
  } else {
    out += digs.substr(0, int_len) + "." + digs.substr(int_len);
  }
  return out;
}

void register_conversions(Registry& r) {
  for (uint8_t t : {kI, kU, kD, kS, k(Kind::kTimestamp), k(Kind::kDuration)}) r.add("int", false, {t}, to_int);
  for (uint8_t t : {kI, kU, kD, kS}) r.add("uint", false, {t}, to_uint);
  for (uint8_t t : {kI, kU, kD, kS}) r.add("double", false, {t}, to_double);
  for (uint8_t t : {kI, kU, kD, kS, kB, k(Kind::kBool), k(Kind::kTimestamp), k(Kind::kDuration)}) {
    r.add("string", false, {t}, to_string);
  }
  r.add("bytes", false, {kS}, to_bytes);
  r.add("bytes", false, {kB}, to_bytes);
  r.add("bool", false, {k(Kind::kBool)}, to_bool);
  r.add("bool", false, {kS}, to_bool);
  r.add("type", false, {kAnyKind}, type_of);
  r.add("dyn", false, {kAnyKind}, dyn);
}

}  // namespace sy::cel
