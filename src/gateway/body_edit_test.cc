#include <gtest/gtest.h>

#include <array>

#include "gateway/body_edit.h"

namespace sy::gateway {
namespace {

constexpr std::array<std::string_view, 4> kKeys{"model", "temperature", "plan", "messages"};

struct Scanned {
  std::string body;
  std::array<json::Field, 4> f;
};

Scanned scan(std::string body) {
  Scanned s{std::move(body), {}};
  EXPECT_TRUE(json::scan_object(s.body, kKeys, s.f));
  return s;
}

TEST(BodyEdits, NoEditsIsTheBodyItself) {
  auto s = scan(R"({"model":"a","messages":[]})");
  BodyEdits e(s.body);
  EXPECT_EQ(e.parts().size(), 1u);
  EXPECT_EQ(e.str(), s.body);
}

TEST(BodyEdits, ReplaceSetInsertRemove) {
  auto s = scan(R"({ "plan" : "free", "model":"a","temperature":1,"messages":[{"role":"user","content":"hi"}]})");
  BodyEdits e(s.body);
  e.replace(s.f[0], "\"demo/fast\"");
  e.set_field(s.f[1], "temperature", "0.2");
  e.set_field(json::Field{}, "max_tokens", "64");
  EXPECT_TRUE(e.remove_field(s.f[2], "plan"));
  e.insert_first(s.f[3], R"({"role":"system","content":"be brief"})");
  const std::string out = e.str();
  EXPECT_EQ(out, R"({"max_tokens":64,  "model":"demo/fast","temperature":0.2,)"
                 R"("messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]})");
  EXPECT_TRUE(json::validate(out));
}

TEST(BodyEdits, RemovingTheLastFieldTakesTheCommaBefore) {
  auto s = scan(R"({"model":"a","messages":[],"plan":"free" })");
  BodyEdits e(s.body);
  EXPECT_TRUE(e.remove_field(s.f[2], "plan"));
  EXPECT_EQ(e.str(), R"({"model":"a","messages":[] })");
  // An escaped key is not what remove_field expects: left alone.
  auto t = scan(R"({"model":"a","pl\u0061n":"free"})");
  BodyEdits e2(t.body);
  EXPECT_FALSE(e2.remove_field(t.f[2], "plan"));
  EXPECT_EQ(e2.str(), t.body);
}

TEST(BodyEdits, InsertIntoEmptyArrayHasNoComma) {
  auto s = scan(R"({"model":"a","messages":[ ]})");
  BodyEdits e(s.body);
  e.insert_first(s.f[3], R"({"role":"system","content":"x"})");
  EXPECT_EQ(e.str(), R"({"model":"a","messages":[{"role":"system","content":"x"} ]})");
}

TEST(BodyEdits, UpdateReplacesAnEarlierReplacement) {
  auto s = scan(R"({"model":"a","stream":true})");
  BodyEdits e(s.body);
  e.update(s.f[0], R"("first")");  // nothing to update yet: a replacement
  e.update(s.f[0], R"("second")");
  EXPECT_EQ(e.str(), R"({"model":"second","stream":true})");
}

}  // namespace
}  // namespace sy::gateway
