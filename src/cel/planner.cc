// Planner: Ast to evaluation nodes. Resolves locals to slots, variables against the container
// and declarations, functions to overload lists, and pre-compiles constant regexes.
#include "cel/planner.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <array>

#include "cel/nodes.h"

namespace sy::cel {
namespace {

constexpr std::array<std::string_view, 13> kTypeNames = {
    "int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type",
    "google.protobuf.Timestamp", "google.protobuf.Duration", "optional_type"};

std::optional<std::string_view> type_denotation(std::string_view name) {
  for (auto t : kTypeNames) {
    if (t == name) return t;
  }
  return std::nullopt;
}

// "a.b.c" when e is an ident or a plain select chain over one; false otherwise.
bool ident_chain(const Expr& e, std::string& out, bool& absolute) {
  if (e.kind == ExprKind::kIdent) {
    out = e.name;
    absolute = e.absolute;
    return true;
  }
  if (e.kind != ExprKind::kSelect || e.optional || e.test_only || !e.target) return false;
  if (!ident_chain(*e.target, out, absolute)) return false;
  out += ".";
  out += e.name;
  return true;
}

std::vector<std::string> split_dots(std::string_view s) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      parts.emplace_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

}  // namespace

Planner::Planner(const Env& env, PlanState& state) : env_(env), state_(state) {
  for (const auto& [name, type] : env.vars()) declared_.push_back(name);
}

tl::expected<NodePtr, PlanError> Planner::plan(const Expr& e) {
  NodePtr n = node(e);
  if (error_) return tl::unexpected(*error_);
  return n;
}

NodePtr Planner::fail(uint32_t offset, std::string message) {
  if (!error_) error_ = PlanError{offset, std::move(message)};
  return std::make_unique<ErrorNode>(offset, "plan error");
}

int Planner::lookup_local(std::string_view name) const {
  for (auto it = scope_.rbegin(); it != scope_.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return -1;
}

int Planner::push_local(std::string name) {
  const int slot = next_slot_++;
  state_.max_slots = std::max(state_.max_slots, next_slot_);
  scope_.emplace_back(std::move(name), slot);
  return slot;
}

void Planner::pop_locals(size_t n) {
  scope_.resize(scope_.size() - n);
  next_slot_ -= static_cast<int>(n);
}

bool Planner::is_declared(std::string_view name) const {
  return std::find(declared_.begin(), declared_.end(), name) != declared_.end();
}

Value Planner::intern(const Value& v) {
  if (v.kind() != Kind::kString && v.kind() != Kind::kBytes) return v;
  state_.strings.push_back(std::make_unique<std::string>(v.str()));
  const std::string& s = *state_.strings.back();
  return v.kind() == Kind::kString ? Value::string_view(s) : Value::bytes_view(s);
}

NodePtr Planner::variable(const Expr& e, const std::string& qualified, bool absolute) {
  // Candidates: longest qualified name first, each under every container prefix.
  const auto parts = split_dots(qualified);
  std::vector<std::string> prefixes;
  if (!absolute && !env_.container().empty()) {
    std::string c = env_.container();
    for (;;) {
      prefixes.push_back(c + ".");
      const size_t dot = c.rfind('.');
      if (dot == std::string::npos) break;
      c.resize(dot);
    }
  }
  prefixes.emplace_back("");
  std::vector<AttrNode::Candidate> candidates;
  for (size_t n = parts.size(); n >= 1; --n) {
    std::string base;
    for (size_t i = 0; i < n; ++i) base += (i ? "." : "") + parts[i];
    std::vector<std::string> fields(parts.begin() + static_cast<long>(n), parts.end());
    for (const auto& p : prefixes) candidates.push_back({p + base, fields});
  }
  for (const auto& c : candidates) {
    auto at = std::lower_bound(state_.variables.begin(), state_.variables.end(), c.name);
    if (at == state_.variables.end() || *at != c.name) state_.variables.insert(at, c.name);
  }
  const bool checked = env_.options().check && !declared_.empty();
  if (checked) {
    for (auto& c : candidates) {
      if (!is_declared(c.name)) {
        continue;
      }
      if (c.fields.empty()) {
        return std::make_unique<VarNode>(e.offset, c.name);
      }
      return std::make_unique<AttrNode>(e.offset, std::vector<AttrNode::Candidate>{c});
    }
  }
  for (const auto& p : prefixes) {
    if (auto t = type_denotation(p + qualified); t && !is_declared(p + qualified)) {
      return std::make_unique<ConstNode>(e.offset, Value::type(*t));
    }
  }
  if (checked) return fail(e.offset, fmt::format("undeclared reference to '{}'", qualified));
  if (candidates.size() == 1 && candidates[0].fields.empty()) {
    return std::make_unique<VarNode>(e.offset, candidates[0].name);
  }
  return std::make_unique<AttrNode>(e.offset, std::move(candidates));
}

NodePtr Planner::node(const Expr& e) {
  // After the first error the rest of the tree is planned as placeholders, never null, so
  // callers may inspect what node() returns (constant(), folding) without checking.
  if (error_) {
    return std::make_unique<ErrorNode>(e.offset, "plan error");
  }
  ++nodes_;
  switch (e.kind) {
    case ExprKind::kConst: return std::make_unique<ConstNode>(e.offset, intern(e.constant));
    case ExprKind::kIdent: {
      if (!e.absolute) {
        if (int slot = lookup_local(e.name); slot >= 0) return std::make_unique<SlotNode>(e.offset, slot);
      }
      return variable(e, e.name, e.absolute);
    }
    case ExprKind::kSelect: {
      std::string chain;
      bool absolute = false;
      if (!e.test_only && ident_chain(e, chain, absolute)) {
        const std::string root = chain.substr(0, chain.find('.'));
        if (absolute || lookup_local(root) < 0) return variable(e, chain, absolute);
      }
      return std::make_unique<SelectNode>(e.offset, node(*e.target), e.name, e.test_only, e.optional);
    }
    case ExprKind::kCall: return call(e);
    case ExprKind::kList: {
      std::vector<NodePtr> items;
      for (const auto& a : e.args) items.push_back(node(*a));
      const bool constant =
          std::all_of(items.begin(), items.end(), [](const NodePtr& n) { return n->constant(); });
      return fold(std::make_unique<ListNode>(e.offset, std::move(items), e.optional_elements),
                  constant);
    }
    case ExprKind::kMap: {
      std::vector<MapNode::Entry> entries;
      bool constant = true;
      for (const auto& m : e.entries) {
        entries.push_back({node(*m.key), node(*m.value), m.optional});
        constant = constant && entries.back().key->constant() && entries.back().value->constant();
      }
      return fold(std::make_unique<MapNode>(e.offset, std::move(entries)), constant);
    }
    case ExprKind::kStruct:
      return std::make_unique<ErrorNode>(e.offset, fmt::format("unknown message type: {}", e.name));
    case ExprKind::kComprehension: return comprehension(e);
  }
  return fail(e.offset, "unsupported expression");
}

// Literal lists and maps of constants are built once at plan time, so evaluating
// `plan in ['free', 'trial']` allocates nothing.
NodePtr Planner::fold(NodePtr n, bool constant) {
  if (!constant || error_) {
    return n;
  }
  EvalContext ctx;
  Activation empty;
  ctx.activation = &empty;
  ctx.limits = &env_.options().limits;
  Value v = n->eval(ctx);
  if (v.is_error()) {
    return n;  // keep the error for evaluation time, where && / || may absorb it
  }
  return std::make_unique<ConstNode>(n->offset(), std::move(v));
}

NodePtr Planner::comprehension(const Expr& e) {
  NodePtr range = node(*e.target);
  size_t pushed = 0;
  const int slot1 = push_local(e.iter_var);
  ++pushed;
  int slot2 = -1;
  if (!e.iter_var2.empty()) {
    slot2 = push_local(e.iter_var2);
    ++pushed;
  }
  const int64_t nodes_before = nodes_;
  NodePtr a = e.args.empty() ? nullptr : node(*e.args[0]);
  NodePtr b = e.args.size() > 1 ? node(*e.args[1]) : nullptr;
  pop_locals(pushed);
  if (!a) return fail(e.offset, "comprehension without a body");
  return std::make_unique<ComprehensionNode>(e.offset, e.macro, std::move(range), slot1, slot2,
                                             std::move(a), std::move(b), nodes_ - nodes_before);
}

std::vector<const Overload*> Planner::overloads(std::string_view name, bool receiver, size_t arity) const {
  std::vector<const Overload*> out;
  if (const auto* list = registry().find(name)) {
    for (const auto& o : *list) {
      if (o.receiver == receiver && o.arity == arity) out.push_back(&o);
    }
  }
  return out;
}

NodePtr Planner::call(const Expr& e) {
  const std::string& fn = e.name;
  const size_t n = e.args.size();
  if (!e.target) {
    if ((fn == "_&&_" || fn == "_||_") && n == 2) {
      return std::make_unique<LogicNode>(e.offset, node(*e.args[0]), node(*e.args[1]), fn == "_||_");
    }
    if (fn == "_?_:_" && n == 3) {
      return std::make_unique<TernaryNode>(e.offset, node(*e.args[0]), node(*e.args[1]), node(*e.args[2]));
    }
    if ((fn == "_==_" || fn == "_!=_") && n == 2) {
      NodePtr a = node(*e.args[0]);
      NodePtr b = node(*e.args[1]);
      if (b->constant() && !b->constant()->is_error()) {
        return std::make_unique<EqConstNode>(e.offset, std::move(a), *b->constant(), fn == "_!=_");
      }
      if (a->constant() && !a->constant()->is_error()) {
        return std::make_unique<EqConstNode>(e.offset, std::move(b), *a->constant(), fn == "_!=_");
      }
      return std::make_unique<EqNode>(e.offset, std::move(a), std::move(b), fn == "_!=_");
    }
    if (n == 2 && (fn == "_<_" || fn == "_<=_" || fn == "_>_" || fn == "_>=_")) {
      const auto op = fn == "_<_"    ? RelNode::Op::kLt
                      : fn == "_<=_" ? RelNode::Op::kLe
                      : fn == "_>_"  ? RelNode::Op::kGt
                                     : RelNode::Op::kGe;
      NodePtr a = node(*e.args[0]);
      return std::make_unique<RelNode>(e.offset, std::move(a), node(*e.args[1]), op);
    }
    if (fn == "@in" && n == 2) {
      NodePtr a = node(*e.args[0]);
      return std::make_unique<InNode>(e.offset, std::move(a), node(*e.args[1]));
    }
    if ((fn == "_[_]" || fn == "_[?_]") && n == 2) {
      return std::make_unique<IndexNode>(e.offset, node(*e.args[0]), node(*e.args[1]), fn == "_[?_]");
    }
    if (fn == "matches" && n == 2) return matches(e, *e.args[0], *e.args[1]);
    return generic_call(e, fn, false, nullptr);
  }
  std::string chain;
  bool absolute = false;
  if (ident_chain(*e.target, chain, absolute) && lookup_local(chain.substr(0, chain.find('.'))) < 0) {
    const std::string qualified = chain + "." + fn;
    if (qualified == "cel.block" || qualified == "cel.index" || qualified == "cel.iterVar" ||
        qualified == "cel.accuVar") {
      return block_call(e, qualified);
    }
    if (registry().find(qualified) != nullptr) return generic_call(e, qualified, false, nullptr);
  }
  if ((fn == "or" || fn == "orValue") && n == 1) {
    return std::make_unique<OptionalOrNode>(e.offset, node(*e.target), node(*e.args[0]), fn == "orValue");
  }
  if (fn == "matches" && n == 1) return matches(e, *e.target, *e.args[0]);
  return generic_call(e, fn, true, e.target.get());
}

NodePtr Planner::generic_call(const Expr& e, const std::string& fn, bool receiver, const Expr* target) {
  std::vector<NodePtr> args;
  if (target) args.push_back(node(*target));
  for (const auto& a : e.args) args.push_back(node(*a));
  auto ovs = overloads(fn, receiver, args.size());
  return std::make_unique<CallNode>(e.offset, fn, std::move(args), std::move(ovs));
}

NodePtr Planner::matches(const Expr& e, const Expr& subject, const Expr& pattern) {
  if (pattern.kind == ExprKind::kConst && pattern.constant.kind() == Kind::kString) {
    RE2::Options opts;
    opts.set_log_errors(false);
    auto re = std::make_shared<const RE2>(std::string(pattern.constant.str()), opts);
    if (!re->ok()) return fail(pattern.offset, fmt::format("invalid regular expression: {}", re->error()));
    return std::make_unique<MatchesNode>(e.offset, node(subject), std::move(re));
  }
  std::vector<NodePtr> args;
  args.push_back(node(subject));
  args.push_back(node(pattern));
  auto ovs = overloads("matches", false, 2);
  return std::make_unique<CallNode>(e.offset, "matches", std::move(args), std::move(ovs));
}

NodePtr Planner::block_call(const Expr& e, const std::string& qualified) {
  auto int_arg = [&](size_t i, int64_t& out) {
    if (i >= e.args.size() || e.args[i]->kind != ExprKind::kConst || e.args[i]->constant.kind() != Kind::kInt) {
      return false;
    }
    out = e.args[i]->constant.as_int();
    return true;
  };
  if (qualified == "cel.index") {
    int64_t i = 0;
    if (e.args.size() != 1 || !int_arg(0, i)) return fail(e.offset, "cel.index expects one int literal");
    const int slot = lookup_local(fmt::format("@index{}", i));
    if (slot < 0) return fail(e.offset, fmt::format("cel.index({}) is not bound here", i));
    return std::make_unique<SlotNode>(e.offset, slot);
  }
  if (qualified == "cel.iterVar" || qualified == "cel.accuVar") {
    int64_t i = 0;
    int64_t j = 0;
    if (e.args.size() != 2 || !int_arg(0, i) || !int_arg(1, j)) return fail(e.offset, "expects two int literals");
    const int slot = lookup_local(fmt::format("{}:{}:{}", qualified == "cel.iterVar" ? "@it" : "@ac", i, j));
    if (slot < 0) return fail(e.offset, fmt::format("{}({}, {}) is not bound here", qualified, i, j));
    return std::make_unique<SlotNode>(e.offset, slot);
  }
  // cel.block([bindings...], result)
  if (e.args.size() != 2 || e.args[0]->kind != ExprKind::kList) {
    return fail(e.offset, "cel.block expects a list literal of bindings and a result");
  }
  const auto& list = e.args[0]->args;
  std::vector<NodePtr> bindings;
  int first_slot = -1;
  for (size_t i = 0; i < list.size(); ++i) {
    bindings.push_back(node(*list[i]));
    const int slot = push_local(fmt::format("@index{}", i));
    if (first_slot < 0) first_slot = slot;
  }
  NodePtr result = node(*e.args[1]);
  pop_locals(list.size());
  return std::make_unique<BlockNode>(e.offset, std::move(bindings), std::max(first_slot, 0), std::move(result));
}

}  // namespace sy::cel
