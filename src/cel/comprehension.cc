// Comprehension macros (all, exists, exists_one, map, filter, the two-variable forms,
// cel.bind, optMap/optFlatMap) evaluated directly instead of through a generic accumulator,
// with the same error-absorption rules as their textbook expansions.
#include <fmt/format.h>

#include "cel/nodes.h"

namespace sy::cel {
namespace {

// Folds one predicate result into an all()/exists() accumulator with && / || semantics.
Value fold(const Value& accu, const Value& p, bool is_or) {
  if (p.is_bool() && p.as_bool() == is_or) return p;
  if (accu.is_error()) return accu;
  if (p.is_error()) return p;
  if (!p.is_bool()) return no_overload(is_or ? "_||_" : "_&&_", &p, 1);
  return accu;
}

}  // namespace

Value ComprehensionNode::eval(EvalContext& ctx) const {
  if (macro_ == Macro::kBind) {
    Value init = range_->run(ctx);
    if (init.is_error()) {
      return init;
    }
    ctx.set_slot(slot1_, std::move(init));
    return a_->run(ctx);
  }
  // The range is borrowed when it already exists (an activation variable, a constant, an outer
  // loop's element): it then outlives the loop, and steps point into it instead of copying.
  Value owned;
  const Value* borrowed = range_->borrow(ctx);
  if (borrowed == nullptr) {
    owned = range_->run(ctx);
    if (owned.is_error()) {
      return owned;
    }
    borrowed = &owned;
  }
  const Value& range = *borrowed;
  if (macro_ == Macro::kOptMap || macro_ == Macro::kOptFlatMap) {
    if (range.kind() != Kind::kOptional) return no_overload(macro_ == Macro::kOptMap ? "optMap" : "optFlatMap", &range, 1);
    if (!range.has_value()) return range;
    ctx.ref_slot(slot1_, range.optional_value());
    Value r = a_->run(ctx);
    if (r.is_error() || macro_ == Macro::kOptFlatMap) {
      if (!r.is_error() && r.kind() != Kind::kOptional) return no_overload("optFlatMap", &r, 1);
      return r;
    }
    return Value::optional_of(std::move(r));
  }
  if (range.kind() != Kind::kList && range.kind() != Kind::kMap) {
    return Value::error(fmt::format("expression of type '{}' cannot be the range of a comprehension",
                                    type_name(range.kind())));
  }
  return eval_list(ctx, range);
}

Value ComprehensionNode::eval_list(EvalContext& ctx, const Value& range) const {
  const bool is_map = range.kind() == Kind::kMap;
  const size_t n = range.size();
  Value accu;
  int64_t count = 0;
  std::vector<Value> items;
  std::vector<std::pair<Value, Value>> entries;
  switch (macro_) {
    case Macro::kAll: accu = Value::boolean(true); break;
    case Macro::kExists: accu = Value::boolean(false); break;
    default: break;
  }
  for (size_t i = 0; i < n; ++i) {
    if (++ctx.iterations > ctx.limits->max_iterations) {
      return ctx.abort(fmt::format("comprehension iterations exceed the limit of {}", ctx.limits->max_iterations));
    }
    if (!ctx.charge(step_work_)) {
      return Value::error(ctx.abort_message);
    }
    if (is_map) {
      const auto& e = range.entries()[i];
      ctx.ref_slot(slot1_, e.first);
      if (slot2_ >= 0) {
        ctx.ref_slot(slot2_, e.second);
      }
    } else if (slot2_ >= 0) {
      ctx.set_slot(slot1_, Value::integer(static_cast<int64_t>(i)));
      ctx.ref_slot(slot2_, range.items()[i]);
    } else {
      ctx.ref_slot(slot1_, range.items()[i]);
    }
    switch (macro_) {
      case Macro::kAll:
      case Macro::kExists: {
        const bool is_or = macro_ == Macro::kExists;
        accu = fold(accu, a_->run(ctx), is_or);
        if (ctx.aborted) return accu;
        if (accu.is_bool() && accu.as_bool() == is_or) return accu;
        break;
      }
      case Macro::kExistsOne: {
        Value p = a_->run(ctx);
        if (p.is_error()) return p;
        if (!p.is_bool()) return no_overload("exists_one", &p, 1);
        count += p.as_bool();
        break;
      }
      case Macro::kFilter: {
        Value p = a_->run(ctx);
        if (p.is_error()) return p;
        if (!p.is_bool()) return no_overload("filter", &p, 1);
        if (p.as_bool()) {
          items.push_back(ctx.slot(slot1_));
        }
        break;
      }
      case Macro::kMap:
      case Macro::kTransformList:
      case Macro::kTransformMap:
      case Macro::kTransformMapEntry: {
        if (b_) {
          Value p = a_->run(ctx);
          if (p.is_error()) return p;
          if (!p.is_bool()) return no_overload("filter", &p, 1);
          if (!p.as_bool()) break;
        }
        Value v = (b_ ? b_ : a_)->run(ctx);
        if (v.is_error()) return v;
        if (macro_ == Macro::kTransformMap) {
          entries.emplace_back(ctx.slot(slot1_), std::move(v));
        } else if (macro_ == Macro::kTransformMapEntry) {
          if (v.kind() != Kind::kMap) return no_overload("transformMapEntry", &v, 1);
          // Repeated keys are found once the map is built (linear, see Value::duplicate_key).
          for (const auto& [k, x] : v.entries()) {
            entries.emplace_back(k, x);
          }
        } else {
          items.push_back(std::move(v));
        }
        if (items.size() > ctx.limits->max_collection_size || entries.size() > ctx.limits->max_collection_size) {
          return ctx.abort("comprehension result exceeds the collection size limit");
        }
        break;
      }
      default: return Value::error("unsupported comprehension");
    }
  }
  switch (macro_) {
    case Macro::kAll:
    case Macro::kExists: return accu;
    case Macro::kExistsOne: return Value::boolean(count == 1);
    case Macro::kTransformMap:
      return check_weight(Value::map(std::move(entries)), ctx);
    case Macro::kTransformMapEntry: {
      Value m = Value::map(std::move(entries));
      if (const Value* dup = m.duplicate_key()) {
        return Value::error(
            fmt::format("insert failed: key {} already exists", debug_string(*dup)));
      }
      return check_weight(std::move(m), ctx);
    }
    default: return make_list(std::move(items), ctx);
  }
}

}  // namespace sy::cel
