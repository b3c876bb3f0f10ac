// string.format(list): %s %d %f %e %x %X %o %b with optional precision, as in cel-go's strings
// extension.
#include "cel/string_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace sy::cel {
namespace {

std::string special_double(double d) {
  if (std::isnan(d)) return "NaN";
  return d > 0 ? "Infinity" : "-Infinity";
}

// Stops early (returning true) once `out` passes `limit`; the caller then reports the size.
bool as_string(const Value& v, std::string& out, size_t limit) {
  if (out.size() > limit) return true;
  switch (v.kind()) {
    case Kind::kNull: out += "null"; return true;
    case Kind::kBool: out += v.as_bool() ? "true" : "false"; return true;
    case Kind::kInt: out += fmt::format("{}", v.as_int()); return true;
    case Kind::kUint: out += fmt::format("{}", v.as_uint()); return true;
    case Kind::kDouble: {
      const double d = v.as_double();
      out += std::isfinite(d) ? format_double(d) : special_double(d);
      return true;
    }
    case Kind::kString:
    case Kind::kBytes:
    case Kind::kType: out += v.str(); return true;
    case Kind::kTimestamp: out += format_timestamp(v); return true;
    case Kind::kDuration: out += format_duration(v); return true;
    case Kind::kList: {
      out += "[";
      bool first = true;
      for (const auto& x : v.items()) {
        if (!first) out += ", ";
        if (!as_string(x, out, limit)) return false;
        first = false;
      }
      out += "]";
      return true;
    }
    case Kind::kMap: {
      std::vector<std::pair<std::string, std::string>> parts;
      for (const auto& [k, x] : v.entries()) {
        std::string ks;
        std::string xs;
        if (!as_string(k, ks, limit) || !as_string(x, xs, limit)) return false;
        if (ks.size() + xs.size() + out.size() > limit) return true;
        parts.emplace_back(std::move(ks), std::move(xs));
      }
      std::sort(parts.begin(), parts.end());
      out += "{";
      for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i].first + ": " + parts[i].second;
      out += "}";
      return true;
    }
    default: return false;
  }
}

Value clause_error(std::string_view what, const Value& v) {
  return Value::error(fmt::format("error during formatting: {}, was given {}", what, type_name(v.kind())));
}

template <class T>
std::string radix(T v, int base, bool upper) {
  if (v == 0) return "0";
  std::string out;
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  while (v != 0) {
    out += digits[v % static_cast<T>(base)];
    v /= static_cast<T>(base);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

Value integer_radix(const Value& v, int base, bool upper, std::string& out) {
  if (v.kind() == Kind::kInt) {
    const int64_t i = v.as_int();
    const uint64_t mag = i < 0 ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i);
    out += (i < 0 ? "-" : "") + radix<uint64_t>(mag, base, upper);
  } else if (v.kind() == Kind::kUint) {
    out += radix<uint64_t>(v.as_uint(), base, upper);
  } else if (v.kind() == Kind::kBool && base == 2) {
    out += v.as_bool() ? "1" : "0";
  } else {
    return Value::boolean(false);
  }
  return Value::boolean(true);
}

}  // namespace

Value format_string(std::string_view f, const Value& args, EvalContext& ctx) {
  std::string out;
  size_t next = 0;
  const auto& items = args.items();
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      out += f[i];
      continue;
    }
    if (++i >= f.size()) return Value::error("could not parse formatting clause: missing clause after %");
    if (f[i] == '%') {
      out += '%';
      continue;
    }
    int precision = -1;
    if (f[i] == '.') {
      precision = 0;
      ++i;
      while (i < f.size() && f[i] >= '0' && f[i] <= '9') {
        precision = std::min(precision * 10 + (f[i] - '0'), 1000);
        ++i;
      }
      if (i >= f.size()) return Value::error("could not parse formatting clause: missing clause after precision");
    }
    const char c = f[i];
    if (std::string_view("sdfexXob").find(c) == std::string_view::npos) {
      return Value::error(fmt::format("could not parse formatting clause: unrecognized formatting clause \"{}\"", c));
    }
    if (next >= items.size()) return Value::error(fmt::format("index {} out of range", next));
    const Value& v = items[next++];
    switch (c) {
      case 's':
        if (!as_string(v, out, ctx.limits->max_string_bytes)) return clause_error("string clause can only be used on strings", v);
        break;
      case 'd':
        if (v.kind() == Kind::kInt) {
          out += fmt::format("{}", v.as_int());
        } else if (v.kind() == Kind::kUint) {
          out += fmt::format("{}", v.as_uint());
        } else if (v.kind() == Kind::kDouble && !std::isfinite(v.as_double())) {
          out += special_double(v.as_double());
        } else {
          return clause_error("decimal clause can only be used on integers", v);
        }
        break;
      case 'f':
      case 'e': {
        if (v.kind() != Kind::kDouble) {
          return clause_error(c == 'f' ? "fixed-point clause can only be used on doubles"
                                       : "scientific clause can only be used on doubles",
                              v);
        }
        const double d = v.as_double();
        const int p = precision < 0 ? 6 : precision;
        if (!std::isfinite(d)) {
          out += special_double(d);
        } else {
          out += c == 'f' ? fmt::format("{:.{}f}", d, p) : fmt::format("{:.{}e}", d, p);
        }
        break;
      }
      case 'x':
      case 'X': {
        const bool upper = c == 'X';
        if (v.kind() == Kind::kString || v.kind() == Kind::kBytes) {
          for (unsigned char ch : v.str()) out += upper ? fmt::format("{:02X}", ch) : fmt::format("{:02x}", ch);
        } else if (!integer_radix(v, 16, upper, out).as_bool() || v.kind() == Kind::kBool) {
          return clause_error("only integers, byte buffers, and strings can be formatted as hex", v);
        }
        break;
      }
      case 'o':
        if (v.kind() == Kind::kBool || !integer_radix(v, 8, false, out).as_bool()) {
          return clause_error("octal clause can only be used on integers", v);
        }
        break;
      case 'b':
        if (!integer_radix(v, 2, false, out).as_bool()) {
          return clause_error("only integers and bools can be formatted as binary", v);
        }
        break;
      default: break;
    }
    if (out.size() > ctx.limits->max_string_bytes) return make_string(std::move(out), ctx);
  }
  return make_string(std::move(out), ctx);
}

}  // namespace sy::cel
