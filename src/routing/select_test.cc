#include <gtest/gtest.h>

#include <fmt/format.h>

#include <array>
#include <map>

#include "routing/facts.h"
#include "routing/router_set.h"

namespace sy::routing {
namespace {

std::shared_ptr<const CompiledRouter> make(std::string_view json, std::string_view name = "r") {
  auto spec = parse_router(json, nullptr, name);
  EXPECT_TRUE(spec.has_value()) << (spec ? "" : spec.error()[0].path + ": " + spec.error()[0].message);
  auto r = CompiledRouter::compile(std::move(*spec), RouterMeta{.version = 1});
  EXPECT_TRUE(r.has_value());
  return *r;
}

class Headers final : public HeaderSource {
 public:
  explicit Headers(std::vector<std::pair<std::string, std::string>> h) : h_(std::move(h)) {}
  std::string_view get(std::string_view name) const override {
    for (const auto& [n, v] : h_) {
      if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          })) {
        return v;
      }
    }
    return {};
  }
  size_t count() const override { return h_.size(); }
  std::pair<std::string_view, std::string_view> at(size_t i) const override { return {h_[i].first, h_[i].second}; }

 private:
  std::vector<std::pair<std::string, std::string>> h_;
};

// Routes the request body through `router` as the gateway does.
struct Routed {
  Decision decision;
  FactScratch scratch;
};
Routed route(const CompiledRouter& router, std::string_view body, const HeaderSource* headers = nullptr) {
  static constexpr std::array<std::string_view, 5> kKeys{"model", "stream", "messages", "metadata", "user"};
  std::array<json::Field, 5> f;
  EXPECT_TRUE(json::scan_object(body, kKeys, f)) << body;
  RequestView req{.body = body,
                  .model = f[0].raw.size() >= 2 ? f[0].raw.substr(1, f[0].raw.size() - 2) : "",
                  .stream = f[1].kind == json::Kind::kTrue,
                  .messages = f[2],
                  .metadata = f[3],
                  .user = f[4],
                  .headers = headers};
  Routed out;
  cel::Activation act;
  bind_facts(router, req, act, out.scratch);
  const SlashCommand* cmd = out.scratch.last_user.found ? router.command_of(out.scratch.last_user.text) : nullptr;
  out.decision = router.select(act, out.scratch.sticky_key, cmd);
  return out;
}

std::string quoted(std::string_view s) {
  std::string out;
  json::append_quoted(out, s);
  return out;
}

std::string one_route(std::string_view condition) {
  return fmt::format(R"({{"routes": [{{"name": "hit", "condition": {{"cel_expression": {}}},
      "route": {{"variants": [{{"variant": {{"modelId": "demo/smart"}}, "weight": 1}}]}}}}],
      "defaultRoute": {{"variants": [{{"variant": {{"modelId": "demo/fast"}}, "weight": 1}}]}}}})",
                     quoted(condition));
}

std::string_view route_of(std::string_view condition, std::string_view body, const HeaderSource* h = nullptr) {
  static std::vector<std::shared_ptr<const CompiledRouter>> keep;
  keep.push_back(make(one_route(condition)));
  static std::string last;
  last = std::string(route(*keep.back(), body, h).decision.route_name);
  return last;
}

constexpr std::string_view kTwoRoutes = R"({"routes": [
   {"name": "spanish", "condition": {"cel_expression": "language == 'es'"},
    "route": {"variants": [{"variant": {"modelId": "demo/smart"}, "weight": 100}]}},
   {"name": "free", "condition": {"cel_expression": "plan == 'free'"},
    "route": {"variants": [{"variant": {"modelId": "demo/cheap"}, "weight": 50},
                           {"variant": {"modelId": "demo/fast"}, "weight": 50}]}}],
 "defaultRoute": {"variants": [{"variant": {"modelId": "demo/fast"}, "weight": 100}]}})";

TEST(Select, FirstTrueConditionWinsElseDefault) {
  auto r = make(kTwoRoutes);
  auto a = route(*r, R"({"model":"switchyard/r","messages":[],"metadata":{"language":"es","plan":"free"}})");
  EXPECT_EQ(a.decision.route_name, "spanish");
  EXPECT_EQ(a.decision.model_id, "demo/smart");
  EXPECT_EQ(a.decision.reason(), "routes[0] 'spanish' matched: language == 'es'");

  auto b = route(*r, R"({"model":"switchyard/r","messages":[],"metadata":{"language":"en","plan":"free"},"user":"u1"})");
  EXPECT_EQ(b.decision.route_name, "free");
  EXPECT_TRUE(b.decision.sticky);
  EXPECT_TRUE(b.decision.reason().starts_with("routes[0] 'spanish': false; routes[1] 'free' matched: plan == 'free'; variant '"))
      << b.decision.reason();
  EXPECT_NE(b.decision.reason().find("by user"), std::string::npos);

  // A missing key is an error that counts as false, reported in the reason, never a failure.
  auto c = route(*r, R"({"model":"switchyard/r","messages":[]})");
  EXPECT_EQ(c.decision.route_name, "default");
  EXPECT_EQ(c.decision.model_id, "demo/fast");
  EXPECT_NE(c.decision.reason().find("routes[0] 'spanish': error at 1:1: unknown variable: language (counts as false)"), std::string::npos)
      << c.decision.reason();
  EXPECT_NE(c.decision.reason().find("no condition matched: defaultRoute"), std::string::npos);
}

