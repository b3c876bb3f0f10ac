#include "cel/nodes.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include <array>

namespace sy::cel {
namespace {

bool valid_map_key(Kind k) {
  return k == Kind::kString || k == Kind::kInt || k == Kind::kUint || k == Kind::kBool;
}

// Selection or indexing applied through an optional: absent stays absent, a missing key becomes
// absent, anything else is wrapped.
Value optional_lookup(const Value& inner, const Value& key) {
  if (inner.kind() == Kind::kMap) {
    const Value* v = inner.find(key);
    return v ? Value::optional_of(*v) : Value::optional_none();
  }
  if (inner.kind() == Kind::kList) {
    Value r = index_value(inner, key);
    return r.is_error() ? Value::optional_none() : Value::optional_of(std::move(r));
  }
  return index_value(inner, key);
}

}  // namespace

Value AttrNode::eval(EvalContext& ctx) const {
  for (const auto& c : candidates_) {
    const Value* v = ctx.activation->find(c.name);
    if (v == nullptr) continue;
    if (c.fields.empty()) return *v;
    Value cur = *v;
    for (const auto& f : c.fields) cur = select_field(cur, f, false);
    return cur;
  }
  return Value::error(fmt::format("unknown variable: {}", candidates_.empty() ? "" : candidates_.back().name));
}

Value SelectNode::eval(EvalContext& ctx) const {
  Value v = operand_->eval(ctx);
  if (v.is_error()) return v;
  if (v.kind() == Kind::kOptional) {
    if (!v.has_value()) return test_only_ ? Value::boolean(false) : v;
    const Value& inner = v.optional_value();
    if (test_only_) return select_field(inner, field_, true);
    if (inner.kind() == Kind::kMap) {
      const Value* f = inner.find_string(field_);
      return f ? Value::optional_of(*f) : Value::optional_none();
    }
    return select_field(inner, field_, false);
  }
  if (optional_) {
    if (v.kind() == Kind::kMap) {
      const Value* f = v.find_string(field_);
      return f ? Value::optional_of(*f) : Value::optional_none();
    }
    return select_field(v, field_, false);
  }
  return select_field(v, field_, test_only_);
}

Value IndexNode::eval(EvalContext& ctx) const {
  Value c = container_->eval(ctx);
  if (c.is_error()) return c;
  Value key = key_->eval(ctx);
  if (key.is_error()) return key;
  if (c.kind() == Kind::kOptional) {
    if (!c.has_value()) return c;
    return optional_lookup(c.optional_value(), key);
  }
  if (optional_) return optional_lookup(c, key);
  return index_value(c, key);
}

Value CallNode::eval(EvalContext& ctx) const {
  const size_t n = args_.size();
  std::array<Value, 4> inline_args;
  std::vector<Value> heap_args;
  Value* args = inline_args.data();
  if (n > inline_args.size()) {
    heap_args.resize(n);
    args = heap_args.data();
  }
  for (size_t i = 0; i < n; ++i) {
    args[i] = args_[i]->eval(ctx);
    if (args[i].is_error()) return args[i];
  }
  for (const Overload* o : overloads_) {
    if (o->matches(args)) return o->fn(args, ctx);
  }
  if (overloads_.empty()) return Value::error(fmt::format("unknown function: {}", name_));
  return no_overload(name_, args, n);
}

Value LogicNode::eval(EvalContext& ctx) const {
  // Commutative: a decisive value on either side wins over an error on the other.
  Value a = a_->eval(ctx);
  if (a.is_bool() && a.as_bool() == or_) return a;
  if (ctx.aborted) return a;
  Value b = b_->eval(ctx);
  if (b.is_bool() && b.as_bool() == or_) return b;
  if (a.is_error()) return a;
  if (b.is_error()) return b;
  if (!a.is_bool() || !b.is_bool()) {
    const Value args[2] = {a, b};
    return no_overload(or_ ? "_||_" : "_&&_", args, 2);
  }
  return b;
}

Value TernaryNode::eval(EvalContext& ctx) const {
  Value c = c_->eval(ctx);
  if (c.is_error()) return c;
  if (!c.is_bool()) return no_overload("_?_:_", &c, 1);
  return c.as_bool() ? t_->eval(ctx) : e_->eval(ctx);
}

Value EqNode::eval(EvalContext& ctx) const {
  Value a = a_->eval(ctx);
  if (a.is_error()) return a;
  Value b = b_->eval(ctx);
  if (b.is_error()) return b;
  return Value::boolean(equal(a, b) != negate_);
}

Value ListNode::eval(EvalContext& ctx) const {
  std::vector<Value> items;
  items.reserve(elements_.size());
  for (size_t i = 0; i < elements_.size(); ++i) {
    Value v = elements_[i]->eval(ctx);
    if (v.is_error()) return v;
    if (optional_[i]) {
      if (v.kind() != Kind::kOptional) return Value::error("optional list element is not an optional value");
      if (v.has_value()) items.push_back(v.optional_value());
      continue;
    }
    items.push_back(std::move(v));
  }
  return make_list(std::move(items), ctx);
}

Value MapNode::eval(EvalContext& ctx) const {
  std::vector<std::pair<Value, Value>> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) {
    Value k = e.key->eval(ctx);
    if (k.is_error()) return k;
    Value v = e.value->eval(ctx);
    if (v.is_error()) return v;
    if (!valid_map_key(k.kind())) return Value::error(fmt::format("unsupported key type: {}", type_name(k.kind())));
    if (e.optional) {
      if (v.kind() != Kind::kOptional) return Value::error("optional map entry is not an optional value");
      if (!v.has_value()) continue;
      v = Value(v.optional_value());
    }
    for (const auto& [ok, ov] : out) {
      if (equal(ok, k)) return Value::error(fmt::format("Failed with repeated key: {}", debug_string(k)));
    }
    out.emplace_back(std::move(k), std::move(v));
  }
  if (out.size() > ctx.limits->max_collection_size) return ctx.abort("map exceeds the collection size limit");
  return check_weight(Value::map(std::move(out)), ctx);
}

Value MatchesNode::eval(EvalContext& ctx) const {
  Value s = subject_->eval(ctx);
  if (s.is_error()) return s;
  if (s.kind() != Kind::kString) return no_overload("matches", &s, 1);
  return Value::boolean(RE2::PartialMatch(s.str(), *re_));
}

Value OptionalOrNode::eval(EvalContext& ctx) const {
  Value o = opt_->eval(ctx);
  if (o.is_error()) return o;
  if (o.kind() != Kind::kOptional) return no_overload(or_value_ ? "orValue" : "or", &o, 1);
  if (o.has_value()) return or_value_ ? o.optional_value() : o;
  Value other = other_->eval(ctx);
  if (!or_value_ && !other.is_error() && other.kind() != Kind::kOptional) {
    return no_overload("or", &other, 1);
  }
  return other;
}

Value BlockNode::eval(EvalContext& ctx) const {
  for (size_t i = 0; i < bindings_.size(); ++i) {
    ctx.slots[first_slot_ + static_cast<int>(i)] = bindings_[i]->eval(ctx);
    if (ctx.aborted) return Value::error(ctx.abort_message);
  }
  return result_->eval(ctx);
}

}  // namespace sy::cel
