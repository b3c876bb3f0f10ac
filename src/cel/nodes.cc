#include "cel/nodes.h"

#include <algorithm>
#include <array>
#include <compare>

#include <fmt/format.h>

#include <re2/re2.h>

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

// The node's value as a pointer: borrowed when it exists already, else evaluated into `tmp`.
const Value* borrow_or_eval(const Node& n, EvalContext& ctx, Value& tmp) {
  if (const Value* v = n.borrow(ctx)) {
    return v;
  }
  tmp = n.run(ctx);
  return &tmp;
}

// map[key] or list[index] without copying, for borrow(); nullptr for anything unusual (missing
// keys, optionals, bad index kinds) so that eval() produces the value or the error.
const Value* lookup(const Value& c, const Value& key) {
  if (c.kind() == Kind::kMap) {
    switch (key.kind()) {
      case Kind::kString:
        return c.find_string(key.str());
      case Kind::kInt:
      case Kind::kUint:
      case Kind::kBool:
        return c.find(key);
      default:
        return nullptr;
    }
  }
  if (c.kind() == Kind::kList && key.kind() == Kind::kInt) {
    const int64_t i = key.as_int();
    if (i >= 0 && static_cast<uint64_t>(i) < c.size()) {
      return &c.items()[static_cast<size_t>(i)];
    }
  }
  return nullptr;
}

}  // namespace

const Value* AttrNode::borrow(EvalContext& ctx) const {
  for (const auto& c : candidates_) {
    const Value* v = ctx.activation->find(c.name);
    if (v == nullptr) {
      continue;
    }
    for (const auto& f : c.fields) {
      if (v->kind() != Kind::kMap) {
        return nullptr;
      }
      v = v->find_string(f);
      if (v == nullptr) {
        return nullptr;
      }
    }
    return v;
  }
  return nullptr;
}

AttrNode::AttrNode(uint32_t off, std::vector<Candidate> c)
    : Node(off),
      candidates_(std::move(c)),
      missing_(Value::error(fmt::format("unknown variable: {}", candidates_.empty() ? "" : candidates_.back().name))) {}

VarNode::VarNode(uint32_t off, std::string name)
    : Node(off), name_(std::move(name)), missing_(Value::error(fmt::format("unknown variable: {}", name_))) {}

Value AttrNode::eval(EvalContext& ctx) const {
  for (const auto& c : candidates_) {
    const Value* v = ctx.activation->find(c.name);
    if (v == nullptr) continue;
    if (c.fields.empty()) return *v;
    Value cur = *v;
    for (const auto& f : c.fields) cur = select_field(cur, f, false);
    return cur;
  }
  return missing_;
}

const Value* VarNode::borrow(EvalContext& ctx) const {
  const size_t before = hint_.load(std::memory_order_relaxed);
  size_t hint = before;
  const Value* v = ctx.activation->find(name_, hint);
  if (hint != before) {
    hint_.store(hint, std::memory_order_relaxed);
  }
  return v;
}

Value VarNode::eval(EvalContext& ctx) const {
  const Value* v = borrow(ctx);
  if (v == nullptr) {
    return missing_;
  }
  return *v;
}

namespace {

// What comparing a and b for equality costs: the bytes compared, or the smaller value's elements.
int64_t equality_work(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) {
    return 0;
  }
  if (a.kind() == Kind::kString || a.kind() == Kind::kBytes) {
    return a.str().size() == b.str().size() ? static_cast<int64_t>(a.str().size()) : 0;
  }
  return std::min(work_of(a), work_of(b));
}

}  // namespace

Value EqConstNode::eval(EvalContext& ctx) const {
  Value tmp;
  const Value& a = *borrow_or_eval(*a_, ctx, tmp);
  if (a.is_error()) {
    return a;
  }
  if (a.kind() == Kind::kString && c_.kind() == Kind::kString) {
    const std::string_view x = a.str();
    const std::string_view y = c_.str();
    if (x.size() != y.size()) {
      return Value::boolean(negate_);
    }
    // Bounded by the constant, itself bounded by the source: counted, and checked by the next
    // call or comprehension step.
    ctx.work += static_cast<int64_t>(x.size());
    return Value::boolean(same_text(x, y) != negate_);
  }
  if (!ctx.charge(equality_work(a, c_))) {
    return Value::error(ctx.abort_message);
  }
  return Value::boolean(equal(a, c_) != negate_);
}

const Value* SelectNode::borrow(EvalContext& ctx) const {
  if (test_only_ || optional_) {
    return nullptr;
  }
  const Value* v = operand_->borrow(ctx);
  if (v == nullptr || v->kind() != Kind::kMap) {
    return nullptr;
  }
  return v->find_string(field_);
}

