// Routers end to end: the /router/v1/routers API over HTTP, routed requests, persistence across
// restarts and kill -9, and live changes under a streaming load.
#include <signal.h>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "harness.h"
#include "process.h"

namespace sy::testing {
namespace {

using http::Header;

constexpr std::string_view kAdminKey = "adm-secret";
constexpr std::string_view kGatewayKey = "sk-gw-1";

std::string router_doc(std::string_view default_model, std::string_view extra = "") {
  return fmt::format(R"({{"routes": [
      {{"name": "spanish", "condition": {{"cel_expression": "language == 'es'"}},
        "route": {{"variants": [{{"variant": {{"modelId": "mock/echo"}}, "weight": 100}}]}}}},
      {{"name": "free", "condition": {{"cel_expression": "plan == 'free'"}},
        "route": {{"variants": [{{"variant": {{"modelId": "mock/len-3/seed-1", "name": "a"}}, "weight": 50}},
                               {{"variant": {{"modelId": "mock/len-3/seed-2", "name": "b"}}, "weight": 50}}]}}}}],
      "defaultRoute": {{"variants": [{{"variant": {{"modelId": "{}"}}, "weight": 100}}]}}{}}})",
                     default_model, extra);
}

class Routers : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mock_ = new Process({SY_BINARY, "mock-upstream", "--port", "0"});
    mock_port_ = port_in(mock_->wait_for_line("listening on"));
    ASSERT_GT(mock_port_, 0) << mock_->output();
  }
  static void TearDownTestSuite() { delete mock_; }

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("switchyard-routers-{}-{}", getpid(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "switchyard.yaml") << fmt::format(R"(demo: false
database: {}
admin_key: {}
api_keys: [{}]
providers:
  - name: mock
    base_url: http://127.0.0.1:{}/v1
    models: '*'
  - name: priced
    base_url: http://127.0.0.1:{}/v1
    models: [fast, smart]
  - name: claude
    kind: anthropic
    base_url: http://127.0.0.1:{}/v1
    models: '*'
routers:
  seeded:
    displayName: From the file
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: priced/fast}}, weight: 1}}]}}
)",
                                                           (dir_ / "switchyard.db").string(), kAdminKey, kGatewayKey,
                                                           mock_port_, mock_port_, mock_port_);
    start();
  }
  void TearDown() override {
    gw_.reset();
    std::filesystem::remove_all(dir_);
  }

  void start() {
    gw_ = std::make_unique<Process>(std::vector<std::string>{SY_BINARY, "serve", "--config", (dir_ / "switchyard.yaml").string(),
                                                             "--listen", "127.0.0.1:0", "--workers", "2"});
    port_ = port_in(gw_->wait_for_line("listening on"));
    ASSERT_GT(port_, 0) << gw_->output();
  }

  Reply admin(std::string_view method, std::string_view target, std::string_view body = "",
              std::string_view key = kAdminKey, std::string_view if_match = "") const {
    const std::string auth = fmt::format("Bearer {}", key);
    std::array<Header, 2> h{Header{"authorization", auth}, Header{"if-match", if_match}};
    return call(port_, method, target, body, std::span(h.data(), if_match.empty() ? 1 : 2));
  }

  Reply chat(std::string_view body, std::span<const Header> extra = {}) const {
    std::vector<Header> h{{"authorization", "Bearer sk-gw-1"}};
    h.insert(h.end(), extra.begin(), extra.end());
    return call(port_, "POST", "/v1/chat/completions", body, h);
  }

  static inline Process* mock_ = nullptr;
  static inline int mock_port_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<Process> gw_;
  int port_ = 0;
};

