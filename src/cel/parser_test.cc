#include "cel/parser.h"

#include <gtest/gtest.h>

#include "cel/cel.h"

namespace sy::cel {
namespace {

TEST(Parser, PrecedenceAndMacros) {
  auto ast = parse("a || b && c == 1 + 2 * 3", {});
  ASSERT_TRUE(ast.has_value());
  EXPECT_EQ(ast->root->name, "_||_");
  EXPECT_EQ(ast->root->args[1]->name, "_&&_");
  auto m = parse("xs.all(x, x > 0)", {});
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->root->kind, ExprKind::kComprehension);
  EXPECT_EQ(m->root->macro, Macro::kAll);
  auto h = parse("has(a.b)", {});
  ASSERT_TRUE(h.has_value());
  EXPECT_TRUE(h->root->test_only);
}

TEST(Parser, MinInt64Literal) {
  auto ast = parse("-9223372036854775808", {});
  ASSERT_TRUE(ast.has_value());
  EXPECT_EQ(ast->root->constant.as_int(), INT64_MIN);
  EXPECT_FALSE(parse("9223372036854775808", {}).has_value());
}

TEST(Parser, ErrorsCarryPositions) {
  auto e = compile("a && (b ||", Env());
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().line, 1);
  EXPECT_EQ(e.error().column, 11);
  auto m = compile("x == 1 &&\n  y = 2", Env());
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().line, 2);
  EXPECT_EQ(m.error().column, 5);
  EXPECT_EQ(m.error().snippet, " |   y = 2\n | ....^");
  EXPECT_NE(m.error().to_string().find("2:5:"), std::string::npos);
}

TEST(Parser, RejectsBadSyntax) {
  for (const char* bad : {"", "1 +", "has(a)", "[1, 2", "{1: }", "a.(b)", "while", "x.all(1, true)",
                          "f()()", "a.b{", "'''x", "1 ? 2", "{a}"}) {
    EXPECT_FALSE(parse(bad, {}).has_value()) << bad;
  }
}

TEST(Parser, OptionalSyntaxSwitch) {
  ParseOptions off;
  off.enable_optional_syntax = false;
  EXPECT_TRUE(parse("a.?b", {}).has_value());
  EXPECT_FALSE(parse("a.?b", off).has_value());
  EXPECT_FALSE(parse("[?a]", off).has_value());
}

TEST(Parser, DepthLimit) {
  ParseOptions o;
  o.max_depth = 10;
  EXPECT_TRUE(parse("((((1))))", o).has_value());
  EXPECT_FALSE(parse("[[[[[[[[[[[1]]]]]]]]]]]", o).has_value());
  EXPECT_FALSE(parse("1+1+1+1+1+1+1+1+1+1+1+1", o).has_value());
  std::string deep(100000, '(');
  EXPECT_FALSE(parse(deep, {}).has_value());  // no stack overflow
  std::string chain = "a";
  for (int i = 0; i < 50000; ++i) chain += ".b";
  EXPECT_FALSE(parse(chain, {}).has_value());
}

TEST(Parser, SourceLengthLimit) {
  ParseOptions o;
  o.max_source_bytes = 8;
  EXPECT_FALSE(parse("123456789", o).has_value());
}

}  // namespace
}  // namespace sy::cel