TEST(Select, MetadataThenHeaderThenTopLevelField) {
  const Headers h({{"X-Switchyard-Meta-Plan", "pro"}, {"x-switchyard-meta-tier", "gold"}});
  EXPECT_EQ(route_of("plan == 'free'", R"({"metadata":{"plan":"free"},"plan":"pro"})", &h), "hit");
  EXPECT_EQ(route_of("plan == 'pro'", R"({"plan":"free"})", &h), "hit");
  EXPECT_EQ(route_of("tier == 'gold'", R"({"messages":[]})", &h), "hit");
  EXPECT_EQ(route_of("plan == 'free'", R"({"messages":[],"plan":"free"})"), "hit");  // extra_body
  EXPECT_EQ(route_of("tokens > 1000 && beta", R"({"metadata":{"tokens":1200,"beta":true}})"), "hit");
  EXPECT_EQ(route_of("org.team == 'x'", R"({"metadata":{"org":{"team":"x"}}})"), "hit");
  EXPECT_EQ(route_of("name == 'a\"b'", R"({"metadata":{"name":"a\"b"}})"), "hit");
}

TEST(Select, BuiltIns) {
  const Headers h({{"X-Region", "eu-west-1"}, {"Authorization", "Bearer secret"}, {"x-switchyard-user", "hdr-user"}});
  const std::string_view body = R"({"model":"switchyard/r","stream":true,"user":"u-7",
      "messages":[{"role":"system","content":"be brief"},
                  {"role":"user","content":[{"type":"text","text":"first"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"second"}]},
                  {"role":"assistant","content":"ok"},{"role":"user","content":"please translate\nthis"}]})";
  EXPECT_EQ(route_of("user == 'u-7'", body, &h), "hit");
  EXPECT_EQ(route_of("model == 'switchyard/r'", body, &h), "hit");
  EXPECT_EQ(route_of("stream", body, &h), "hit");
  EXPECT_EQ(route_of("message_count == 4", body, &h), "hit");
  EXPECT_EQ(route_of("messages[0].role == 'system' && messages[1].content == 'first\\nsecond'", body, &h), "hit");
  EXPECT_EQ(route_of("messages.exists(m, m.role == 'assistant')", body, &h), "hit");
  EXPECT_EQ(route_of("last_user_message.startsWith('please translate')", body, &h), "hit");
  EXPECT_EQ(route_of("headers['x-region'].startsWith('eu-')", body, &h), "hit");
  EXPECT_EQ(route_of("!('authorization' in headers)", body, &h), "hit");
  EXPECT_EQ(route_of("now > timestamp('2020-01-01T00:00:00Z')", body, &h), "hit");
  EXPECT_EQ(route_of("now.getFullYear() < 2000", body, &h), "default");
  // user: the body's field, else metadata.user / metadata.user_id, else the x-switchyard-user header.
  EXPECT_EQ(route_of("user == 'm-1'", R"({"metadata":{"user_id":"m-1"}})", &h), "hit");
  EXPECT_EQ(route_of("user == 'hdr-user'", R"({"messages":[]})", &h), "hit");
}

TEST(Select, StickyVariantsSplitByWeightWithinOnePercent) {
  auto r = make(R"({"routes": [], "defaultRoute": {"variants": [
      {"variant": {"modelId": "demo/fast"}, "weight": 50}, {"variant": {"modelId": "demo/smart"}, "weight": 30},
      {"variant": {"modelId": "demo/cheap"}, "weight": 20}]}})");
  std::map<std::string_view, int> counts;
  constexpr int kUsers = 100'000;
  for (int i = 0; i < kUsers; ++i) {
    const std::string key = fmt::format("user-{}", i);
    const Variant& v = r->default_route().pick(key);
    ++counts[v.model_id];
    if (i % 1000 == 0) {
      EXPECT_EQ(&r->default_route().pick(key), &v);  // the same every time
    }
  }
  EXPECT_NEAR(counts["demo/fast"] / double(kUsers), 0.50, 0.01);
  EXPECT_NEAR(counts["demo/smart"] / double(kUsers), 0.30, 0.01);
  EXPECT_NEAR(counts["demo/cheap"] / double(kUsers), 0.20, 0.01);
}

