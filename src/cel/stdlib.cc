// Standard operators and functions: arithmetic with overflow checks, ordering, membership,
// indexing, size and the string predicates.
#include <fmt/format.h>
#include <re2/re2.h>

#include <cmath>
#include <limits>

#include "cel/eval.h"

namespace sy::cel {
namespace {

constexpr uint8_t kI = k(Kind::kInt);
constexpr uint8_t kU = k(Kind::kUint);
constexpr uint8_t kD = k(Kind::kDouble);
constexpr uint8_t kS = k(Kind::kString);
constexpr uint8_t kB = k(Kind::kBytes);
constexpr uint8_t kL = k(Kind::kList);
constexpr uint8_t kM = k(Kind::kMap);
constexpr uint8_t kT = k(Kind::kTimestamp);
constexpr uint8_t kDur = k(Kind::kDuration);
constexpr uint8_t kBool = k(Kind::kBool);

Value overflow() { return Value::error("integer overflow"); }

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

Value sub_values(const Value* a, EvalContext&) {
  const Value& x = a[0];
  const Value& y = a[1];
  switch (x.kind()) {
    case Kind::kInt: {
      int64_t r;
      if (__builtin_sub_overflow(x.as_int(), y.as_int(), &r)) return overflow();
      return Value::integer(r);
    }
    case Kind::kUint:
      if (y.as_uint() > x.as_uint()) return overflow();
      return Value::uinteger(x.as_uint() - y.as_uint());
    case Kind::kDouble: return Value::dbl(x.as_double() - y.as_double());
    case Kind::kTimestamp:
      if (y.kind() == Kind::kTimestamp) return make_duration(total_nanos(x) - total_nanos(y));
      return make_timestamp(total_nanos(x) - total_nanos(y));
    default: return make_duration(total_nanos(x) - total_nanos(y));
  }
}

Value mul_values(const Value* a, EvalContext&) {
  const Value& x = a[0];
  const Value& y = a[1];
  if (x.kind() == Kind::kInt) {
    int64_t r;
    if (!checked_mul(x.as_int(), y.as_int(), r)) return overflow();
    return Value::integer(r);
  }
  if (x.kind() == Kind::kUint) {
    uint64_t r;
    if (__builtin_mul_overflow(x.as_uint(), y.as_uint(), &r)) return overflow();
    return Value::uinteger(r);
  }
  return Value::dbl(x.as_double() * y.as_double());
}

Value div_values(const Value* a, EvalContext&) {
  const Value& x = a[0];
  const Value& y = a[1];
  if (x.kind() == Kind::kInt) {
    if (y.as_int() == 0) return Value::error("division by zero");
    if (x.as_int() == std::numeric_limits<int64_t>::min() && y.as_int() == -1) return overflow();
    return Value::integer(x.as_int() / y.as_int());
  }
  if (x.kind() == Kind::kUint) {
    if (y.as_uint() == 0) return Value::error("division by zero");
    return Value::uinteger(x.as_uint() / y.as_uint());
  }
  return Value::dbl(x.as_double() / y.as_double());
}

Value mod_values(const Value* a, EvalContext&) {
  const Value& x = a[0];
  const Value& y = a[1];
  if (x.kind() == Kind::kInt) {
    if (y.as_int() == 0) return Value::error("modulus by zero");
    if (x.as_int() == std::numeric_limits<int64_t>::min() && y.as_int() == -1) return overflow();
    return Value::integer(x.as_int() % y.as_int());
  }
  if (y.as_uint() == 0) return Value::error("modulus by zero");
  return Value::uinteger(x.as_uint() % y.as_uint());
}

Value negate(const Value* a, EvalContext&) {
  if (a[0].kind() == Kind::kInt) {
    if (a[0].as_int() == std::numeric_limits<int64_t>::min()) return overflow();
    return Value::integer(-a[0].as_int());
  }
  return Value::dbl(-a[0].as_double());
}

Value logical_not(const Value* a, EvalContext&) { return Value::boolean(!a[0].as_bool()); }

Value add_fn(const Value* a, EvalContext& ctx) { return add_values(a[0], a[1], ctx); }

template <bool (*Pred)(std::partial_ordering)>
Value ordering(const Value* a, EvalContext&) {
  auto o = compare(a[0], a[1]);
  if (!o) return no_overload("_<_", a, 2);
  return Value::boolean(Pred(*o));
}
bool is_lt(std::partial_ordering o) { return o < 0; }
bool is_le(std::partial_ordering o) { return o <= 0; }
bool is_gt(std::partial_ordering o) { return o > 0; }
bool is_ge(std::partial_ordering o) { return o >= 0; }

Value eq_fn(const Value* a, EvalContext&) { return Value::boolean(equal(a[0], a[1])); }
Value ne_fn(const Value* a, EvalContext&) { return Value::boolean(!equal(a[0], a[1])); }

Value in_fn(const Value* a, EvalContext&) {
  if (a[1].kind() == Kind::kList) {
    for (const auto& v : a[1].items()) {
      if (equal(v, a[0])) return Value::boolean(true);
    }
    return Value::boolean(false);
  }
  return Value::boolean(a[1].find(a[0]) != nullptr);
}

Value index_fn(const Value* a, EvalContext&) { return index_value(a[0], a[1]); }

Value size_fn(const Value* a, EvalContext&) {
  switch (a[0].kind()) {
    case Kind::kString: return Value::integer(static_cast<int64_t>(utf8_length(a[0].str())));
    case Kind::kBytes: return Value::integer(static_cast<int64_t>(a[0].str().size()));
    default: return Value::integer(static_cast<int64_t>(a[0].size()));
  }
}

Value contains_fn(const Value* a, EvalContext&) {
  return Value::boolean(a[0].str().find(a[1].str()) != std::string_view::npos);
}
Value starts_fn(const Value* a, EvalContext&) {
  const std::string_view s = a[0].str();
  const std::string_view p = a[1].str();
  return Value::boolean(s.size() >= p.size() && same_text(s.substr(0, p.size()), p));
}
Value ends_fn(const Value* a, EvalContext&) {
  const std::string_view s = a[0].str();
  const std::string_view p = a[1].str();
  return Value::boolean(s.size() >= p.size() && same_text(s.substr(s.size() - p.size()), p));
}

Value matches_fn(const Value* a, EvalContext& ctx) {
  // Compiling is dearer per byte than scanning; a pattern that is not a literal is compiled on
  // every call.
  if (!ctx.charge(static_cast<int64_t>(a[1].str().size()) * kRegexCompileWork)) {
    return Value::error(ctx.abort_message);
  }
  RE2::Options opts;
  opts.set_log_errors(false);
  RE2 re(a[1].str(), opts);
  if (!re.ok()) return Value::error(fmt::format("invalid regular expression: {}", re.error()));
  if (!ctx.charge(static_cast<int64_t>(a[0].str().size()) * regex_work_per_byte(re))) {
    return Value::error(ctx.abort_message);
  }
  return Value::boolean(RE2::PartialMatch(a[0].str(), re));
}

}  // namespace

bool checked_add(int64_t a, int64_t b, int64_t& out) { return !__builtin_add_overflow(a, b, &out); }
bool checked_mul(int64_t a, int64_t b, int64_t& out) { return !__builtin_mul_overflow(a, b, &out); }

Value no_overload(std::string_view fn, const Value* args, size_t n) {
  std::string kinds;
  for (size_t i = 0; i < n; ++i) {
    if (i) kinds += ", ";
    kinds += type_name(args[i].kind());
  }
  return Value::error(fmt::format("no such overload: {}({})", fn, kinds));
}

int64_t regex_work_per_byte(const re2::RE2& re) {
  return 1 + re.ProgramSize() / 64;
}

bool EvalContext::over_budget() {
  abort(fmt::format("evaluation exceeds the work limit of {} units (bytes and elements handled)",
                    limits->max_work));
  return false;
}

Value make_string(std::string s, EvalContext& ctx) {
  if (s.size() > ctx.limits->max_string_bytes) {
    return ctx.abort(fmt::format("string of {} bytes exceeds the limit of {}", s.size(), ctx.limits->max_string_bytes));
  }
  if (!ctx.charge(static_cast<int64_t>(s.size()))) {
    return Value::error(ctx.abort_message);
  }
  return Value::string(std::move(s));
}

Value make_list(std::vector<Value> items, EvalContext& ctx) {
  if (items.size() > ctx.limits->max_collection_size) {
    return ctx.abort(fmt::format("list of {} elements exceeds the limit of {}", items.size(),
                                 ctx.limits->max_collection_size));
  }
  if (!ctx.charge(static_cast<int64_t>(items.size()) * kElementWork)) {
    return Value::error(ctx.abort_message);
  }
  return check_weight(Value::list(std::move(items)), ctx);
}

Value check_weight(Value v, EvalContext& ctx) {
  if (v.weight() > ctx.limits->max_collection_size) {
    return ctx.abort(fmt::format("value with {} nested elements exceeds the limit of {}", v.weight(),
                                 ctx.limits->max_collection_size));
  }
  return v;
}

Value add_values(const Value& x, const Value& y, EvalContext& ctx) {
  switch (x.kind()) {
    case Kind::kInt: {
      int64_t r;
      if (!checked_add(x.as_int(), y.as_int(), r)) return overflow();
      return Value::integer(r);
    }
    case Kind::kUint: {
      uint64_t r;
      if (__builtin_add_overflow(x.as_uint(), y.as_uint(), &r)) return overflow();
      return Value::uinteger(r);
    }
    case Kind::kDouble: return Value::dbl(x.as_double() + y.as_double());
    case Kind::kString:
    case Kind::kBytes: {
      if (x.str().size() + y.str().size() > ctx.limits->max_string_bytes) {
        return ctx.abort(fmt::format("string exceeds the limit of {} bytes", ctx.limits->max_string_bytes));
      }
      if (!ctx.charge(static_cast<int64_t>(x.str().size() + y.str().size()))) {
        return Value::error(ctx.abort_message);
      }
      std::string s;
      s.reserve(x.str().size() + y.str().size());
      s.append(x.str()).append(y.str());
      return x.kind() == Kind::kString ? Value::string(std::move(s)) : Value::bytes(std::move(s));
    }
    case Kind::kList: {
      if (x.size() == 0) return y;
      if (y.size() == 0) return x;
      std::vector<Value> items;
      items.reserve(x.size() + y.size());
      items.insert(items.end(), x.items().begin(), x.items().end());
      items.insert(items.end(), y.items().begin(), y.items().end());
      return make_list(std::move(items), ctx);
    }
    case Kind::kTimestamp: return make_timestamp(total_nanos(x) + total_nanos(y));
    case Kind::kDuration:
      if (y.kind() == Kind::kTimestamp) return make_timestamp(total_nanos(x) + total_nanos(y));
      return make_duration(total_nanos(x) + total_nanos(y));
    default: return Value::error("no such overload: _+_");
  }
}

Value index_value(const Value& c, const Value& key) {
  if (c.is_error()) return c;
  if (key.is_error()) return key;
  if (c.kind() == Kind::kList) {
    int64_t i = 0;
    if (key.kind() == Kind::kInt) {
      i = key.as_int();
    } else if (key.kind() == Kind::kUint) {
      if (key.as_uint() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Value::error("index out of range");
      }
      i = static_cast<int64_t>(key.as_uint());
    } else if (key.kind() == Kind::kDouble) {
      const double d = key.as_double();
      if (d != std::trunc(d) || !(d > -9.3e18 && d < 9.3e18)) return Value::error("invalid list index");
      i = static_cast<int64_t>(d);
    } else {
      return Value::error(fmt::format("no such overload: list[{}]", type_name(key.kind())));
    }
    if (i < 0 || static_cast<uint64_t>(i) >= c.size()) {
      return Value::error(fmt::format("index out of range: {}", i));
    }
    return c.items()[static_cast<size_t>(i)];
  }
  if (c.kind() == Kind::kMap) {
    switch (key.kind()) {
      case Kind::kString:
      case Kind::kInt:
      case Kind::kUint:
      case Kind::kBool:
      case Kind::kDouble: break;
      default: return Value::error(fmt::format("unsupported key type: {}", type_name(key.kind())));
    }
    const Value* v = c.find(key);
    if (v == nullptr) return Value::error(fmt::format("no such key: {}", debug_string(key)));
    return *v;
  }
  return Value::error(fmt::format("no such overload: {}[{}]", type_name(c.kind()), type_name(key.kind())));
}

Value select_field(const Value& operand, std::string_view field, bool test_only) {
  if (operand.is_error()) return operand;
  if (operand.kind() == Kind::kMap) {
    const Value* v = operand.find_string(field);
    if (test_only) return Value::boolean(v != nullptr);
    if (v == nullptr) return Value::error(fmt::format("no such key: {}", field));
    return *v;
  }
  return Value::error(fmt::format("type '{}' does not support field selection", type_name(operand.kind())));
}

void register_stdlib(Registry& r) {
  for (uint8_t t : {kI, kU, kD, kS, kB, kL}) r.add("_+_", false, {t, t}, add_fn);
  r.add("_+_", false, {kT, kDur}, add_fn);
  r.add("_+_", false, {kDur, kT}, add_fn);
  r.add("_+_", false, {kDur, kDur}, add_fn);
  for (uint8_t t : {kI, kU, kD}) {
    r.add("_-_", false, {t, t}, sub_values);
    r.add("_*_", false, {t, t}, mul_values);
    r.add("_/_", false, {t, t}, div_values);
  }
  r.add("_-_", false, {kT, kT}, sub_values);
  r.add("_-_", false, {kT, kDur}, sub_values);
  r.add("_-_", false, {kDur, kDur}, sub_values);
  r.add("_%_", false, {kI, kI}, mod_values);
  r.add("_%_", false, {kU, kU}, mod_values);
  r.add("-_", false, {kI}, negate);
  r.add("-_", false, {kD}, negate);
  r.add("!_", false, {kBool}, logical_not);
  r.add("_<_", false, {kAnyKind, kAnyKind}, ordering<is_lt>);
  r.add("_<=_", false, {kAnyKind, kAnyKind}, ordering<is_le>);
  r.add("_>_", false, {kAnyKind, kAnyKind}, ordering<is_gt>);
  r.add("_>=_", false, {kAnyKind, kAnyKind}, ordering<is_ge>);
  r.add("_==_", false, {kAnyKind, kAnyKind}, eq_fn);
  r.add("_!=_", false, {kAnyKind, kAnyKind}, ne_fn);
  r.add("@in", false, {kAnyKind, kL}, in_fn);
  r.add("@in", false, {kAnyKind, kM}, in_fn);
  r.add("_[_]", false, {kAnyKind, kAnyKind}, index_fn);
  for (uint8_t t : {kS, kB, kL, kM}) {
    r.add("size", false, {t}, size_fn);
    r.add("size", true, {t}, size_fn);
  }
  r.add("contains", true, {kS, kS}, contains_fn);
  r.add("startsWith", true, {kS, kS}, starts_fn);
  r.add("endsWith", true, {kS, kS}, ends_fn);
  r.add("matches", true, {kS, kS}, matches_fn);
  r.add("matches", false, {kS, kS}, matches_fn);
}

void Registry::add(std::string_view name, bool receiver, std::initializer_list<uint8_t> kinds, Fn fn) {
  Overload o;
  o.name = name;
  o.receiver = receiver;
  o.arity = static_cast<uint8_t>(kinds.size());
  size_t i = 0;
  for (uint8_t kk : kinds) o.kinds[i++] = kk;
  o.fn = fn;
  for (auto& [n, list] : by_name_) {
    if (n == name) {
      list.push_back(o);
      return;
    }
  }
  by_name_.emplace_back(name, std::vector<Overload>{o});
}

const std::vector<Overload>* Registry::find(std::string_view name) const {
  for (const auto& [n, list] : by_name_) {
    if (n == name) return &list;
  }
  return nullptr;
}

const Registry& registry() {
  static const Registry r = [] {
    Registry reg;
    register_stdlib(reg);
    register_conversions(reg);
    register_time(reg);
    register_strings_ext(reg);
    register_math_ext(reg);
    register_misc_ext(reg);
    return reg;
  }();
  return r;
}

}  // namespace sy::cel
