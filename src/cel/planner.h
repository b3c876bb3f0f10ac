#pragma once
// Internal: turns a parsed Ast into an evaluation tree for one Env.
//
//   PlanState st;
//   Planner p(env, st);
//   auto root = p.plan(*ast.root);  // or PlanError{offset, message}

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "cel/ast.h"
#include "cel/eval.h"

namespace sy::cel {

struct PlanState {
  int max_slots = 0;
  std::vector<std::unique_ptr<std::string>> strings;  // interned literal text the nodes view
  std::vector<std::string> variables;  // activation names the program may look up, sorted
};

struct PlanError {
  uint32_t offset = 0;
  std::string message;
};

class Planner {
 public:
  Planner(const Env& env, PlanState& state);
  tl::expected<NodePtr, PlanError> plan(const Expr& root);

 private:
  NodePtr node(const Expr& e);
  NodePtr call(const Expr& e);
  NodePtr generic_call(const Expr& e, const std::string& fn, bool receiver, const Expr* target);
  NodePtr matches(const Expr& e, const Expr& subject, const Expr& pattern);
  NodePtr block_call(const Expr& e, const std::string& qualified);
  NodePtr comprehension(const Expr& e);
  NodePtr fold(NodePtr n, bool constant);
  NodePtr variable(const Expr& e, const std::string& qualified, bool absolute);
  NodePtr fail(uint32_t offset, std::string message);
  std::vector<const Overload*> overloads(std::string_view name, bool receiver, size_t arity) const;
  int lookup_local(std::string_view name) const;
  int push_local(std::string name);
  void pop_locals(size_t n);
  bool is_declared(std::string_view name) const;
  Value intern(const Value& v);

  const Env& env_;
  PlanState& state_;
  std::vector<std::string> declared_;
  std::vector<std::pair<std::string, int>> scope_;
  int next_slot_ = 0;
  int64_t nodes_ = 0;  // planned so far; a comprehension charges its body's count per step
  std::optional<PlanError> error_;
};

}  // namespace sy::cel