TEST(Select, ReweightingMovesOnlyTheUsersItMust) {
  auto weights = [](int a, int b) {
    return make(fmt::format(R"({{"routes": [], "defaultRoute": {{"variants": [
        {{"variant": {{"modelId": "demo/fast"}}, "weight": {}}}, {{"variant": {{"modelId": "demo/smart"}}, "weight": {}}}]}}}})",
                            a, b));
  };
  auto before = weights(50, 50);
  auto after = weights(60, 40);
  int moved = 0, moved_to_smart = 0;
  constexpr int kUsers = 100'000;
  for (int i = 0; i < kUsers; ++i) {
    const std::string key = fmt::format("user-{}", i);
    const auto& a = before->default_route().pick(key).model_id;
    const auto& b = after->default_route().pick(key).model_id;
    moved += a != b;
    moved_to_smart += a != b && b == "demo/smart";
  }
  EXPECT_NEAR(moved / double(kUsers), 0.10, 0.01);
  EXPECT_EQ(moved_to_smart, 0);  // raising fast's weight only pulls users to fast
}

TEST(Select, SameUserSameVariantAcrossCompiles) {
  // No stored state: two compiles of the same router (a restart, another replica) agree.
  auto a = make(kTwoRoutes, "prod");
  auto b = make(kTwoRoutes, "prod");
  for (int i = 0; i < 1000; ++i) {
    const std::string body = fmt::format(R"({{"metadata":{{"plan":"free"}},"user":"u{}"}})", i);
    EXPECT_EQ(route(*a, body).decision.model_id, route(*b, body).decision.model_id);
  }
}

TEST(Select, WithoutAKeyTheSplitIsRandomByWeight) {
  auto r = make(kTwoRoutes);
  std::map<std::string_view, int> counts;
  for (int i = 0; i < 20'000; ++i) {
    auto d = route(*r, R"({"metadata":{"plan":"free"}})").decision;
    EXPECT_FALSE(d.sticky);
    ++counts[d.model_id];
  }
  EXPECT_NEAR(counts["demo/cheap"] / 20'000.0, 0.5, 0.02);
  auto d = route(*r, R"({"metadata":{"plan":"free"}})").decision;
  EXPECT_NE(d.reason().find("at random: no user"), std::string::npos) << d.reason();
}

TEST(Select, StickinessKeyFromMetadata) {
  auto r = make(R"({"stickinessKey": "session_id", "routes": [], "defaultRoute": {"variants": [
      {"variant": {"modelId": "demo/fast"}, "weight": 1}, {"variant": {"modelId": "demo/smart"}, "weight": 1}]}})");
  auto d = route(*r, R"({"metadata":{"session_id":"s-1"},"user":"ignored"})");
  EXPECT_TRUE(d.decision.sticky);
  EXPECT_EQ(d.scratch.sticky_key, "s-1");
  const Headers h(std::vector<std::pair<std::string, std::string>>{{"x-switchyard-meta-session_id", "s-1"}});
  EXPECT_EQ(route(*r, R"({"messages":[]})", &h).decision.model_id, d.decision.model_id);
}

TEST(Select, SlashCommands) {
  auto r = make(R"({"routes": [{"name": "coding", "condition": {"cel_expression": "false"},
      "route": {"variants": [{"variant": {"modelId": "demo/smart"}, "weight": 1}]}}],
    "defaultRoute": {"variants": [{"variant": {"modelId": "demo/fast"}, "weight": 1}]},
    "slashCommands": [{"command": "/code", "route": "coding"}, {"command": "/cheap", "modelId": "demo/cheap"}]})");
  auto a = route(*r, R"({"messages":[{"role":"user","content":"/cheap hi"},{"role":"user","content":"/code fix it"}]})");
  EXPECT_EQ(a.decision.route_name, "coding");
  EXPECT_EQ(a.decision.model_id, "demo/smart");
  EXPECT_EQ(a.decision.reason(), "slash command '/code' names route 'coding'");
  EXPECT_EQ(a.scratch.last_user.token.raw, R"("/code fix it")");
  auto b = route(*r, R"({"messages":[{"role":"user","content":[{"type":"text","text":"/cheap"}]}]})");
  EXPECT_EQ(b.decision.model_id, "demo/cheap");
  EXPECT_EQ(b.decision.variant, nullptr);
  EXPECT_EQ(route(*r, R"({"messages":[{"role":"user","content":"/codex hi"}]})").decision.model_id, "demo/fast");
  EXPECT_EQ(route(*r, R"({"messages":[{"role":"user","content":"use /code"}]})").decision.model_id, "demo/fast");
}

TEST(RouterSet, FindWithWithout) {
  auto a = make(one_route("true"), "a");
  auto b = make(one_route("true"), "b");
  RouterSet set({b, a});
  EXPECT_EQ(set.find("a"), a.get());
  EXPECT_EQ(set.find("c"), nullptr);
  auto b2 = make(one_route("false"), "b");
  auto next = set.with(b2);
  EXPECT_EQ(next->find("b"), b2.get());
  EXPECT_EQ(set.find("b"), b.get());  // the old set is untouched
  EXPECT_EQ(next->without("a")->find("a"), nullptr);
}

}  // namespace
}  // namespace sy::routing
