#include "cel/checker.h"

#include <string>

#include <gtest/gtest.h>

namespace sy::cel {
namespace {

// The variables a routing rule sees (as the routers issue will declare them).
Env routing_env() {
  Env env;
  env.declare("language", "string");
  env.declare("plan", "string");
  env.declare("tokens", "int");
  env.declare("score", "double");
  env.declare("headers", "map(string, string)");
  env.declare("metadata", "map(string, dyn)");
  env.declare("messages", "list(map(string, dyn))");
  env.declare("tags", "list(string)");
  env.declare("created", "google.protobuf.Timestamp");
  return env;
}

// "" when the rule compiles, else "line:column: message".
std::string check(std::string_view rule) {
  auto p = compile(rule, routing_env());
  if (p) {
    return "";
  }
  return std::to_string(p.error().line) + ":" + std::to_string(p.error().column) + ": " +
         p.error().message;
}

TEST(Checker, AcceptsWellTypedRules) {
  for (
      const char* rule : {
          R"(language == "es")",
          R"(plan in ["free", "trial"] && tokens > 1000)",
          R"(headers["x-region"].startsWith("eu-"))",
          R"(size(messages) > 20 || score >= 0.5)",
          R"(messages.exists(m, m.role == "user" && m.content.contains("JSON")))",
          R"(tags.all(t, t.size() < 20))",
          R"(metadata.tier == "gold" && metadata.seats > 10)",
          R"(has(headers.authorization) ? plan != "free" : false)",
          R"(tokens + 1 > 2 && score * 2.0 < 1.5 && -tokens < 0)",
          R"(created < timestamp("2030-01-01T00:00:00Z") && created - timestamp("2020-01-01T00:00:00Z") > duration("1h"))",
          R"(tokens > 1.5 && 1u < tokens)",             // numbers compare across kinds
          R"(dyn(plan) > 5 || metadata.any + 1 == 2)",  // dyn defers to run time
          R"(language.lowerAscii() == "es")",           // functions it does not model
          R"(tags.map(t, size(t)).exists(n, n > 3))",
      }) {
    EXPECT_EQ(check(rule), "") << rule;
  }
}

TEST(Checker, RejectsWhatCanNeverEvaluate) {
  EXPECT_EQ(check("plan > 5"),
            "1:6: found no matching overload for '_>_' applied to '(string, int)'");
  EXPECT_EQ(check("tokens + 0.5 > 1"),
            "1:8: found no matching overload for '_+_' applied to '(int, double)'");
  EXPECT_EQ(check("language.region == 'eu'"), "1:9: type 'string' has no field 'region'");
  EXPECT_EQ(check("tokens.startsWith('1')"),
            "1:7: found no matching overload for 'startsWith' applied to '(int, string)'");
  EXPECT_EQ(check("size(tokens) > 1"),
            "1:1: found no matching overload for 'size' applied to '(int)'");
  EXPECT_EQ(check("plan && true"),
            "1:6: found no matching overload for '_&&_' applied to '(string, bool)'");
  EXPECT_EQ(check("!tokens"), "1:1: found no matching overload for '!_' applied to '(int)'");
  EXPECT_EQ(check("'a' in plan"),
            "1:5: found no matching overload for '@in' applied to '(string, string)'");
  EXPECT_EQ(check("tags['x'] == 'y'"),
            "1:5: found no matching overload for '_[_]' applied to '(list(string), string)'");
  EXPECT_EQ(check("plan.exists(c, c == 'a')"),
            "1:5: expression of type 'string' cannot be the range of a comprehension (a list or a "
            "map is needed)");
  EXPECT_EQ(check("messages.exists(m, size(m))"), "1:20: the predicate must be a bool, not 'int'");
  // nested: the comprehension variable has the element's type
  EXPECT_EQ(check("tags.exists(t, t > 3)"),
            "1:18: found no matching overload for '_>_' applied to '(string, int)'");
}

TEST(Checker, OffWithoutDeclarationsOrWhenAsked) {
  EXPECT_TRUE(compile("plan > 5", Env()).has_value());  // nothing declared: run-time errors only
  Env env = routing_env();
  env.options().check = false;
  EXPECT_TRUE(compile("plan > 5", env).has_value());
}

TEST(Checker, TypeNames) {
  EXPECT_EQ(normalize_type_name("list(string)"), "list(string)");
  EXPECT_EQ(normalize_type_name(" map( string , list(int) ) "), "map(string, list(int))");
  EXPECT_EQ(normalize_type_name("wrapper(int)"), "dyn");
  EXPECT_EQ(normalize_type_name("timestamp"), "google.protobuf.Timestamp");
}

}  // namespace
}  // namespace sy::cel
