#include <algorithm>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "routing/router.h"

namespace sy::routing {
namespace {

const ModelCheck kModels = [](std::string_view id) -> std::optional<std::string> {
  for (std::string_view m : {"openai/gpt-5.2", "anthropic/claude-haiku-4-5", "google/gemini-3-flash",
                             "anthropic/claude-sonnet-4-6", "demo/fast", "demo/smart"}) {
    if (m == id) return std::nullopt;
  }
  return fmt::format("unknown model '{}'", id);
};

// The issue's example, verbatim.
constexpr std::string_view kUserAware = R"({"displayName": "User-Aware",
 "routes": [
   {"condition": {"cel_expression": "language == \"es\""},
    "route": {"variants": [{"variant": {"modelId": "openai/gpt-5.2"}, "weight": 100}]}},
   {"condition": {"cel_expression": "plan == \"free\""},
    "route": {"variants": [{"variant": {"modelId": "anthropic/claude-haiku-4-5"}, "weight": 50},
                           {"variant": {"modelId": "google/gemini-3-flash"}, "weight": 50}]}}],
 "defaultRoute": {"variants": [{"variant": {"modelId": "anthropic/claude-sonnet-4-6"}, "weight": 100}]}})";

Problems problems_of(std::string_view json, std::string_view name = "r") {
  auto r = parse_router(json, kModels, name);
  EXPECT_FALSE(r.has_value()) << json;
  return r ? Problems{} : r.error();
}

// The single problem at `path`, or a failure listing what was found.
std::string problem_at(const Problems& ps, std::string_view path) {
  for (const auto& p : ps) {
    if (p.path == path) return p.message;
  }
  std::string all;
  for (const auto& p : ps) all += fmt::format("[{}: {}] ", p.path, p.message);
  ADD_FAILURE() << "no problem at " << path << "; found " << all;
  return {};
}

TEST(RouterJson, ParsesTheIssueExample) {
  auto r = parse_router(kUserAware, kModels, "user-aware");
  ASSERT_TRUE(r.has_value()) << r.error()[0].path << ": " << r.error()[0].message;
  EXPECT_EQ(r->name, "user-aware");
  EXPECT_EQ(r->display_name, "User-Aware");
  ASSERT_EQ(r->routes.size(), 2u);
  EXPECT_EQ(r->routes[0].name, "route-0");
  EXPECT_EQ(r->routes[1].condition, "plan == \"free\"");
  ASSERT_EQ(r->routes[1].variants.size(), 2u);
  EXPECT_EQ(r->routes[1].variants[1].model_id, "google/gemini-3-flash");
  EXPECT_EQ(r->routes[1].variants[1].name, "google/gemini-3-flash");
  EXPECT_EQ(r->routes[1].variants[1].weight, 50);
  EXPECT_EQ(r->default_route.name, "default");
  EXPECT_EQ(r->stickiness_key, "user");
}

TEST(RouterJson, CanonicalJsonRoundTrips) {
  auto r = parse_router(R"({"routes": [{"name": "coding", "condition": {"cel_expression": "task == 'code'"},
      "route": {"variants": [{"variant": {"modelId": "demo/smart", "name": "smart-t0",
                              "overrides": {"temperature": 0, "maxTokens": 512, "systemPromptPrefix": "Be terse.",
                                            "provider": {"order": ["a", "b"]}}}, "weight": 2.5}],
                "fallbacks": ["demo/fast"]}}],
    "defaultRoute": {"variants": [{"variant": {"modelId": "demo/fast"}, "weight": 1}]},
    "stickinessKey": "session_id", "slashCommands": [{"command": "/code", "route": "coding"},
                                                     {"command": "/fast", "modelId": "demo/fast"}],
    "fallbacks": ["demo/smart"], "failover": {"maxAttempts": 3, "ttftTimeoutMs": 1500, "hedge": true}})",
                        kModels, "x");
  ASSERT_TRUE(r.has_value()) << r.error()[0].path << ": " << r.error()[0].message;
  const Overrides& o = r->routes[0].variants[0].overrides;
  EXPECT_EQ(o.temperature, 0.0);
  EXPECT_EQ(o.max_tokens, 512);
  EXPECT_EQ(o.system_prompt_prefix, "Be terse.");
  EXPECT_EQ(o.provider_json, R"({"order":["a","b"]})");
  EXPECT_EQ(r->failover.ttft_timeout_ms, 1500);
  EXPECT_TRUE(r->failover.hedge);
  const std::string canonical = to_json(*r);
  auto again = parse_router(canonical, kModels);
  ASSERT_TRUE(again.has_value()) << canonical;
  EXPECT_EQ(to_json(*again), canonical);
  RouterMeta meta{.version = 7, .create_time_ms = 1'764'000'000'123, .update_time_ms = 1'764'000'000'123};
  const std::string resource = to_json(*r, &meta);
  EXPECT_NE(resource.find(R"("version":7,"etag":"\"7\"","createTime":"2025-11-24T16:00:00.123Z")"),
            std::string::npos)
      << resource;
  // A resource read back (with its read-only fields) is accepted as input.
  EXPECT_TRUE(parse_router(resource, kModels).has_value());
}

