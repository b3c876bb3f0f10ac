#include <gtest/gtest.h>

#include <thread>

#include "cel/cel.h"

namespace sy::cel {
namespace {

Value eval_ok(std::string_view expr, std::string_view vars = "{}") {
  auto p = compile(expr, Env());
  EXPECT_TRUE(p.has_value()) << expr << ": " << (p ? "" : p.error().to_string());
  if (!p) return Value::error("compile");
  auto act = Activation::from_json(vars);
  EXPECT_TRUE(act.has_value());
  auto v = p->evaluate(*act);
  EXPECT_TRUE(v.has_value()) << expr << ": " << (v ? "" : v.error().message);
  return v ? *v : Value::error("eval");
}

bool truthy(std::string_view expr, std::string_view vars = "{}") {
  Value v = eval_ok(expr, vars);
  return v.is_bool() && v.as_bool();
}

std::string eval_error(std::string_view expr, std::string_view vars = "{}") {
  auto p = compile(expr, Env());
  if (!p) return "compile: " + p.error().message;
  auto act = Activation::from_json(vars);
  auto v = p->evaluate(*act);
  return v ? "" : v.error().message;
}

constexpr std::string_view kMeta =
    R"({"language":"es","plan":"free","tokens":1200,"score":0.75,)"
    R"("headers":{"x-region":"eu-west-1"},"messages":[{"role":"user","content":"hola"}]})";

TEST(Eval, RoutingRules) {
  EXPECT_TRUE(truthy("language == 'es'", kMeta));
  EXPECT_TRUE(truthy("plan in ['free', 'trial'] && tokens > 1000", kMeta));
  EXPECT_TRUE(truthy("headers['x-region'].startsWith('eu-')", kMeta));
  EXPECT_TRUE(truthy("messages.exists(m, m.role == 'user' && m.content.matches('^ho'))", kMeta));
  EXPECT_TRUE(truthy("size(messages) == 1 && score >= 0.5", kMeta));
  EXPECT_FALSE(truthy("has(headers.authorization)", kMeta));
}

TEST(Eval, VariablesListsWhatAnActivationMustBind) {
  auto p = compile("plan == 'free' && messages.exists(m, m.role == user) && a.b.c > 1 && .top");
  ASSERT_TRUE(p.has_value());
  // Comprehension variables are not free; a dotted name may be a variable or a field path.
  EXPECT_EQ(p->variables(), (std::vector<std::string>{"a", "a.b", "a.b.c", "messages", "plan", "top", "user"}));
  auto q = compile("1 + 2 == 3");
  ASSERT_TRUE(q.has_value());
  EXPECT_TRUE(q->variables().empty());
}

TEST(Eval, ActivationStringsAreViews) {
  const std::string json = R"({"language":"es","esc":"a\nb"})";
  auto act = Activation::from_json(json);
  ASSERT_TRUE(act.has_value());
  const Value* v = act->find("language");
  ASSERT_NE(v, nullptr);
  EXPECT_GE(v->str().data(), json.data());
  EXPECT_LT(v->str().data(), json.data() + json.size());
  EXPECT_EQ(act->find("esc")->str(), "a\nb");
}

TEST(Eval, ErrorsAreValuesAbsorbedByLogic) {
  EXPECT_TRUE(truthy("missing.field == 1 || true"));
  EXPECT_TRUE(truthy("true || 1 / 0 == 1"));
  EXPECT_FALSE(truthy("1 / 0 == 1 && false"));
  EXPECT_NE(eval_error("1 / 0 == 1 || false"), "");
  EXPECT_NE(eval_error("missing == 1").find("unknown variable"), std::string::npos);
}

// Where an evaluation error arose: "line:column" of the innermost node whose value is the error.
std::string error_at(std::string_view expr, std::string_view vars = "{}") {
  auto p = compile(expr, Env());
  if (!p) return "compile: " + p.error().message;
  auto v = p->evaluate(*Activation::from_json(vars));
  if (v) return "no error";
  return std::to_string(v.error().line) + ":" + std::to_string(v.error().column);
}

TEST(Eval, ErrorsSayWhereTheyArose) {
  // the index, not the comparison around it
  EXPECT_EQ(error_at(R"(headers["x-tier"] == "gold")", R"({"headers":{}})"), "1:8");
  EXPECT_EQ(error_at("tokens > 1 && 10 / zero > 1", R"({"tokens":5,"zero":0})"), "1:18");
  EXPECT_EQ(error_at("plan == 'free' &&\n  size(missing) > 0", R"({"plan":"free"})"), "2:8");
  // an error absorbed by || is forgotten; the one that ends the evaluation is reported
  EXPECT_EQ(error_at("(nope.a || true) && 1 / 0 == 0"), "1:23");
  EXPECT_EQ(error_at("nope.a || true"), "no error");
  auto p = compile(R"(headers["x-tier"] == "gold")", Env());
  auto v = p->evaluate(*Activation::from_json(R"({"headers":{}})"));
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().to_string(), "1:8: no such key: \"x-tier\"\n | headers[\"x-tier\"] == \"gold\"\n | .......^");
}

TEST(Eval, Arithmetic) {
  EXPECT_EQ(eval_error("9223372036854775807 + 1"), "integer overflow");
  EXPECT_EQ(eval_error("-9223372036854775808 - 1"), "integer overflow");
  EXPECT_EQ(eval_error("0u - 1u"), "integer overflow");
  EXPECT_EQ(eval_error("1 / 0"), "division by zero");
  EXPECT_EQ(eval_ok("7 % 3").as_int(), 1);
  EXPECT_TRUE(truthy("1 == 1.0 && 1u == 1 && 2 > 1.5 && 3u < 4"));
  EXPECT_NE(eval_error("1 + 1u"), "");
}

TEST(Eval, StringsAndConversions) {
  EXPECT_EQ(eval_ok("'ab' + 'c'").str(), "abc");
  EXPECT_EQ(eval_ok("size('héllo')").as_int(), 5);
  EXPECT_EQ(eval_ok("string(1.5)").str(), "1.5");
  EXPECT_EQ(eval_ok("int('-42')").as_int(), -42);
  EXPECT_EQ(eval_ok("'a,b,c'.split(',').join('-')").str(), "a-b-c");
  EXPECT_EQ(eval_ok("'%s has %d'.format(['x', 3])").str(), "x has 3");
  EXPECT_EQ(eval_ok("type(1) == int").as_bool(), true);
}

TEST(Eval, MacrosAndOptionals) {
  EXPECT_EQ(eval_ok("[1, 2, 3].map(x, x * 2)").size(), 3u);
  EXPECT_EQ(eval_ok("[1, 2, 3].filter(x, x > 1)").size(), 2u);
  EXPECT_TRUE(truthy("[1, 2, 3].exists_one(x, x == 2)"));
  EXPECT_TRUE(truthy("{'a': 1}.?b.orValue(5) == 5"));
  EXPECT_TRUE(truthy("cel.bind(x, 3, x * x) == 9"));
  EXPECT_TRUE(truthy("[1, 2].transformList(i, v, i + v) == [1, 3]"));
}

TEST(Eval, Timestamps) {
  EXPECT_EQ(eval_ok("timestamp('2009-02-13T23:31:30Z').getHours('America/Los_Angeles')").as_int(), 15);
  EXPECT_EQ(eval_ok("duration('1h30m').getMinutes()").as_int(), 90);
  EXPECT_EQ(eval_ok("string(timestamp('2024-01-01T00:00:00Z') + duration('1.5s'))").str(),
            "2024-01-01T00:00:01.5Z");
}

TEST(Eval, DeclaredVariablesAreChecked) {
  Env env;
  env.declare("language", "string");
  EXPECT_TRUE(compile("language == 'es'", env).has_value());
  auto bad = compile("lang == 'es'", env);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("undeclared reference to 'lang'"), std::string::npos);
  EXPECT_EQ(bad.error().column, 1);
}

TEST(Eval, ContainerResolution) {
  Env env;
  env.container("a.b");
  auto p = compile("c", env);
  ASSERT_TRUE(p.has_value());
  Activation act;
  act.bind("a.b.c", Value::integer(1)).bind("c", Value::integer(2));
  EXPECT_EQ(p->evaluate(act)->as_int(), 1);
}

TEST(Eval, ConcurrentEvaluation) {
  auto p = compile("messages.map(m, m.role + '!').exists(r, r == 'user!') && language == 'es'", Env());
  ASSERT_TRUE(p.has_value());
  const std::string json(kMeta);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      auto act = Activation::from_json(json);
      for (int i = 0; i < 2000; ++i) {
        auto v = p->evaluate(*act);
        if (v && v->as_bool()) ok.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 8000);
}

}  // namespace
}  // namespace sy::cel
