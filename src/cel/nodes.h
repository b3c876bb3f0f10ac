#pragma once
// Internal: the evaluation node types the planner builds.
//
//   NodePtr n = std::make_unique<EqNode>(offset, std::move(lhs), std::move(rhs), /*negate=*/false);
//   Value v = n->eval(ctx);

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "cel/ast.h"
#include "cel/eval.h"

namespace re2 {
class RE2;
}

namespace sy::cel {

class ConstNode final : public Node {
 public:
  ConstNode(uint32_t off, Value v) : Node(off), v_(std::move(v)) {}
  Value eval(EvalContext&) const override { return v_; }
  const Value* borrow(EvalContext&) const override { return &v_; }
  const Value* constant() const override { return &v_; }

 private:
  Value v_;
};

class SlotNode final : public Node {
 public:
  SlotNode(uint32_t off, int slot) : Node(off), slot_(slot) {}
  Value eval(EvalContext& ctx) const override { return ctx.slot(slot_); }
  const Value* borrow(EvalContext& ctx) const override { return &ctx.slot(slot_); }

 private:
  int slot_;
};

// A variable reference resolved at run time against the activation: tries each candidate
// (qualified name, remaining field selections) in order, most qualified first.
class AttrNode final : public Node {
 public:
  struct Candidate {
    std::string name;
    std::vector<std::string> fields;
  };
  AttrNode(uint32_t off, std::vector<Candidate> c);
  Value eval(EvalContext& ctx) const override;
  const Value* borrow(EvalContext& ctx) const override;

 private:
  std::vector<Candidate> candidates_;
  Value missing_;  // the error for an activation without the variable, built once
};

// A plain variable (one candidate, no field path): the common case in routing rules.
class VarNode final : public Node {
 public:
  VarNode(uint32_t off, std::string name);
  Value eval(EvalContext& ctx) const override;
  const Value* borrow(EvalContext& ctx) const override;

 private:
  std::string name_;
  Value missing_;  // the error for an activation without the variable, built once (rules
                   // over optional metadata meet it often)
  // Where the variable was last found in an activation (relaxed: only a lookup hint, shared
  // by the threads evaluating this program, and written only when it changes).
  mutable std::atomic<size_t> hint_{0};
};

// x == constant / x != constant without evaluating or copying the constant each time.
class EqConstNode final : public Node {
 public:
  EqConstNode(uint32_t off, NodePtr a, Value c, bool negate)
      : Node(off), a_(std::move(a)), c_(std::move(c)), negate_(negate) {}
  Value eval(EvalContext& ctx) const override;

 private:
  NodePtr a_;
  Value c_;
  bool negate_;
};

class SelectNode final : public Node {
 public:
  SelectNode(uint32_t off, NodePtr operand, std::string field, bool test_only, bool optional)
      : Node(off), operand_(std::move(operand)), field_(std::move(field)), test_only_(test_only), optional_(optional) {}
  Value eval(EvalContext& ctx) const override;
  const Value* borrow(EvalContext& ctx) const override;

 private:
  NodePtr operand_;
  std::string field_;
  bool test_only_;
  bool optional_;
};

class IndexNode final : public Node {
 public:
  IndexNode(uint32_t off, NodePtr c, NodePtr k, bool optional)
      : Node(off), container_(std::move(c)), key_(std::move(k)), optional_(optional) {}
  Value eval(EvalContext& ctx) const override;
  const Value* borrow(EvalContext& ctx) const override;

 private:
  NodePtr container_;
  NodePtr key_;
  bool optional_;
};

class CallNode final : public Node {
 public:
  CallNode(uint32_t off, std::string name, std::vector<NodePtr> args, std::vector<const Overload*> overloads)
      : Node(off), name_(std::move(name)), args_(std::move(args)), overloads_(std::move(overloads)) {}
  Value eval(EvalContext& ctx) const override;

 private:
  Value call(const Value* args, size_t n, int64_t work, EvalContext& ctx) const;
  std::string name_;
  std::vector<NodePtr> args_;
  std::vector<const Overload*> overloads_;
};

// a < b, a <= b, a > b, a >= b: the operands are borrowed, and common kinds compare inline.
class RelNode final : public Node {
 public:
  enum class Op : uint8_t { kLt, kLe, kGt, kGe };
  RelNode(uint32_t off, NodePtr a, NodePtr b, Op op)
      : Node(off), a_(std::move(a)), b_(std::move(b)), op_(op) {}
  Value eval(EvalContext& ctx) const override;

 private:
  NodePtr a_, b_;
  Op op_;
};

// a in list / a in map, with both operands borrowed.
class InNode final : public Node {
 public:
  InNode(uint32_t off, NodePtr a, NodePtr container)
      : Node(off), a_(std::move(a)), container_(std::move(container)) {}
  Value eval(EvalContext& ctx) const override;