TEST(RouterJson, EveryProblemHasAPathAndAFix) {
  const Problems ps = problems_of(R"({"routes": [
      {"name": "a", "condition": {"cel_expression": "plan == "}, "route": {"variants": [
          {"variant": {"modelID": "demo/fast"}, "weight": 1}]}},
      {"name": "a", "condition": {"cel_expression": "true"}, "route": {"variants": [
          {"variant": {"modelId": "demo/fsat"}, "weight": -1}]}},
      {"name": "b", "condition": {"cel_expression": "true"}, "route": {"variants": [
          {"variant": {"modelId": "demo/fast"}, "weight": 0}, {"variant": {"modelId": "demo/fast"}, "weight": 0}]}}],
    "defaultRoute": {"variants": [], "fallbacks": ["route:b", "route:c"]},
    "slashCommands": [{"command": "code", "route": "nope"}],
    "fallbacks": ["route:default", "demo/fast"],
    "stickinessKey": "session-id"})");
  EXPECT_EQ(problem_at(ps, "routes[0].route.variants[0].variant.modelID"), "unknown field 'modelID'; did you mean 'modelId'?");
  EXPECT_NE(problem_at(ps, "routes[0].route.variants[0].variant.modelId").find("a modelId is required"), std::string::npos);
  const std::string cel = problem_at(ps, "routes[0].condition.cel_expression");
  EXPECT_TRUE(cel.starts_with("1:9: ")) << cel;
  EXPECT_NE(problem_at(ps, "routes[1].name").find("duplicate route name 'a'"), std::string::npos);
  EXPECT_EQ(problem_at(ps, "routes[1].route.variants[0].variant.modelId"), "unknown model 'demo/fsat'");
  EXPECT_EQ(problem_at(ps, "routes[1].route.variants[0].weight"), "must not be negative (got -1)");
  EXPECT_NE(problem_at(ps, "routes[2].route.variants").find("all zero"), std::string::npos);
  EXPECT_NE(problem_at(ps, "routes[2].route.variants[1].variant.name").find("duplicate variant name 'demo/fast'"),
            std::string::npos);
  EXPECT_NE(problem_at(ps, "defaultRoute.variants").find("at least one variant"), std::string::npos);
  EXPECT_NE(problem_at(ps, "slashCommands[0].command").find("must be '/'"), std::string::npos);
  EXPECT_EQ(problem_at(ps, "slashCommands[0].route"), "no route is named 'nope' (routes: 'a', 'a', 'b', 'default')");
  EXPECT_NE(problem_at(ps, "stickinessKey").find("metadata key"), std::string::npos);
  // A fallback may name a route of the router; an unknown one is a problem, a known one is not.
  EXPECT_EQ(problem_at(ps, "defaultRoute.fallbacks[1]"), "no route is named 'c' (routes: 'a', 'a', 'b', 'default')");
  for (std::string_view fine : {"defaultRoute.fallbacks[0]", "fallbacks[0]", "fallbacks[1]"}) {
    EXPECT_TRUE(std::none_of(ps.begin(), ps.end(), [&](const auto& p) { return p.path == fine; })) << fine;
  }
}

TEST(RouterJson, CelErrorsCarryLineAndColumn) {
  const Problems ps = problems_of(R"({"routes": [{"condition": {"cel_expression": "plan ==\n  'free' &&"},
      "route": {"variants": [{"variant": {"modelId": "demo/fast"}, "weight": 1}]}}],
      "defaultRoute": {"variants": [{"variant": {"modelId": "demo/fast"}, "weight": 1}]}})");
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].path, "routes[0].condition.cel_expression");
  EXPECT_EQ(ps[0].line, 2);
  EXPECT_EQ(ps[0].column, 12);
  EXPECT_NE(ps[0].message.find("^"), std::string::npos) << ps[0].message;
}

TEST(RouterJson, ShapeErrors) {
  EXPECT_NE(problem_at(problems_of("{\"routes\": 3"), "").find("not valid JSON"), std::string::npos);
  EXPECT_EQ(problem_at(problems_of("[]"), ""), "must be an object, not an array");
  const Problems ps = problems_of(R"({"routes": {}, "displayName": 5})");
  EXPECT_EQ(problem_at(ps, "routes"), "must be an array of routes, not an object");
  EXPECT_EQ(problem_at(ps, "displayName"), "must be a string, not a number");
  EXPECT_NE(problem_at(ps, "defaultRoute").find("required"), std::string::npos);
  EXPECT_NE(problem_at(problems_of(R"({"name": "x", "defaultRoute": {"variants": [{"variant": {"modelId": "demo/fast"}, "weight": 1}]}})", "y"), "name")
                .find("URL names 'y'"),
            std::string::npos);
  EXPECT_NE(problem_at(problems_of(R"({"defaultRoute": {"variants": [{"variant": {"modelId": "demo/fast"}, "weight": 1}]}})", "Bad Name"), "name")
                .find("not a valid router name"),
            std::string::npos);
  EXPECT_NE(problem_at(problems_of(R"({"routes": [{"route": {"variants": [{"variant": {"modelId": "demo/fast"}, "weight": 1}]}}],
      "defaultRoute": {"variants": [{"variant": {"modelId": "demo/fast"}, "weight": 1}]}})"), "routes[0].condition")
                .find("required"),
            std::string::npos);
}

TEST(RouterJson, MergePatch) {
  auto r = merge_patch(R"({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]})", R"({"a": null, "b": {"c": 9}, "e": [2, 3]})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->find("\"a\""), std::string::npos) << *r;
  EXPECT_NE(r->find(R"("b":{"c":9,"d":3})"), std::string::npos) << *r;
  EXPECT_NE(r->find(R"("e":[2,3])"), std::string::npos) << *r;
  EXPECT_FALSE(merge_patch("{}", "{").has_value());
}

TEST(RouterJson, NamesAndSlugs) {
  EXPECT_TRUE(valid_name("user-aware"));
  EXPECT_TRUE(valid_name("a.b_c-1"));
  EXPECT_FALSE(valid_name("-a"));
  EXPECT_FALSE(valid_name("A"));
  EXPECT_FALSE(valid_name(std::string(65, 'a')));
  EXPECT_EQ(slug("User-Aware  Router!"), "user-aware-router");
  EXPECT_EQ(slug("!!!"), "");
}

}  // namespace
}  // namespace sy::routing
