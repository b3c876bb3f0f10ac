// Optionals (optional.of / none / ofNonZeroValue, hasValue, value) and the base64 encoders.
// or/orValue/optMap/optFlatMap are lazy and live in the planner and nodes.
#include "cel/eval.h"
#include "cel/json_value.h"

namespace sy::cel {
namespace {

bool is_zero(const Value& v) {
  switch (v.kind()) {
    case Kind::kNull: return true;
    case Kind::kBool: return !v.as_bool();
    case Kind::kInt: return v.as_int() == 0;
    case Kind::kUint: return v.as_uint() == 0;
    case Kind::kDouble: return v.as_double() == 0;
    case Kind::kString:
    case Kind::kBytes: return v.str().empty();
    case Kind::kList:
    case Kind::kMap: return v.size() == 0;
    case Kind::kTimestamp:
    case Kind::kDuration: return v.seconds() == 0 && v.nanos() == 0;
    case Kind::kOptional: return !v.has_value();
    default: return false;
  }
}

Value opt_of(const Value* a, EvalContext&) { return Value::optional_of(a[0]); }
Value opt_none(const Value*, EvalContext&) { return Value::optional_none(); }
Value opt_non_zero(const Value* a, EvalContext&) {
  return is_zero(a[0]) ? Value::optional_none() : Value::optional_of(a[0]);
}
Value opt_has_value(const Value* a, EvalContext&) { return Value::boolean(a[0].has_value()); }
Value opt_value(const Value* a, EvalContext&) {
  if (!a[0].has_value()) return Value::error("optional.none() dereference");
  return a[0].optional_value();
}

Value b64_encode(const Value* a, EvalContext& ctx) { return make_string(base64_encode(a[0].str()), ctx); }
Value b64_decode(const Value* a, EvalContext&) {
  auto r = base64_decode(a[0].str());
  if (!r) return Value::error(r.error());
  return Value::bytes(std::move(*r));
}

}  // namespace

void register_misc_ext(Registry& r) {
  constexpr uint8_t kOpt = k(Kind::kOptional);
  r.add("optional.of", false, {kAnyKind}, opt_of);
  r.add("optional.none", false, {}, opt_none);
  r.add("optional.ofNonZeroValue", false, {kAnyKind}, opt_non_zero);
  r.add("hasValue", true, {kOpt}, opt_has_value);
  r.add("value", true, {kOpt}, opt_value);
  r.add("base64.encode", false, {k(Kind::kBytes)}, b64_encode);
  r.add("base64.decode", false, {k(Kind::kString)}, b64_decode);
}

}  // namespace sy::cel
