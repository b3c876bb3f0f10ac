#pragma once
// Parser: CEL source to an Ast with macros expanded; the first syntax error wins.
//
//   auto ast = parse("x.all(y, y > 0)", ParseOptions{});
//   if (!ast) report(ast.error().offset, ast.error().message);

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "cel/ast.h"

namespace sy::cel {

struct ParseOptions {
  size_t max_source_bytes = 100 * 1024;  // longer sources are rejected before lexing
  int max_depth = 128;                    // nesting of the expression tree (parens, calls, operators)
  bool enable_optional_syntax = true;     // a.?b, a[?b], [?x], {?k: v}
  bool enable_quoted_identifiers = true;  // a.`b-c`
  bool enable_macros = true;              // has, all, exists, map, ... (off: plain calls)
};

struct ParseError {
  uint32_t offset = 0;
  std::string message;
};

tl::expected<Ast, ParseError> parse(std::string_view source, const ParseOptions& options);

}  // namespace sy::cel