TEST_F(Routers, CreateGetListUpdateDelete) {
  Reply c = admin("POST", "/router/v1/routers", R"({"name": "prod",)" + router_doc("mock/len-2").substr(1));
  ASSERT_EQ(c.status, 201) << c.body;
  EXPECT_EQ(c.header("etag"), "\"1\"");
  EXPECT_EQ(c.header("location"), "/router/v1/routers/prod");
  EXPECT_NE(c.body.find(R"("version":1)"), std::string::npos);

  // Name from the display name, then generated.
  Reply d = admin("POST", "/router/v1/routers", R"({"displayName": "Support Bot",)" + router_doc("mock/len-2").substr(1));
  ASSERT_EQ(d.status, 201) << d.body;
  EXPECT_NE(d.body.find(R"("name":"support-bot")"), std::string::npos) << d.body;
  Reply e = admin("POST", "/router/v1/routers", R"({"displayName": "Support Bot",)" + router_doc("mock/len-2").substr(1));
  ASSERT_EQ(e.status, 201) << e.body;
  EXPECT_NE(e.body.find(R"("name":"router-)"), std::string::npos) << e.body;

  Reply dup = admin("POST", "/router/v1/routers", R"({"name": "prod",)" + router_doc("mock/len-2").substr(1));
  EXPECT_EQ(dup.status, 409) << dup.body;
  EXPECT_NE(dup.body.find("already exists"), std::string::npos);

  Reply g = admin("GET", "/router/v1/routers/prod");
  ASSERT_EQ(g.status, 200);
  EXPECT_EQ(g.header("etag"), "\"1\"");

  // Pages of two, by name: prod, router-..., seeded, support-bot.
  Reply p1 = admin("GET", "/router/v1/routers?pageSize=2");
  ASSERT_EQ(p1.status, 200) << p1.body;
  EXPECT_NE(p1.body.find(R"("nextPageToken":")"), std::string::npos) << p1.body;
  const size_t at = p1.body.find(R"("nextPageToken":")") + 17;
  const std::string token = p1.body.substr(at, p1.body.find('"', at) - at);
  Reply p2 = admin("GET", "/router/v1/routers?pageSize=2&pageToken=" + token);
  EXPECT_NE(p2.body.find(R"("name":"support-bot")"), std::string::npos) << p2.body;
  EXPECT_EQ(p2.body.find("nextPageToken"), std::string::npos) << p2.body;
  EXPECT_EQ(admin("GET", "/router/v1/routers?pageSize=0").status, 400);

  // PUT with a stale etag: 412, nothing changes; with the right one: version 2.
  Reply stale = admin("PUT", "/router/v1/routers/prod", router_doc("mock/len-3"), kAdminKey, "\"7\"");
  EXPECT_EQ(stale.status, 412) << stale.body;
  EXPECT_NE(stale.body.find("is at version 1"), std::string::npos) << stale.body;
  Reply put = admin("PUT", "/router/v1/routers/prod", router_doc("mock/len-3"), kAdminKey, "\"1\"");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.header("etag"), "\"2\"");

  // PATCH: a merge patch on the stored document.
  Reply patch = admin("PATCH", "/router/v1/routers/prod", R"({"displayName": "Production", "routes": null})", kAdminKey, "\"2\"");
  ASSERT_EQ(patch.status, 200) << patch.body;
  EXPECT_NE(patch.body.find(R"("displayName":"Production")"), std::string::npos);
  EXPECT_NE(patch.body.find(R"("routes":[])"), std::string::npos) << patch.body;
  EXPECT_EQ(patch.header("etag"), "\"3\"");

  // PUT creates when absent.
  EXPECT_EQ(admin("PUT", "/router/v1/routers/fresh", router_doc("mock/len-2")).status, 201);

  Reply del = admin("DELETE", "/router/v1/routers/prod", "", kAdminKey, "\"3\"");
  EXPECT_EQ(del.status, 204) << del.body;
  EXPECT_EQ(admin("GET", "/router/v1/routers/prod").status, 404);
  EXPECT_EQ(admin("DELETE", "/router/v1/routers/prod").status, 404);
  EXPECT_EQ(admin("PATCH", "/router/v1/routers/nope", "{}").status, 404);
  EXPECT_EQ(admin("POST", "/router/v1/routers/prod:evaluate", "{}").status, 404);
  EXPECT_EQ(admin("DELETE", "/router/v1/routers").status, 405);
}

TEST_F(Routers, EveryValidationErrorHasAPathAndAMessage) {
  struct Case {
    std::string body;
    std::string path;
    std::string message;
  };
  const std::vector<Case> cases{
      {"{", "", "not valid JSON"},
      {R"({"name": "x", "routes": [{"condition": {"cel_expression": "plan =="}, "route": {"variants": [{"variant": {"modelId": "mock/a"}, "weight": 1}]}}], "defaultRoute": {"variants": [{"variant": {"modelId": "mock/a"}, "weight": 1}]}})",
       "routes[0].condition.cel_expression", "1:8: "},
      {R"({"name": "x", "defaultRoute": {"variants": [{"variant": {"modelId": "priced/fsat"}, "weight": 1}]}})",
       "defaultRoute.variants[0].variant.modelId", "Did you mean 'priced/fast'"},
      {R"({"name": "x", "defaultRoute": {"variants": [{"variant": {"modelId": "nobody/x"}, "weight": 1}]}})",
       "defaultRoute.variants[0].variant.modelId", "does not exist on this gateway"},
      {R"({"name": "x", "defaultRoute": {"variants": [{"variant": {"modelId": "mock/a"}, "weight": -5}]}})",
       "defaultRoute.variants[0].weight", "must not be negative"},
      {R"({"name": "x", "defaultRoute": {"variants": [{"variant": {"modelId": "mock/a"}, "weight": 0}]}})",
       "defaultRoute.variants", "all zero"},
      {R"({"name": "x", "routes": [{"name": "a", "condition": {"cel_expression": "true"}, "route": {"variants": [{"variant": {"modelId": "mock/a"}, "weight": 1}]}}, {"name": "a", "condition": {"cel_expression": "true"}, "route": {"variants": [{"variant": {"modelId": "mock/a"}, "weight": 1}]}}], "defaultRoute": {"variants": [{"variant": {"modelId": "mock/a"}, "weight": 1}]}})",
       "routes[1].name", "duplicate route name 'a'"},
      {R"({"name": "x", "defaultRoute": {"variants": [{"variant": {"modelId": "mock/a"}, "weight": 1}, {"variant": {"modelId": "mock/a"}, "weight": 1}]}})",
       "defaultRoute.variants[1].variant.name", "duplicate variant name"},
      {R"({"name": "x", "defualtRoute": {}})", "defualtRoute", "did you mean 'defaultRoute'?"},
      {R"({"name": "Bad Name", "defaultRoute": {"variants": [{"variant": {"modelId": "mock/a"}, "weight": 1}]}})", "name",
       "not a valid router name"},
      {R"({"name": "x", "defaultRoute": {"variants": [{"variant": {"modelId": "mock/a"}, "weight": 1}]}, "slashCommands": [{"command": "/code", "route": "coding"}]})",
       "slashCommands[0].route", "no route is named 'coding'"},
  };
  for (const auto& c : cases) {
    const Reply r = admin("POST", "/router/v1/routers", c.body);
    EXPECT_EQ(r.status, 400) << c.body << "\n" << r.body;
    EXPECT_NE(r.body.find(R"("code":"invalid_router")"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(fmt::format(R"("path":"{}")", c.path)), std::string::npos) << c.path << " in " << r.body;
    EXPECT_NE(r.body.find(c.message), std::string::npos) << c.message << " in " << r.body;
  }
  // The CEL problem carries its position as numbers too.
  const Reply cel = admin("POST", "/router/v1/routers", cases[1].body);
  EXPECT_NE(cel.body.find(R"("line":1,"column":8)"), std::string::npos) << cel.body;

  // :validate says the same without storing anything.
  const Reply v = admin("POST", "/router/v1/routers:validate", cases[4].body);
  EXPECT_EQ(v.status, 200);
  EXPECT_NE(v.body.find(R"("valid":false)"), std::string::npos);
  EXPECT_NE(v.body.find("defaultRoute.variants[0].weight"), std::string::npos);
  EXPECT_NE(admin("POST", "/router/v1/routers:validate", router_doc("mock/a")).body.find(R"("valid":true)"), std::string::npos);
  EXPECT_EQ(admin("GET", "/router/v1/routers/x").status, 404);
  // If-Match that is not an etag.
  EXPECT_EQ(admin("PUT", "/router/v1/routers/seeded", router_doc("mock/a"), kAdminKey, "soon").status, 400);
}

TEST_F(Routers, AdminEndpointsNeedTheAdminKey) {
  EXPECT_EQ(call(port_, "GET", "/router/v1/routers").status, 401);
  const Reply gw = admin("GET", "/router/v1/routers", "", kGatewayKey);
  EXPECT_EQ(gw.status, 403);
  EXPECT_NE(gw.body.find("Gateway keys cannot manage routers"), std::string::npos);
  EXPECT_EQ(admin("GET", "/router/v1/routers", "", "guess").status, 401);
  EXPECT_EQ(admin("GET", "/router/v1/routers").status, 200);
  // Gateway endpoints take gateway keys (and refuse none).
  EXPECT_EQ(call(port_, "POST", "/v1/chat/completions", chat_body("mock/len-1", false)).status, 401);
  EXPECT_EQ(chat(chat_body("mock/len-1", false)).status, 200);
}

TEST_F(Routers, RequestsAreRoutedAndSayHow) {
  ASSERT_EQ(admin("PUT", "/router/v1/routers/prod",
                  router_doc("mock/len-2", R"(, "slashCommands": [{"command": "/spanish", "route": "spanish"}])"))
                .status,
            201);
  // metadata → route "free", sticky by user.
  const std::string free_body = chat_body("switchyard/prod", false, R"(,"metadata":{"plan":"free"},"user":"u-42")");
  const Reply a = chat(free_body);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.header("x-switchyard-router"), "prod");
  EXPECT_EQ(a.header("x-switchyard-router-version"), "1");
  EXPECT_EQ(a.header("x-switchyard-route"), "free");
  const std::string variant = a.header("x-switchyard-variant");
  EXPECT_TRUE(variant == "a" || variant == "b") << variant;
  EXPECT_EQ(a.header("x-switchyard-routing-reason"), "");  // only when asked
  for (int i = 0; i < 5; ++i) EXPECT_EQ(chat(free_body).header("x-switchyard-variant"), variant);

  // The bare router name works too; the reason comes when asked.
  const std::array<Header, 1> explain{Header{"x-switchyard-explain", "1"}};
  const Reply b = chat(chat_body("prod", false), explain);
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(b.header("x-switchyard-route"), "default");
  EXPECT_EQ(b.header("x-switchyard-model"), "mock/len-2");
  EXPECT_EQ(b.header("x-switchyard-routing-reason"),
            "routes[0] 'spanish': error at 1:1: unknown variable: language (counts as false); routes[1] 'free': error "
            "at 1:1: unknown variable: plan (counts as false); no condition matched: defaultRoute");

  // A metadata header; the echo model shows what the provider received: the spliced model.
  const std::array<Header, 1> meta{Header{"x-switchyard-meta-language", "es"}};
  const Reply c = chat(chat_body("switchyard/prod", false), meta);
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(c.header("x-switchyard-route"), "spanish");
  EXPECT_NE(c.body.find(R"(\"model\":\"echo\")"), std::string::npos) << c.body;

  // extra_body keys route the request and do not reach the provider.
  const Reply d = chat(R"({"model":"switchyard/prod","language":"es","messages":[{"role":"user","content":"hola"}]})");
  EXPECT_EQ(d.header("x-switchyard-route"), "spanish");
  EXPECT_EQ(d.body.find(R"(\"language\")"), std::string::npos) << d.body;

  // A slash command picks its route and is stripped before forwarding.
  const Reply e = chat(R"({"model":"switchyard/prod","messages":[{"role":"user","content":"/spanish translate this"}]})");
  EXPECT_EQ(e.header("x-switchyard-route"), "spanish");
  EXPECT_NE(e.body.find(R"(\"content\":\"translate this\")"), std::string::npos) << e.body;

  // Routers are listed as models.
  const std::array<Header, 1> auth{Header{"authorization", "Bearer sk-gw-1"}};
  const Reply models = call(port_, "GET", "/v1/models", "", auth);
  EXPECT_NE(models.body.find(R"("id":"switchyard/prod")"), std::string::npos) << models.body;
  EXPECT_NE(models.body.find(R"("id":"switchyard/seeded")"), std::string::npos) << models.body;
  const Reply one = call(port_, "GET", "/v1/models/switchyard/prod", "", auth);
  EXPECT_EQ(one.status, 200) << one.body;
  EXPECT_NE(one.body.find(R"("owned_by":"switchyard","router":{"version":1})"), std::string::npos) << one.body;

  // Unknown router: 404 naming the ones there are.
  const Reply f = chat(chat_body("switchyard/nope", false));
  EXPECT_EQ(f.status, 404);
  EXPECT_NE(f.body.find("'switchyard/prod'"), std::string::npos) << f.body;
}

TEST_F(Routers, SlashCommandsInTheAnthropicDialect) {
  ASSERT_EQ(admin("PUT", "/router/v1/routers/agent", R"({"routes": [{"name": "review", "condition": {"cel_expression": "false"},
      "route": {"variants": [{"variant": {"modelId": "claude/echo", "overrides": {"systemPromptPrefix": "Review carefully."}}, "weight": 1}]}}],
    "defaultRoute": {"variants": [{"variant": {"modelId": "claude/len-2"}, "weight": 1}]},
    "slashCommands": [{"command": "/review", "route": "review"}]})")
                .status,
            201);
  const std::string body = R"({"model":"switchyard/agent","max_tokens":32,"system":"You are terse.",
      "messages":[{"role":"user","content":[{"type":"text","text":"/review this diff"},{"type":"text","text":"+a"}]}]})";
  const std::array<Header, 1> auth{Header{"authorization", "Bearer sk-gw-1"}};
  const Reply r = call(port_, "POST", "/v1/messages", body, auth);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-route"), "review");
  // The command is gone from the first text block; the prefix joined Anthropic's top-level system.
  EXPECT_NE(r.body.find(R"(\"text\":\"this diff\")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"(\"system\":\"Review carefully.\\n\\nYou are terse.\")"), std::string::npos) << r.body;
}