 private:
  NodePtr a_, container_;
};

class LogicNode final : public Node {
 public:
  LogicNode(uint32_t off, NodePtr a, NodePtr b, bool is_or) : Node(off), a_(std::move(a)), b_(std::move(b)), or_(is_or) {}
  Value eval(EvalContext& ctx) const override;

 private:
  NodePtr a_, b_;
  bool or_;
};

class TernaryNode final : public Node {
 public:
  TernaryNode(uint32_t off, NodePtr c, NodePtr t, NodePtr e)
      : Node(off), c_(std::move(c)), t_(std::move(t)), e_(std::move(e)) {}
  Value eval(EvalContext& ctx) const override;

 private:
  NodePtr c_, t_, e_;
};

class EqNode final : public Node {
 public:
  EqNode(uint32_t off, NodePtr a, NodePtr b, bool negate) : Node(off), a_(std::move(a)), b_(std::move(b)), negate_(negate) {}
  Value eval(EvalContext& ctx) const override;

 private:
  NodePtr a_, b_;
  bool negate_;
};

class ListNode final : public Node {
 public:
  ListNode(uint32_t off, std::vector<NodePtr> e, std::vector<bool> opt)
      : Node(off), elements_(std::move(e)), optional_(std::move(opt)) {}
  Value eval(EvalContext& ctx) const override;

 private:
  std::vector<NodePtr> elements_;
  std::vector<bool> optional_;
};

class MapNode final : public Node {
 public:
  struct Entry {
    NodePtr key, value;
    bool optional;
  };
  MapNode(uint32_t off, std::vector<Entry> e) : Node(off), entries_(std::move(e)) {}
  Value eval(EvalContext& ctx) const override;

 private:
  std::vector<Entry> entries_;
};

class ErrorNode final : public Node {
 public:
  ErrorNode(uint32_t off, std::string msg) : Node(off), msg_(std::move(msg)) {}
  Value eval(EvalContext&) const override { return Value::error(msg_); }

 private:
  std::string msg_;
};

// A regex compiled once at plan time (constant pattern).
class MatchesNode final : public Node {
 public:
  MatchesNode(uint32_t off, NodePtr subject, std::shared_ptr<const re2::RE2> re)
      : Node(off),
        subject_(std::move(subject)),
        re_(std::move(re)),
        work_per_byte_(regex_work_per_byte(*re_)) {}
  Value eval(EvalContext& ctx) const override;

 private:
  NodePtr subject_;
  std::shared_ptr<const re2::RE2> re_;
  int64_t work_per_byte_;
};

// opt.or(other) / opt.orValue(other): `other` is evaluated only when opt is empty.
class OptionalOrNode final : public Node {
 public:
  OptionalOrNode(uint32_t off, NodePtr opt, NodePtr other, bool or_value)
      : Node(off), opt_(std::move(opt)), other_(std::move(other)), or_value_(or_value) {}
  Value eval(EvalContext& ctx) const override;

 private:
  NodePtr opt_, other_;
  bool or_value_;
};

class ComprehensionNode final : public Node {
 public:
  // body_nodes: how many nodes a and b hold, charged (Limits::max_work) on every step.
  ComprehensionNode(uint32_t off, Macro m, NodePtr range, int slot1, int slot2, NodePtr a,
                    NodePtr b, int64_t body_nodes)
      : Node(off),
        macro_(m),
        range_(std::move(range)),
        slot1_(slot1),
        slot2_(slot2),
        a_(std::move(a)),
        b_(std::move(b)),
        step_work_(body_nodes * kElementWork) {}
  Value eval(EvalContext& ctx) const override;

 private:
  Value eval_list(EvalContext& ctx, const Value& range) const;
  Macro macro_;
  NodePtr range_;
  int slot1_, slot2_;  // slot2_ < 0 for one-variable forms
  NodePtr a_;          // predicate / transform / filter (when b_ is set)
  NodePtr b_;          // transform after a filter
  int64_t step_work_;
};

// cel.block([e0, e1, ...], result): each ei lands in a slot that later ones and result read.
class BlockNode final : public Node {
 public:
  BlockNode(uint32_t off, std::vector<NodePtr> bindings, int first_slot, NodePtr result)
      : Node(off), bindings_(std::move(bindings)), first_slot_(first_slot), result_(std::move(result)) {}
  Value eval(EvalContext& ctx) const override;

 private:
  std::vector<NodePtr> bindings_;
  int first_slot_;
  NodePtr result_;
};

}  // namespace sy::cel