Value SelectNode::eval(EvalContext& ctx) const {
  Value tmp;
  const Value& v = *borrow_or_eval(*operand_, ctx, tmp);
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
  if (v.kind() == Kind::kMap) {
    const Value* f = v.find_string(field_);
    if (test_only_) {
      return Value::boolean(f != nullptr);
    }
    if (f != nullptr) {
      return *f;
    }
  }
  return select_field(v, field_, test_only_);
}

const Value* IndexNode::borrow(EvalContext& ctx) const {
  if (optional_) {
    return nullptr;
  }
  const Value* c = container_->borrow(ctx);
  if (c == nullptr) {
    return nullptr;
  }
  const Value* key = key_->borrow(ctx);
  return key == nullptr ? nullptr : lookup(*c, *key);
}

Value IndexNode::eval(EvalContext& ctx) const {
  Value c_tmp;
  const Value& c = *borrow_or_eval(*container_, ctx, c_tmp);
  if (c.is_error()) return c;
  Value key_tmp;
  const Value& key = *borrow_or_eval(*key_, ctx, key_tmp);
  if (key.is_error()) return key;
  if (!optional_) {
    if (const Value* v = lookup(c, key)) {
      return *v;
    }
  }
  if (c.kind() == Kind::kOptional) {
    if (!c.has_value()) return c;
    return optional_lookup(c.optional_value(), key);
  }
  if (optional_) return optional_lookup(c, key);
  return index_value(c, key);
}

// Every function is at most linear in its arguments (or charges more itself), so charging
// their size bounds the time of any call.
Value CallNode::call(const Value* args, size_t n, int64_t work, EvalContext& ctx) const {
  if (!ctx.charge(work)) {
    return Value::error(ctx.abort_message);
  }
  for (const Overload* o : overloads_) {
    if (o->matches(args)) return o->fn(args, ctx);
  }
  if (overloads_.empty()) return Value::error(fmt::format("unknown function: {}", name_));
  return no_overload(name_, args, n);
}

Value CallNode::eval(EvalContext& ctx) const {
  const size_t n = args_.size();
  if (n == 1) {
    // One argument: a borrowed value is already the contiguous array the function expects.
    Value tmp;
    const Value* arg = borrow_or_eval(*args_[0], ctx, tmp);
    if (arg->is_error()) {
      return *arg;
    }
    return call(arg, 1, 1 + work_of(*arg), ctx);
  }
  int64_t work = 1;
  auto fill = [&](Value* args) -> const Value* {  // the first error, or nullptr
    for (size_t i = 0; i < n; ++i) {
      if (const Value* b = args_[i]->borrow(ctx)) {
        args[i] = *b;
      } else {
        args[i] = args_[i]->run(ctx);
        if (args[i].is_error()) {
          return &args[i];
        }
      }
      work += work_of(args[i]);
    }
    return nullptr;
  };
  if (n == 2) {
    Value args[2];
    if (const Value* err = fill(args)) {
      return *err;
    }
    return call(args, 2, work, ctx);
  }
  if (n <= 4) {
    std::array<Value, 4> args;
    if (const Value* err = fill(args.data())) {
      return *err;
    }
    return call(args.data(), n, work, ctx);
  }
  std::vector<Value> args(n);
  if (const Value* err = fill(args.data())) {
    return *err;
  }
  return call(args.data(), n, work, ctx);
}

Value RelNode::eval(EvalContext& ctx) const {
  Value a_tmp;
  const Value& a = *borrow_or_eval(*a_, ctx, a_tmp);
  if (a.is_error()) {
    return a;
  }
  Value b_tmp;
  const Value& b = *borrow_or_eval(*b_, ctx, b_tmp);
  if (b.is_error()) {
    return b;
  }
  std::partial_ordering o = std::partial_ordering::unordered;
  if (a.kind() == Kind::kInt && b.kind() == Kind::kInt) {
    o = a.as_int() <=> b.as_int();
  } else {
    // Texts compare in time linear in the shorter one; other kinds cost nothing extra.
    const bool texts =
        a.kind() == b.kind() && (a.kind() == Kind::kString || a.kind() == Kind::kBytes);
    if (texts && !ctx.charge(static_cast<int64_t>(std::min(a.str().size(), b.str().size())))) {
      return Value::error(ctx.abort_message);
    }
    auto c = compare(a, b);
    if (!c) {
      static constexpr std::string_view kNames[] = {"_<_", "_<=_", "_>_", "_>=_"};
      const Value args[2] = {a, b};
      return no_overload(kNames[static_cast<int>(op_)], args, 2);
    }
    o = *c;
  }
  switch (op_) {
    case Op::kLt:
      return Value::boolean(o < 0);
    case Op::kLe:
      return Value::boolean(o <= 0);
    case Op::kGt:
      return Value::boolean(o > 0);
    case Op::kGe:
      return Value::boolean(o >= 0);
  }
  return Value::boolean(false);
}