TEST_F(Routers, VariantOverridesReachTheProvider) {
  ASSERT_EQ(admin("PUT", "/router/v1/routers/tuned", R"({"defaultRoute": {"variants": [{"variant": {"modelId": "mock/echo",
      "overrides": {"temperature": 0.25, "maxTokens": 64, "systemPromptPrefix": "Be brief.", "provider": {"order": ["x"]}}}, "weight": 1}]}})")
                .status,
            201);
  const Reply r = chat(R"({"model":"switchyard/tuned","temperature":1,"messages":[{"role":"system","content":"You help."},{"role":"user","content":"hi"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"(\"temperature\":0.25)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"(\"max_tokens\":64)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"(\"provider\":{\"order\":[\"x\"]})"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"(Be brief.\\n\\nYou help.)"), std::string::npos) << r.body;
}

TEST_F(Routers, EvaluateExplainsTheChoice) {
  ASSERT_EQ(admin("PUT", "/router/v1/routers/prod", router_doc("mock/len-2")).status, 201);
  const Reply r = admin("POST", "/router/v1/routers/prod:evaluate", R"({"metadata": {"plan": "free"}, "user": "u-1"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("route":"free")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("sticky":true)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("stickinessValue":"u-1")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"({"route":"spanish","expression":"language == 'es'","result":"error")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"({"route":"free","expression":"plan == 'free'","result":true})"), std::string::npos) << r.body;
  // The dry run agrees with a real request for the same user.
  const std::string variant = r.body.substr(r.body.find(R"("variant":")") + 11, 1);
  EXPECT_EQ(chat(chat_body("switchyard/prod", false, R"(,"metadata":{"plan":"free"},"user":"u-1")")).header("x-switchyard-variant"), variant);
}

TEST_F(Routers, SurviveRestartAndTheFileSeedsOnce) {
  ASSERT_EQ(admin("PUT", "/router/v1/routers/prod", router_doc("mock/len-2")).status, 201);
  // An API edit of a seeded router survives a restart with the same file.
  ASSERT_EQ(admin("PATCH", "/router/v1/routers/seeded", R"({"displayName": "Edited"})").status, 200);
  gw_->signal(SIGTERM);
  ASSERT_EQ(gw_->wait(), 0);
  start();
  const Reply prod = admin("GET", "/router/v1/routers/prod");
  ASSERT_EQ(prod.status, 200);
  EXPECT_EQ(prod.header("etag"), "\"1\"");
  const Reply seeded = admin("GET", "/router/v1/routers/seeded");
  EXPECT_NE(seeded.body.find(R"("displayName":"Edited")"), std::string::npos) << seeded.body;
  EXPECT_EQ(chat(chat_body("switchyard/prod", false)).header("x-switchyard-model"), "mock/len-2");
}

TEST_F(Routers, KillNineMidWriteLosesNothingAcknowledged) {
  ASSERT_EQ(admin("PUT", "/router/v1/routers/busy", router_doc("mock/seed-0")).status, 201);
  std::atomic<int> acknowledged{1};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 1; !stop; ++i) {
      try {
        const Reply r = admin("PUT", "/router/v1/routers/busy", router_doc(fmt::format("mock/seed-{}", i)));
        if (r.status != 200) break;
        acknowledged = i + 1;  // version i+1 holds seed-i
      } catch (const std::exception&) {
        break;  // the gateway is gone
      }
    }
  });
  while (acknowledged < 20) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  gw_->signal(SIGKILL);
  gw_->wait();
  stop = true;
  writer.join();
  start();
  const Reply r = admin("GET", "/router/v1/routers/busy");
  ASSERT_EQ(r.status, 200) << r.body;
  const int version = std::stoi(r.header("etag").substr(1));
  // Every acknowledged write is there; at most the one in flight went further.
  EXPECT_GE(version, acknowledged.load());
  EXPECT_LE(version, acknowledged.load() + 1);
  EXPECT_NE(r.body.find(fmt::format("mock/seed-{}", version - 1)), std::string::npos) << r.body;
  EXPECT_EQ(chat(chat_body("switchyard/busy", false)).header("x-switchyard-model"), fmt::format("mock/seed-{}", version - 1));
}

