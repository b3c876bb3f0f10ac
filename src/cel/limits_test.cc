#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cel/cel.h"

namespace sy::cel {
namespace {

std::string run(std::string_view expr, const Env& env = Env()) {
  auto p = compile(expr, env);
  if (!p) return "compile: " + p.error().message;
  auto v = p->evaluate(Activation());
  return v ? "ok" : v.error().message;
}

// "true", "false", or the error.
std::string truth(std::string_view expr, const Env& env = Env()) {
  auto p = compile(expr, env);
  if (!p) {
    return "compile: " + p.error().message;
  }
  auto v = p->evaluate(Activation());
  if (!v) {
    return v.error().message;
  }
  return v->is_bool() && v->as_bool() ? "true" : "false";
}

TEST(Limits, ComprehensionIterations) {
  Env env;
  env.options().limits.max_iterations = 1000;
  EXPECT_EQ(run("[1, 2, 3].all(x, x > 0) ? 'ok' : 'no'", env), "ok");
  const std::string nested =
      "[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, true)))";
  EXPECT_NE(run(nested, env).find("iterations exceed the limit of 1000"), std::string::npos);
}

TEST(Limits, LimitErrorsAreNotAbsorbed) {
  Env env;
  env.options().limits.max_iterations = 10;
  EXPECT_NE(run("[1,2,3,4,5,6,7,8,9,10,11,12].all(x, x > 0) || true", env).find("limit"), std::string::npos);
}

TEST(Limits, StringGrowth) {
  Env env;
  env.options().limits.max_string_bytes = 1000;
  const std::string doubling =
      "cel.bind(a, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', "
      "cel.bind(b, a + a + a + a, cel.bind(c, b + b + b + b, c + c + c + c)))";
  EXPECT_NE(run(doubling, env).find("exceeds the limit"), std::string::npos);
}

TEST(Limits, NestedSharingCannotExplode) {
  Env env;
  env.options().limits.max_collection_size = 10000;
  const std::string fan =
      "cel.bind(a, [1,2,3,4,5,6,7,8,9,10], cel.bind(b, [a,a,a,a,a,a,a,a,a,a], "
      "cel.bind(c, [b,b,b,b,b,b,b,b,b,b], cel.bind(d, [c,c,c,c,c,c,c,c,c,c], d == d))))";
  EXPECT_NE(run(fan, env).find("exceeds the limit"), std::string::npos);
}

TEST(Limits, CollectionSize) {
  Env env;
  env.options().limits.max_collection_size = 5;
  EXPECT_NE(run("[1,2,3] + [4,5,6]", env).find("exceeds the limit"), std::string::npos);
}

TEST(Limits, DepthAndLength) {
  Env env;
  env.options().parse.max_depth = 16;
  std::string deep;
  for (int i = 0; i < 20; ++i) deep += "[";
  deep += "1";
  for (int i = 0; i < 20; ++i) deep += "]";
  EXPECT_NE(run(deep, env).find("compile"), std::string::npos);
  env.options().parse.max_source_bytes = 4;
  EXPECT_NE(run("1 + 2 + 3", env).find("above the limit"), std::string::npos);
}

// cel.bind(name, ten-element list repeated, ...) ten times per level: a list of 10^levels ints.
std::string big_list(int levels, std::string_view body) {
  std::string expr = "cel.bind(l0, [0,1,2,3,4,5,6,7,8,9], ";
  for (int i = 1; i < levels; ++i) {
    expr += fmt::format("cel.bind(l{}, l{}", i, i - 1);
    for (int j = 1; j < 10; ++j) {
      expr += fmt::format(" + l{}", i - 1);
    }
    expr += ", ";
  }
  expr += body;
  return expr + std::string(static_cast<size_t>(levels), ')');
}

// Iterations alone do not bound time: each step may scan a big list or string. The work limit
// charges what every call, comparison and step handles.
TEST(Limits, WorkBoundsLinearOperationsInLoops) {
  Env env;
  env.options().limits.max_work = 1'000'000;
  EXPECT_NE(run(big_list(3, "l2.all(x, !(-1 in l2))"), env).find("work limit"), std::string::npos);
  const std::string str =
      "cel.bind(s, "
      "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'"
      ", "
      "cel.bind(t, s + s + s + s + s + s + s + s + s + s, cel.bind(u, t + t + t + t + t + t + t + "
      "t + t + t, "
      "[1,2,3,4,5,6,7,8,9,10].all(i, [1,2,3,4,5,6,7,8,9,10].all(j, (u + 'b').contains('ab'))))))";
  EXPECT_NE(run(str, env).find("work limit"), std::string::npos);
  const std::string eq =
      "cel.bind(s, "
      "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'"
      ", "
      "cel.bind(t, s + s + s + s + s + s + s + s + s + s, cel.bind(u, t + t + t + t + t + t + t + "
      "t + t + t, "
      "[1,2,3,4,5,6,7,8,9,10].all(i, [1,2,3,4,5,6,7,8,9,10].all(j, u == u)))))";
  EXPECT_NE(run(eq, env).find("work limit"), std::string::npos);
  // Big loop bodies cost per node and step.
  std::string body = "x";
  for (int i = 0; i < 100; ++i) {
    body += " + x";
  }
  EXPECT_NE(run(big_list(3, "l2.all(x, " + body + " >= 0)"), env).find("work limit"),
            std::string::npos);
  // The same rules run within the default limit.
  EXPECT_EQ(truth(big_list(3, "l2.all(x, x >= 0 && !(-1 in l0))")), "true");
}

TEST(Limits, WorkOfARealisticRuleIsSmall) {
  Env env;
  env.options().limits.max_work = 10'000;
  auto p = compile(
      "plan in ['free', 'trial'] && headers['x-region'].startsWith('eu-') && "
      "messages.exists(m, m.role == 'user' && m.content.contains('JSON'))",
      env);
  ASSERT_TRUE(p.has_value());
  auto act = Activation::from_json(
      R"({"plan":"free","headers":{"x-region":"eu-west-1"},)"
      R"("messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Reply in JSON"}]})");
  ASSERT_TRUE(act.has_value());
  auto v = p->evaluate(*act);
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_TRUE(v->as_bool());
}

// Big maps index every key kind, so lookups, equality and repeated-key checks stay linear.
TEST(Limits, BigMapsStayLinear) {
  EXPECT_EQ(truth(big_list(
                4, "cel.bind(m, l3.transformMap(i, v, v), m == m && m[9999] == 9 && 5u in m)")),
            "true");
  EXPECT_NE(run("{1: 'a', 2: 'b', 3: 'c', 4: 'd', 5: 'e', 6: 'f', 7: 'g', 8: 'h', 9: 'i', 1u: 'x'}")
                .find("repeated key"),
            std::string::npos);
  EXPECT_NE(run("{'a': 1, 'b': 2, 'c': 3, 'd': 4, 'e': 5, 'f': 6, 'g': 7, 'h': 8, 'i': 9, 'a': 1}")
                .find("repeated key"),
            std::string::npos);
  EXPECT_NE(run(big_list(2, "l1.transformMapEntry(i, v, {v: i})")).find("already exists"),
            std::string::npos);
  EXPECT_EQ(
      truth("{1: 'a', 2: 'b', 3: 'c', 4: 'd', 5: 'e', 6: 'f', 7: 'g', 8: 'h', -1: 'i', true: 'x'}"
            "[-1] == 'i'"),
      "true");
}

}  // namespace
}  // namespace sy::cel
