// Inputs found by the fuzzer (tests/fuzz): each one once crashed, hung or leaked. They run
// the way tests/fuzz/cel_fuzz.cc runs them: compiled unchecked and checked, then evaluated.
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "cel/cel.h"

namespace sy::cel {
namespace {

Env checked() {
  Env env;
  env.declare("language", "string").declare("tokens", "int");
  return env;
}

// "ok" ("false" for a false bool), "compile: ..." or "eval: ...": every input must end in one
// of them, never a crash.
std::string outcome(std::string_view expr, const Env& env) {
  auto p = compile(expr, env);
  if (!p) {
    return "compile: " + p.error().to_string();
  }
  auto act = Activation::from_json(R"({"language":"es","tokens":3})");
  if (!act) {
    return "activation";
  }
  auto v = p->evaluate(*act);
  if (!v) {
    return "eval: " + v.error().message;
  }
  return v->is_bool() && !v->as_bool() ? "false" : "ok";
}

// An undeclared variable on one side of == / != made the planner return a null node for the
// other side, which the constant-comparison shortcut then dereferenced.
TEST(FuzzRegression, UndeclaredOperandOfComparisonWithConstant) {
  EXPECT_NE(outcome("x != 9.8", checked()).find("undeclared reference to 'x'"), std::string::npos);
  EXPECT_NE(outcome("9.8 == x", checked()).find("undeclared reference to 'x'"), std::string::npos);
  EXPECT_NE(outcome("[x, 1] == [1, 1]", checked()).find("undeclared"), std::string::npos);
  EXPECT_NE(outcome("{x: 1} == {1: 1}", checked()).find("undeclared"), std::string::npos);
  EXPECT_EQ(outcome("language != 'en' && tokens == 3", checked()), "ok");
}

// A time zone name that is a directory of the tz database ("America", "America//") made the
// zone loader's ifstream throw from inside istreambuf_iterator: std::terminate.
TEST(FuzzRegression, TimeZoneNameThatIsADirectory) {
  for (std::string_view tz : {"America", "America//", "America/", "Etc/"}) {
    const std::string expr =
        "timestamp('2009-03-13T02:00:00Z').getDayOfMonth('" + std::string(tz) + "')";
    EXPECT_NE(outcome(expr, Env()).find("unknown time zone"), std::string::npos) << tz;
  }
  EXPECT_EQ(outcome("timestamp('2009-03-13T02:00:00Z').getHours('America/New_York') == 22", Env()),
            "ok");
}

// Ordering a string or bytes value against another kind read the other operand as text (a
// bad downcast, UBSan) while charging the comparison's work.
TEST(FuzzRegression, OrderingTextAgainstAnotherKind) {
  for (std::string_view expr : {"b'x' > {'a': 1}", "'x' < [1]", "'x' >= 1", "b'' <= 'a'"}) {
    EXPECT_NE(outcome(expr, Env()).find("no such overload"), std::string::npos) << expr;
  }
  EXPECT_EQ(outcome("'a' < 'b' && b'a' < b'b'", Env()), "ok");
}

// Not a fuzzer finding, found beside one: once 1,000 distinct unknown names had been cached,
// every zone not yet loaded was reported unknown.
TEST(ZoneCache, ManyUnknownNamesDoNotHideValidOnes) {
  auto p = compile("[ts.getHours(tz)].exists(h, h >= 0)", Env());
  ASSERT_TRUE(p.has_value());
  for (int i = 0; i < 1100; ++i) {
    Activation act;
    act.bind("ts", Value::timestamp(0, 0))
        .bind("tz", Value::string("No/Such_Zone_" + std::to_string(i)));
    EXPECT_FALSE(p->evaluate(act).has_value());
  }
  Activation act;
  act.bind("ts", Value::timestamp(0, 0)).bind("tz", Value::string_view("Asia/Tokyo"));
  auto v = p->evaluate(act);
  ASSERT_TRUE(v.has_value()) << v.error().message;
}

// Long digit runs in a duration string overflowed the 128-bit nanosecond arithmetic (UBSan).
TEST(FuzzRegression, DurationDigitsOverflow) {
  const std::string nines(40, '9');
  for (std::string_view unit : {"h", "m", "s", "ms", "ns"}) {
    const std::string u(unit);
    EXPECT_EQ(outcome("duration('9." + nines + u + "') >= duration('9" + u + "')", Env()), "ok")
        << u;
    EXPECT_NE(outcome("duration('" + nines + u + "')", Env()).find("invalid duration"),
              std::string::npos);
  }
  EXPECT_EQ(outcome("duration('1." + nines + "s') == duration('1.999999999s')", Env()), "ok");
  EXPECT_EQ(outcome("duration('0." + nines + "h') < duration('1h')", Env()), "ok");
}

}  // namespace
}  // namespace sy::cel
