// The math extension: greatest/least over mixed numbers, rounding, abs, sign, NaN/Inf tests,
// bit operations and sqrt.
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "cel/eval.h"

namespace sy::cel {
namespace {

constexpr uint8_t kI = k(Kind::kInt);
constexpr uint8_t kU = k(Kind::kUint);
constexpr uint8_t kD = k(Kind::kDouble);
constexpr uint8_t kL = k(Kind::kList);

bool is_number(const Value& v) {
  return v.kind() == Kind::kInt || v.kind() == Kind::kUint || v.kind() == Kind::kDouble;
}

template <bool Greatest>
Value extreme(const Value* args, size_t n, std::string_view fn) {
  if (n == 0) return Value::error(fmt::format("{}(): list is empty", fn));
  const Value* best = nullptr;
  for (size_t i = 0; i < n; ++i) {
    if (!is_number(args[i])) return no_overload(fn, &args[i], 1);
    if (best == nullptr) {
      best = &args[i];
      continue;
    }
    auto o = compare(args[i], *best);
    if (o && (Greatest ? *o > 0 : *o < 0)) best = &args[i];
  }
  return *best;
}

template <bool Greatest, size_t N>
Value extreme_args(const Value* a, EvalContext&) {
  return extreme<Greatest>(a, N, Greatest ? "math.greatest" : "math.least");
}

template <bool Greatest>
Value extreme_list(const Value* a, EvalContext&) {
  const auto& items = a[0].items();
  return extreme<Greatest>(items.data(), items.size(), Greatest ? "math.greatest" : "math.least");
}

template <double (*F)(double)>
Value unary_double(const Value* a, EvalContext&) { return Value::dbl(F(a[0].as_double())); }

double round_half_away(double d) { return std::round(d); }
double ceil_d(double d) { return std::ceil(d); }
double floor_d(double d) { return std::floor(d); }
double trunc_d(double d) { return std::trunc(d); }
double sqrt_d(double d) { return std::sqrt(d); }

Value sqrt_num(const Value* a, EvalContext&) {
  const Value& v = a[0];
  const double d = v.kind() == Kind::kInt    ? static_cast<double>(v.as_int())
                   : v.kind() == Kind::kUint ? static_cast<double>(v.as_uint())
                                             : v.as_double();
  return Value::dbl(std::sqrt(d));
}

Value abs_fn(const Value* a, EvalContext&) {
  const Value& v = a[0];
  if (v.kind() == Kind::kInt) {
    if (v.as_int() == std::numeric_limits<int64_t>::min()) return Value::error("integer overflow");
    return Value::integer(v.as_int() < 0 ? -v.as_int() : v.as_int());
  }
  if (v.kind() == Kind::kUint) return v;
  return Value::dbl(std::fabs(v.as_double()));
}

Value sign_fn(const Value* a, EvalContext&) {
  const Value& v = a[0];
  if (v.kind() == Kind::kInt) return Value::integer((v.as_int() > 0) - (v.as_int() < 0));
  if (v.kind() == Kind::kUint) return Value::uinteger(v.as_uint() > 0 ? 1 : 0);
  const double d = v.as_double();
  if (std::isnan(d)) return v;
  return Value::dbl(d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0);
}

Value is_nan(const Value* a, EvalContext&) { return Value::boolean(std::isnan(a[0].as_double())); }
Value is_inf(const Value* a, EvalContext&) { return Value::boolean(std::isinf(a[0].as_double())); }
Value is_finite(const Value* a, EvalContext&) { return Value::boolean(std::isfinite(a[0].as_double())); }

enum class BitOp { kAnd, kOr, kXor };

template <BitOp Op>
Value bit_binary(const Value* a, EvalContext&) {
  if (a[0].kind() == Kind::kInt) {
    const int64_t x = a[0].as_int();
    const int64_t y = a[1].as_int();
    return Value::integer(Op == BitOp::kAnd ? (x & y) : Op == BitOp::kOr ? (x | y) : (x ^ y));
  }
  const uint64_t x = a[0].as_uint();
  const uint64_t y = a[1].as_uint();
  return Value::uinteger(Op == BitOp::kAnd ? (x & y) : Op == BitOp::kOr ? (x | y) : (x ^ y));
}

Value bit_not(const Value* a, EvalContext&) {
  if (a[0].kind() == Kind::kInt) return Value::integer(~a[0].as_int());
  return Value::uinteger(~a[0].as_uint());
}

template <bool Left>
Value bit_shift(const Value* a, EvalContext&) {
  const int64_t n = a[1].as_int();
  if (n < 0) return Value::error(fmt::format("math.bitShift{}() negative offset: {}", Left ? "Left" : "Right", n));
  // Shifts are logical on the 64-bit pattern, for int as well as uint.
  const uint64_t bits = a[0].kind() == Kind::kInt ? static_cast<uint64_t>(a[0].as_int()) : a[0].as_uint();
  const uint64_t r = n >= 64 ? 0 : (Left ? bits << n : bits >> n);
  if (a[0].kind() == Kind::kInt) return Value::integer(static_cast<int64_t>(r));
  return Value::uinteger(r);
}

}  // namespace

void register_math_ext(Registry& r) {
  r.add("math.greatest", false, {kL}, extreme_list<true>);
  r.add("math.least", false, {kL}, extreme_list<false>);
  r.add("math.greatest", false, {kI}, extreme_args<true, 1>);
  r.add("math.greatest", false, {kU}, extreme_args<true, 1>);
  r.add("math.greatest", false, {kD}, extreme_args<true, 1>);
  r.add("math.least", false, {kI}, extreme_args<false, 1>);
  r.add("math.least", false, {kU}, extreme_args<false, 1>);
  r.add("math.least", false, {kD}, extreme_args<false, 1>);
#define SY_VARIADIC(n, ...)                                              \
  r.add("math.greatest", false, {__VA_ARGS__}, extreme_args<true, n>); \
  r.add("math.least", false, {__VA_ARGS__}, extreme_args<false, n>);
  constexpr uint8_t kA = kAnyKind;
  SY_VARIADIC(2, kA, kA)
  SY_VARIADIC(3, kA, kA, kA)
  SY_VARIADIC(4, kA, kA, kA, kA)
  SY_VARIADIC(5, kA, kA, kA, kA, kA)
  SY_VARIADIC(6, kA, kA, kA, kA, kA, kA)
  SY_VARIADIC(7, kA, kA, kA, kA, kA, kA, kA)
  SY_VARIADIC(8, kA, kA, kA, kA, kA, kA, kA, kA)
#undef SY_VARIADIC
  r.add("math.ceil", false, {kD}, unary_double<ceil_d>);
  r.add("math.floor", false, {kD}, unary_double<floor_d>);
  r.add("math.round", false, {kD}, unary_double<round_half_away>);
  r.add("math.trunc", false, {kD}, unary_double<trunc_d>);
  r.add("math.sqrt", false, {kD}, unary_double<sqrt_d>);
  r.add("math.sqrt", false, {kI}, sqrt_num);
  r.add("math.sqrt", false, {kU}, sqrt_num);
  for (uint8_t t : {kI, kU, kD}) {
    r.add("math.abs", false, {t}, abs_fn);
    r.add("math.sign", false, {t}, sign_fn);
  }
  r.add("math.isNaN", false, {kD}, is_nan);
  r.add("math.isInf", false, {kD}, is_inf);
  r.add("math.isFinite", false, {kD}, is_finite);
  for (uint8_t t : {kI, kU}) {
    r.add("math.bitAnd", false, {t, t}, bit_binary<BitOp::kAnd>);
    r.add("math.bitOr", false, {t, t}, bit_binary<BitOp::kOr>);
    r.add("math.bitXor", false, {t, t}, bit_binary<BitOp::kXor>);
    r.add("math.bitNot", false, {t}, bit_not);
    r.add("math.bitShiftLeft", false, {t, kI}, bit_shift<true>);
    r.add("math.bitShiftRight", false, {t, kI}, bit_shift<false>);
  }
}

}  // namespace sy::cel
