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

}  // namespace
}  // namespace sy::cel