TEST_F(Routers, HundredLiveChangesUnderStreamingLoadFailNothing) {
  auto doc = [](int k) {
    return fmt::format(R"({{"defaultRoute": {{"variants": [{{"variant": {{"modelId": "mock/len-20/gap-2ms/seed-{}"}}, "weight": 1}}]}}}})", k);
  };
  ASSERT_EQ(admin("PUT", "/router/v1/routers/live", doc(0)).status, 201);
  std::atomic<bool> done{false};
  std::atomic<int> requests{0};
  std::atomic<int> failures{0};
  std::vector<std::string> problems;
  std::mutex problems_mu;
  std::vector<std::thread> clients;
  for (int c = 0; c < 6; ++c) {
    clients.emplace_back([&] {
      const std::array<Header, 1> auth{Header{"authorization", "Bearer sk-gw-1"}};
      while (!done) {
        std::string problem;
        try {
          const Reply r = stream(port_, "/v1/chat/completions", chat_body("switchyard/live", true), auth, [](std::string_view) {});
          const std::string version = r.header("x-switchyard-router-version");
          const std::string want = version.empty() ? "?" : fmt::format("mock/len-20/gap-2ms/seed-{}", std::stoi(version) - 1);
          if (r.status != 200) {
            problem = fmt::format("status {}: {}", r.status, r.body);
          } else if (!r.body.ends_with("data: [DONE]\n\n") || r.body.find("\"error\"") != std::string::npos) {
            problem = "stream did not finish cleanly: " + r.body.substr(r.body.size() > 300 ? r.body.size() - 300 : 0);
          } else if (r.header("x-switchyard-model") != want) {
            problem = fmt::format("version {} served by {}", version, r.header("x-switchyard-model"));
          }
        } catch (const std::exception& e) {
          problem = e.what();
        }
        ++requests;
        if (!problem.empty()) {
          ++failures;
          std::lock_guard lock(problems_mu);
          problems.push_back(problem);
        }
      }
    });
  }
  for (int k = 1; k <= 100; ++k) {
    const Reply r = admin("PUT", "/router/v1/routers/live", doc(k));
    ASSERT_EQ(r.status, 200) << r.body;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // each stream spans a few changes
  }
  done = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0) << (problems.empty() ? "" : problems.front());
  EXPECT_GT(requests.load(), 100);
  EXPECT_EQ(admin("GET", "/router/v1/routers/live").header("etag"), "\"101\"");
}