Value InNode::eval(EvalContext& ctx) const {
  Value a_tmp;
  const Value& a = *borrow_or_eval(*a_, ctx, a_tmp);
  if (a.is_error()) {
    return a;
  }
  Value c_tmp;
  const Value& c = *borrow_or_eval(*container_, ctx, c_tmp);
  if (c.is_error()) {
    return c;
  }
  if (!ctx.charge(1 + work_of(a) + work_of(c))) {
    return Value::error(ctx.abort_message);
  }
  if (c.kind() == Kind::kList) {
    if (a.kind() == Kind::kString) {
      for (const auto& v : c.items()) {
        if (v.kind() == Kind::kString && same_text(v.str(), a.str())) {
          return Value::boolean(true);
        }
      }
      return Value::boolean(false);
    }
    for (const auto& v : c.items()) {
      if (equal(v, a)) {
        return Value::boolean(true);
      }
    }
    return Value::boolean(false);
  }
  if (c.kind() == Kind::kMap) {
    return Value::boolean(c.find(a) != nullptr);
  }
  const Value args[2] = {a, c};
  return no_overload("@in", args, 2);
}

Value LogicNode::eval(EvalContext& ctx) const {
  // Commutative: a decisive value on either side wins over an error on the other.
  Value a = a_->run(ctx);
  if (a.is_bool() && a.as_bool() == or_) return a;
  if (ctx.aborted) return a;
  Value b = b_->run(ctx);
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
  Value c = c_->run(ctx);
  if (c.is_error()) return c;
  if (!c.is_bool()) return no_overload("_?_:_", &c, 1);
  return c.as_bool() ? t_->run(ctx) : e_->run(ctx);
}

Value EqNode::eval(EvalContext& ctx) const {
  Value a_tmp;
  const Value& a = *borrow_or_eval(*a_, ctx, a_tmp);
  if (a.is_error()) return a;
  Value b_tmp;
  const Value& b = *borrow_or_eval(*b_, ctx, b_tmp);
  if (b.is_error()) return b;
  if (!ctx.charge(equality_work(a, b))) {
    return Value::error(ctx.abort_message);
  }
  return Value::boolean(equal(a, b) != negate_);
}

Value ListNode::eval(EvalContext& ctx) const {
  std::vector<Value> items;
  items.reserve(elements_.size());
  for (size_t i = 0; i < elements_.size(); ++i) {
    Value v = elements_[i]->run(ctx);
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
    Value k = e.key->run(ctx);
    if (k.is_error()) return k;
    Value v = e.value->run(ctx);
    if (v.is_error()) return v;
    if (!valid_map_key(k.kind())) return Value::error(fmt::format("unsupported key type: {}", type_name(k.kind())));
    if (e.optional) {
      if (v.kind() != Kind::kOptional) return Value::error("optional map entry is not an optional value");
      if (!v.has_value()) continue;
      v = Value(v.optional_value());
    }
    out.emplace_back(std::move(k), std::move(v));
  }
  if (out.size() > ctx.limits->max_collection_size) return ctx.abort("map exceeds the collection size limit");
  Value m = Value::map(std::move(out));
  if (const Value* dup = m.duplicate_key()) {
    return Value::error(fmt::format("Failed with repeated key: {}", debug_string(*dup)));
  }
  return check_weight(std::move(m), ctx);
}

Value MatchesNode::eval(EvalContext& ctx) const {
  Value tmp;
  const Value& s = *borrow_or_eval(*subject_, ctx, tmp);
  if (s.is_error()) return s;
  if (s.kind() != Kind::kString) return no_overload("matches", &s, 1);
  if (!ctx.charge(static_cast<int64_t>(s.str().size()) * work_per_byte_)) {
    return Value::error(ctx.abort_message);
  }
  const std::string_view text = s.str();
  return Value::boolean(re_->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(),
                                   RE2::UNANCHORED, nullptr, 0));
}

Value OptionalOrNode::eval(EvalContext& ctx) const {
  Value o = opt_->run(ctx);
  if (o.is_error()) return o;
  if (o.kind() != Kind::kOptional) return no_overload(or_value_ ? "orValue" : "or", &o, 1);
  if (o.has_value()) return or_value_ ? o.optional_value() : o;
  Value other = other_->run(ctx);
  if (!or_value_ && !other.is_error() && other.kind() != Kind::kOptional) {
    return no_overload("or", &other, 1);
  }
  return other;
}

Value BlockNode::eval(EvalContext& ctx) const {
  for (size_t i = 0; i < bindings_.size(); ++i) {
    ctx.set_slot(first_slot_ + static_cast<int>(i), bindings_[i]->run(ctx));
    if (ctx.aborted) return Value::error(ctx.abort_message);
  }
  return result_->run(ctx);
}

}  // namespace sy::cel
