#pragma once
// The parsed expression tree. Operators are calls with CEL's internal names ("_+_", "_[_]");
// macros are already expanded into Comprehension nodes that name the macro they came from.
//
//   auto ast = parse("a.b > 1", {});          // Result<Ast>
//   ast->root->kind == ExprKind::kCall        // "_>_"(select(a, b), 1)

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cel/value.h"

namespace sy::cel {

enum class ExprKind : uint8_t { kConst, kIdent, kSelect, kCall, kList, kMap, kStruct, kComprehension };

enum class Macro : uint8_t {
  kNone,
  kAll,          // range.all(x, p)           / all(i, v, p)
  kExists,       // range.exists(x, p)        / exists(i, v, p)
  kExistsOne,    // range.exists_one(x, p)    / existsOne(i, v, p)
  kMap,          // range.map(x, f)           args: [f] or [p, f]
  kFilter,       // range.filter(x, p)
  kTransformList,
  kTransformMap,
  kTransformMapEntry,
  kBind,         // cel.bind(x, init, body): range = init, args: [body]
  kOptMap,       // opt.optMap(x, f)
  kOptFlatMap,   // opt.optFlatMap(x, f)
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct MapEntry {
  ExprPtr key;        // map literal key (null for struct fields)
  std::string field;  // struct field name
  ExprPtr value;
  bool optional = false;  // {?k: v}
};

struct Expr {
  ExprKind kind = ExprKind::kConst;
  uint32_t offset = 0;  // byte offset of the token that introduced the node
  int depth = 1;        // height of the subtree (limits recursion in later passes)
  Value constant;       // kConst
  std::string name;     // ident name, selected field, function, struct type
  bool test_only = false;  // has(a.b)
  bool optional = false;   // a.?b, and "_[?_]" uses a distinct function name
  bool absolute = false;   // .ident (leading dot)
  ExprPtr target;          // select operand, method receiver, comprehension range
  std::vector<ExprPtr> args;     // call args, list elements, comprehension bodies
  std::vector<bool> optional_elements;  // list: [?x]
  std::vector<MapEntry> entries;        // map / struct
  Macro macro = Macro::kNone;
  std::string iter_var, iter_var2;  // comprehension variables (iter_var2 empty for one-var forms)
};

// Owns the tree and a copy of the source so positions can be rendered later.
struct Ast {
  ExprPtr root;
  std::string source;
};

}  // namespace sy::cel