// A command run to its end: exit code and stdout.
struct Ran {
  int code = -1;
  std::string out;
};

Ran run_command(const std::vector<std::string>& argv) {
  Process p(argv);
  p.wait_for_line("\x01 never printed");  // reads every line until the process closes stdout
  const int code = p.wait();
  return {code, p.output()};
}

// The same through /bin/sh with stderr folded into stdout (Process captures stdout only).
Ran run_with_stderr(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& a : argv) line += "'" + a + "' ";
  return run_command({"/bin/sh", "-c", line + "2>&1"});
}

TEST_F(Routers, CommandLineManagesRouters) {
  const std::string url = fmt::format("http://127.0.0.1:{}", port_);
  const std::string config = (dir_ / "switchyard.yaml").string();
  auto routers = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {SY_BINARY, "routers"});
    args.insert(args.end(), {"--url", url, "--admin-key", std::string(kAdminKey)});
    return args;
  };
  std::ofstream(dir_ / "r.yaml") << R"(name: cli
displayName: From the command line
routes:
  - name: free
    condition: {cel_expression: "plan == 'free'"}
    route:
      variants:
        - {variant: {modelId: mock/len-3/seed-1, name: a}, weight: 50}
        - {variant: {modelId: mock/len-3/seed-2, name: b}, weight: 50}
