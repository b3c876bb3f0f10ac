#pragma once
// Internal: the type checker that runs at compile time when an Env declares variables.
//
//   env.declare("plan", "string");
//   check_types(*ast.root, env)   // PlanError{offset, "found no matching overload for '_>_'
//                                 //   applied to '(string, int)'"} for `plan > 5`
//
// It deduces the static type of every sub-expression from literals, declared variables,
// operators, the standard functions and the macros, and rejects what can never evaluate: an
// operator or function applied to types it has no overload for, a field selected from a
// scalar, a comprehension over a scalar. It is conservative: where a type is not known
// (`dyn`, undeclared names, functions it does not model) it assumes nothing and accepts, and
// the evaluator decides at run time.

#include <optional>
#include <string_view>

#include "cel/ast.h"
#include "cel/cel.h"
#include "cel/planner.h"

namespace sy::cel {

std::optional<PlanError> check_types(const Expr& root, const Env& env);

// The canonical spelling of a declared type name ("list(string)", "map(string, dyn)"), or
// "dyn" for names the checker does not model (wrappers, messages). Exposed for tests.
std::string normalize_type_name(std::string_view name);

}  // namespace sy::cel