defaultRoute:
  variants:
    - {variant: {modelId: mock/len-2}, weight: 100}
)";
  std::ofstream(dir_ / "bad.yaml") << R"(name: cli
routes:
  - name: free
    condition: {cel_expression: "plan =="}
    route: {variants: [{variant: {modelId: mock/len-3}, weight: 1}]}
defaultRoute: {variants: [{variant: {modelId: mock/len-2}, weight: 100}]}
)";
  const std::string file = (dir_ / "r.yaml").string();

  const Ran created = run_command(routers({"apply", "-f", file}));
  ASSERT_EQ(created.code, 0) << created.out;
  EXPECT_EQ(created.out, "router 'cli' created (version 1)\n");
  const Reply stored = admin("GET", "/router/v1/routers/cli");
  ASSERT_EQ(stored.status, 200) << stored.body;
  EXPECT_NE(stored.body.find(R"("displayName":"From the command line")"), std::string::npos) << stored.body;

  // list: a header, then one line per router by name (cli, then the seeded one).
  const Ran listed = run_command(routers({"list"}));
  ASSERT_EQ(listed.code, 0) << listed.out;
  EXPECT_TRUE(listed.out.starts_with("NAME ")) << listed.out;
  const size_t cli_at = listed.out.find("\ncli ");
  ASSERT_NE(cli_at, std::string::npos) << listed.out;
  EXPECT_LT(cli_at, listed.out.find("\nseeded ")) << listed.out;
  const std::string cli_line = listed.out.substr(cli_at + 1, listed.out.find('\n', cli_at + 1) - cli_at - 1);
  std::istringstream fields(cli_line);
  std::string name, version, route_count, variant_count;
  fields >> name >> version >> route_count >> variant_count;
  EXPECT_EQ(version, "1") << cli_line;
  EXPECT_EQ(route_count, "2") << cli_line;    // free and the default
  EXPECT_EQ(variant_count, "3") << cli_line;  // a, b and the default's

  // get: the stored document, pretty-printed.
  const Ran got = run_command(routers({"get", "cli"}));
  ASSERT_EQ(got.code, 0) << got.out;
  EXPECT_TRUE(got.out.starts_with("{\n")) << got.out;
  EXPECT_NE(got.out.find(R"(  "name": "cli",)"), std::string::npos) << got.out;
  EXPECT_NE(got.out.find(R"("cel_expression": "plan == 'free'")"), std::string::npos) << got.out;
  EXPECT_NE(got.out.find(R"("modelId": "mock/len-3/seed-2")"), std::string::npos) << got.out;

  // evaluate: the route, a sticky variant, and the same one a real request for that user gets.
  const Ran evaluated = run_command(routers({"evaluate", "cli", "--meta", "plan=free", "--user", "u-1"}));
  ASSERT_EQ(evaluated.code, 0) << evaluated.out;
  EXPECT_NE(evaluated.out.find("router:  cli (version 1)\n"), std::string::npos) << evaluated.out;
  EXPECT_NE(evaluated.out.find("route:   free\n"), std::string::npos) << evaluated.out;
  EXPECT_NE(evaluated.out.find("sticky:  yes\n"), std::string::npos) << evaluated.out;
  const size_t variant_at = evaluated.out.find("variant: ");
  ASSERT_NE(variant_at, std::string::npos) << evaluated.out;
  const std::string variant = evaluated.out.substr(variant_at + 9, 1);
  EXPECT_TRUE(variant == "a" || variant == "b") << evaluated.out;
  EXPECT_NE(evaluated.out.find(fmt::format("model:   mock/len-3/seed-{}\n", variant == "a" ? 1 : 2)), std::string::npos)
      << evaluated.out;
  EXPECT_EQ(chat(chat_body("switchyard/cli", false, R"(,"metadata":{"plan":"free"},"user":"u-1")")).header("x-switchyard-variant"),
            variant);
  const Ran fallback = run_command(routers({"evaluate", "cli", "--meta", "plan=pro"}));
  ASSERT_EQ(fallback.code, 0) << fallback.out;
  EXPECT_NE(fallback.out.find("route:   default\n"), std::string::npos) << fallback.out;
  EXPECT_NE(fallback.out.find("model:   mock/len-2\n"), std::string::npos) << fallback.out;

  // apply again: a new version of the same router.
  const Ran updated = run_command(routers({"apply", "-f", file}));
  ASSERT_EQ(updated.code, 0) << updated.out;
  EXPECT_EQ(updated.out, "router 'cli' updated (version 2)\n");

  // An invalid file: a non-zero exit, and the JSON path of the problem on stderr; nothing stored.
  const Ran invalid = run_with_stderr(routers({"apply", "-f", (dir_ / "bad.yaml").string()}));
  EXPECT_NE(invalid.code, 0) << invalid.out;
  EXPECT_NE(invalid.out.find("HTTP 400"), std::string::npos) << invalid.out;
  EXPECT_NE(invalid.out.find("  routes[0].condition.cel_expression: 1:8: "), std::string::npos) << invalid.out;
  EXPECT_EQ(admin("GET", "/router/v1/routers/cli").header("etag"), "\"2\"");
  const Ran missing = run_with_stderr(routers({"apply", "-f", (dir_ / "absent.yaml").string()}));
  EXPECT_EQ(missing.code, 2) << missing.out;
  EXPECT_NE(missing.out.find("cannot read"), std::string::npos) << missing.out;

  // Without --admin-key the key comes from the config file's admin_key.
  const Ran by_config = run_with_stderr({SY_BINARY, "routers", "get", "cli", "--url", url, "-c", config});
  ASSERT_EQ(by_config.code, 0) << by_config.out;
  EXPECT_NE(by_config.out.find(R"("version": 2)"), std::string::npos) << by_config.out;
  // A wrong key is refused with the gateway's message.
  const Ran wrong = run_with_stderr({SY_BINARY, "routers", "list", "--url", url, "--admin-key", "guess"});
  EXPECT_EQ(wrong.code, 1) << wrong.out;
  EXPECT_NE(wrong.out.find("HTTP 401: Invalid admin key."), std::string::npos) << wrong.out;

  const Ran deleted = run_command(routers({"delete", "cli"}));
  ASSERT_EQ(deleted.code, 0) << deleted.out;
  EXPECT_EQ(deleted.out, "router 'cli' deleted\n");
  EXPECT_EQ(admin("GET", "/router/v1/routers/cli").status, 404);
  const Ran again = run_with_stderr(routers({"delete", "cli"}));
  EXPECT_EQ(again.code, 1) << again.out;
  EXPECT_NE(again.out.find("HTTP 404"), std::string::npos) << again.out;

  // --name wins over the document's name; names are escaped in the URL.
  const Ran renamed = run_command(routers({"apply", "-f", file, "--name", "cli-copy"}));
  ASSERT_EQ(renamed.code, 0) << renamed.out;
  EXPECT_EQ(renamed.out, "router 'cli-copy' created (version 1)\n");
  const Ran odd = run_with_stderr(routers({"get", "one?pageSize=1"}));
  EXPECT_EQ(odd.code, 1) << odd.out;
  EXPECT_NE(odd.out.find("HTTP 404: No router is named 'one?pageSize=1'."), std::string::npos) << odd.out;

  // Without a key anywhere, a command says where to put one and creates no database.
  const auto empty = dir_ / "empty";
  std::filesystem::create_directories(empty);
  const Ran keyless = run_with_stderr({"/bin/sh", "-c", fmt::format("cd {} && {} routers list --url {}", empty.string(), SY_BINARY, url)});
  EXPECT_EQ(keyless.code, 2) << keyless.out;
  EXPECT_NE(keyless.out.find("no admin key"), std::string::npos) << keyless.out;
  EXPECT_FALSE(std::filesystem::exists(empty / "switchyard.db"));

  // admin-key prints the configured key.
  const Ran key = run_command({SY_BINARY, "admin-key", "-c", config});
  EXPECT_EQ(key.code, 0) << key.out;
  EXPECT_EQ(key.out, "adm-secret\n");
}

}  // namespace
}  // namespace sy::testing
