// The request log, outcomes, experiment stats and metrics over real sockets: every request
// leaves a record (routing, attempts, tokens, cost, TTFT) that GET /v1/logs returns; tokens and
// cost of a streamed request equal those of the same request not streamed, in every provider
// dialect; outcomes posted to /v1/feedback come back in the router's stats with intervals
// checked against a hand computation; ramping the winner is a router update.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "harness.h"
#include "process.h"

namespace sy::testing {
namespace {

namespace bj = boost::json;
using http::Header;

constexpr std::string_view kAdmin = "sk-admin-observe";

class Observe : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mock_ = new Process({SY_BINARY, "mock-upstream", "--port", "0"});
    mock_port_ = port_in(mock_->wait_for_line("listening on"));
    ASSERT_GT(mock_port_, 0) << mock_->output();
    dir_ = std::filesystem::temp_directory_path() / ("switchyard-observe-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    const std::string base = "http://127.0.0.1:" + std::to_string(mock_port_);
    // Priced models in each provider dialect; the mock's behaviour is in the model's name.
    std::ofstream(dir_ / "switchyard.yaml") << fmt::format(R"(demo: false
database: {1}/config.db
admin_key: {2}
log: {{metadata: [plan, tenant], retention_days: 30}}
export: {{jsonl: {{path: {1}/records.jsonl}}}}
circuit_breaker: {{failures: 1000, min_requests: 100000}}
providers:
  - name: gpt
    kind: openai
    base_url: {0}/v1
    models: [{{id: len-12/seed-3, input_per_mtok: 1, output_per_mtok: 5}}, {{id: len-12/seed-3/cached-4, input_per_mtok: 2, output_per_mtok: 8}}]
  - name: claude
    kind: anthropic
    base_url: {0}/v1
    models: [{{id: len-12/seed-3, input_per_mtok: 3, output_per_mtok: 15}}, {{id: len-12/seed-3/think-8, input_per_mtok: 3, output_per_mtok: 15}}]
  - name: gem
    kind: gemini
    base_url: {0}/v1beta
    models: [{{id: len-12/seed-3, input_per_mtok: 0.5, output_per_mtok: 2}}]
  - {{name: mock, kind: openai, base_url: {0}/v1, models: '*'}}
routers:
  exp:
    routes: []
    defaultRoute: {{variants: [{{variant: {{name: a, modelId: mock/len-3/seed-1}}, weight: 50}}, {{variant: {{name: b, modelId: mock/len-3/seed-2}}, weight: 50}}]}}
  failing:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: mock/status-503}}, weight: 1}}], fallbacks: [gpt/len-12/seed-3]}}
  bodies:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: mock/len-2}}, weight: 1}}]}}
    logBodies: true
)",
                                                           base, dir_.string(), kAdmin);
    start_gateway();
  }
  static void start_gateway() {
    gateway_ = new Process({SY_BINARY, "serve", "--config", (dir_ / "switchyard.yaml").string(), "--listen",
                            "127.0.0.1:0", "--workers", "2"});
    port_ = port_in(gateway_->wait_for_line("listening on"));
    ASSERT_GT(port_, 0) << gateway_->output();
  }
  static void TearDownTestSuite() {
    delete gateway_;
    delete mock_;
    std::filesystem::remove_all(dir_);
  }

  static Reply admin(std::string_view method, std::string_view target, std::string_view body = "") {
    const std::string auth = fmt::format("Bearer {}", kAdmin);
    const std::array<Header, 1> h{Header{"authorization", auth}};
    return call(port_, method, target, body, h);
  }
  // The record of a request, once the telemetry thread has written it.
  static bj::value record(const std::string& id) {
    for (int i = 0; i < 300; ++i) {
      const Reply r = admin("GET", "/v1/logs/" + id);
      if (r.status == 200) return bj::parse(r.body);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "no record of " << id;
    return bj::object{};
  }

  static inline Process* mock_ = nullptr;
  static inline Process* gateway_ = nullptr;
  static inline int mock_port_ = 0;
  static inline int port_ = 0;
  static inline std::filesystem::path dir_;
};

TEST_F(Observe, EveryRequestLeavesARecord) {
  const std::array<Header, 2> meta{Header{"x-switchyard-meta-tenant", "t-1 \"north\""},
                                   Header{"x-switchyard-meta-plan", "the body's wins"}};
  const Reply r = call(port_, "POST", "/v1/chat/completions",
                       chat_body("switchyard/exp", false, R"(,"user":"u-7","metadata":{"plan":"pro","secret":"x"})"), meta);
  ASSERT_EQ(r.status, 200) << r.body;
  const bj::value rec = record(r.header("x-switchyard-request-id"));
  EXPECT_EQ(rec.at("router"), "exp");
  EXPECT_EQ(rec.at("router_version").as_int64(), 1);
  EXPECT_EQ(rec.at("route"), "default");
  EXPECT_EQ(std::string(rec.at("variant").as_string()), r.header("x-switchyard-variant"));
  EXPECT_EQ(std::string(rec.at("model").as_string()), r.header("x-switchyard-model"));
  EXPECT_EQ(rec.at("provider"), "mock");
  EXPECT_EQ(rec.at("requested_model"), "switchyard/exp");
  EXPECT_EQ(rec.at("user"), "u-7");
  EXPECT_EQ(rec.at("dialect"), "openai");
  EXPECT_EQ(rec.at("endpoint"), "chat.completions");
  EXPECT_EQ(rec.at("status").as_int64(), 200);
  EXPECT_TRUE(rec.at("error_class").is_null());
  EXPECT_EQ(rec.at("stream"), false);
  EXPECT_NE(std::string(rec.at("reason").as_string()).find("variant"), std::string::npos) << rec;
  EXPECT_EQ(rec.at("tokens_out").as_int64(), 3);
  EXPECT_GT(rec.at("tokens_in").as_int64(), 0);
  EXPECT_GE(rec.at("ttft_ms").as_int64(), 0);
  EXPECT_GE(rec.at("latency_ms").as_int64(), rec.at("ttft_ms").as_int64());
  // Only allow-listed keys are kept, from the body's metadata or else their header.
  EXPECT_EQ(rec.at("metadata"), bj::parse(R"({"plan":"pro","tenant":"t-1 \"north\""})"));
  ASSERT_EQ(rec.at("attempts").as_array().size(), 1u);
  EXPECT_EQ(rec.at("attempts").at(0).at("served"), true);
  // Bodies are not kept unless a router opts in.
  EXPECT_TRUE(rec.at("request_body").is_null());

  const Reply kept = call(port_, "POST", "/v1/chat/completions", chat_body("switchyard/bodies", false));
  ASSERT_EQ(kept.status, 200);
  const bj::value with = record(kept.header("x-switchyard-request-id"));
  EXPECT_NE(std::string(with.at("request_body").as_string()).find("switchyard/bodies"), std::string::npos);
  EXPECT_EQ(bj::parse(std::string(with.at("response_body").as_string())), bj::parse(kept.body));

  // The JSON-lines exporter wrote the same record.
  std::string lines;
  for (int i = 0; i < 300 && lines.find(r.header("x-switchyard-request-id")) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::ifstream in(dir_ / "records.jsonl");
    lines.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t at = lines.find(fmt::format("\"id\":\"{}\"", r.header("x-switchyard-request-id")));
  ASSERT_NE(at, std::string::npos) << lines;
  const size_t line_start = lines.rfind('\n', at) == std::string::npos ? 0 : lines.rfind('\n', at) + 1;
  const bj::value exported = bj::parse(std::string_view(lines).substr(line_start, lines.find('\n', at) - line_start));
  EXPECT_EQ(exported.at("router"), "exp");
  EXPECT_EQ(exported.at("tokens_out"), rec.at("tokens_out"));

  EXPECT_EQ(admin("GET", "/v1/logs/req_nope").status, 404);
  EXPECT_EQ(call(port_, "GET", "/v1/logs").status, 401);  // the admin key is required
}

// The key a request presented is logged as a hash: the same for the same key, another for
// another key (the worker remembers the last key's hash), never the key itself.
TEST_F(Observe, KeysAreLoggedAsTheirHashes) {
  std::vector<std::string> ids;
  for (const char* key : {"sk-alpha-0123456789", "sk-beta-0123456789", "sk-alpha-0123456789", ""}) {
    const std::string auth = std::string("Bearer ") + key;
    const std::array<Header, 1> h{Header{"authorization", auth}};
    const Reply r = call(port_, "POST", "/v1/chat/completions", chat_body("mock/len-2", false),
                         std::span<const Header>(h.data(), *key != 0 ? 1 : 0));
    ASSERT_EQ(r.status, 200) << r.body;
    const bj::value rec = record(r.header("x-switchyard-request-id"));
    ids.push_back(rec.at("key_id").is_null() ? "" : std::string(rec.at("key_id").as_string()));
    EXPECT_EQ(ids.back().find("0123456789"), std::string::npos) << ids.back();
  }
  EXPECT_TRUE(ids[0].starts_with("key_")) << ids[0];
  EXPECT_EQ(ids[0].size(), 20u);
  EXPECT_NE(ids[0], ids[1]);
  EXPECT_EQ(ids[0], ids[2]);
  EXPECT_EQ(ids[3], "");
}

TEST_F(Observe, FailoverAndMidStreamFailuresAreRecorded) {
  const Reply r = call(port_, "POST", "/v1/chat/completions", chat_body("switchyard/failing", true));
  ASSERT_EQ(r.status, 200);
  const bj::value rec = record(r.header("x-switchyard-request-id"));
  const auto& attempts = rec.at("attempts").as_array();
  ASSERT_EQ(attempts.size(), 2u) << rec;
  EXPECT_EQ(attempts[0].at("model"), "mock/status-503");
  EXPECT_EQ(attempts[0].at("status").as_int64(), 503);
  EXPECT_EQ(attempts[0].at("served"), false);
  EXPECT_EQ(attempts[1].at("model"), "gpt/len-12/seed-3");
  EXPECT_EQ(attempts[1].at("served"), true);
  EXPECT_EQ(attempts[1].at("tokens_out").as_int64(), 12);
  EXPECT_GT(attempts[1].at("ttft_ms").as_int64(), -1);
  EXPECT_EQ(rec.at("model"), "gpt/len-12/seed-3");

  const Reply broken = call(port_, "POST", "/v1/chat/completions", chat_body("mock/len-10/reset-after-3/gap-1ms", true));
  ASSERT_EQ(broken.status, 200);
  const bj::value b = record(broken.header("x-switchyard-request-id"));
  EXPECT_EQ(b.at("error_class"), "stream_broke");
  EXPECT_EQ(b.at("status").as_int64(), 200);  // the stream had begun

  const Reply refused = call(port_, "POST", "/v1/chat/completions", chat_body("mock/status-400", false));
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(record(refused.header("x-switchyard-request-id")).at("error_class"), "invalid_request");
}

// Exact accounting: tokens and cost of a streamed request equal the same request's, not
// streamed, through every provider dialect and from both client dialects.
TEST_F(Observe, StreamedAndWholeAnswersAreAccountedTheSame) {
  for (std::string_view model : {"gpt/len-12/seed-3", "gpt/len-12/seed-3/cached-4", "claude/len-12/seed-3",
                                 "claude/len-12/seed-3/think-8", "gem/len-12/seed-3"}) {
    for (bool anthropic : {false, true}) {
      bj::value records[2];
      for (bool stream : {false, true}) {
        const std::string body =
            anthropic ? fmt::format(R"({{"model":"{}","max_tokens":100,"stream":{},"messages":[{{"role":"user","content":"Count the words of this prompt"}}]}})",
                                    model, stream)
                      : chat_body(model, stream);
        const Reply r = call(port_, "POST", anthropic ? "/v1/messages" : "/v1/chat/completions", body);
        ASSERT_EQ(r.status, 200) << model << " " << r.body;
        if (stream && !anthropic) {  // the client did not ask for usage: it gets none
          EXPECT_EQ(r.body.find("\"usage\":{"), std::string::npos) << model << "\n" << r.body;
        }
        records[stream] = record(r.header("x-switchyard-request-id"));
      }
      const std::string where = fmt::format("{} from the {} dialect", model, anthropic ? "anthropic" : "openai");
      for (std::string_view field : {"tokens_in", "tokens_out", "tokens_cached", "tokens_reasoning"}) {
        EXPECT_EQ(records[0].at(field), records[1].at(field)) << where << ": " << field;
      }
      EXPECT_GT(records[0].at("tokens_out").as_int64(), 0) << where;
      EXPECT_GT(records[1].at("cost_usd").as_double(), 0) << where;
      EXPECT_DOUBLE_EQ(records[0].at("cost_usd").as_double(), records[1].at("cost_usd").as_double()) << where;
    }
  }
}

TEST_F(Observe, LogsFilterAndPageNewestFirst) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    const Reply r = call(port_, "POST", "/v1/chat/completions", chat_body("mock/len-1", false, R"(,"user":"pager")"));
    ids.push_back(r.header("x-switchyard-request-id"));
    // Arrival times a millisecond apart, so that newest first is one order: two workers may
    // write the records of requests that came within the same millisecond in either order.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (const auto& id : ids) record(id);  // each worker submits its records when its request ends
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    const Reply r = admin("GET", fmt::format("/v1/logs?user=pager&limit=2{}", cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    const bj::value v = bj::parse(r.body);
    for (const auto& rec : v.at("data").as_array()) {
      EXPECT_EQ(rec.at("user"), "pager");
      seen.emplace_back(rec.at("id").as_string());
    }
    if (v.at("next_cursor").is_null()) break;
    cursor = std::string(v.at("next_cursor").as_string());
  }
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen, std::vector<std::string>(ids.rbegin(), ids.rend()));
  EXPECT_EQ(admin("GET", "/v1/logs?limit=0").status, 400);
  EXPECT_EQ(admin("GET", "/v1/logs?since=yesterday").status, 400);
  EXPECT_EQ(admin("GET", "/v1/logs?cursor=bogus").status, 400);
  const Reply recent = admin("GET", "/v1/logs?since=1h&model=mock/len-1&limit=1");
  ASSERT_EQ(recent.status, 200);
  EXPECT_EQ(std::string(bj::parse(recent.body).at("data").at(0).at("id").as_string()), ids.back());
}

// Outcomes into the stats of an A/B test, checked against a hand computation; then ramping
// the winner.
TEST_F(Observe, ExperimentStatsWithOutcomesAndRampingTheWinner) {
  // Users until four landed on variant a and three on b (sticky by user).
  std::vector<std::pair<std::string, std::string>> a_requests, b_requests;  // (request id, user)
  for (int u = 0; a_requests.size() < 4 || b_requests.size() < 3; ++u) {
    const std::string user = fmt::format("exp-user-{}", u);
    const Reply r = call(port_, "POST", "/v1/chat/completions", chat_body("switchyard/exp", false, fmt::format(R"(,"user":"{}")", user)));
    ASSERT_EQ(r.status, 200);
    auto& side = r.header("x-switchyard-variant") == "a" ? a_requests : b_requests;
    if (side.size() < (&side == &a_requests ? 4u : 3u)) side.emplace_back(r.header("x-switchyard-request-id"), user);
    ASSERT_LT(u, 200);
  }
  // CSAT per request: a {2, 4, 4, 5}, b {5, 5, 4}; conversions per user: a 1 of 4, b 3 of 3.
  const int a_csat[] = {2, 4, 4, 5};
  const int b_csat[] = {5, 5, 4};
  std::string events = R"({"events":[)";
  auto add = [&](std::string_view id, std::string_view key, std::string_view value_key, std::string_view name, int value) {
    if (events.back() != '[') events += ',';
    events += fmt::format(R"({{"event_id":"{}-{}-{}","{}":"{}","router":"exp","name":"{}","value":{}}})", name, value_key, id, key, id,
                          name, value);
  };
  for (size_t i = 0; i < 4; ++i) add(a_requests[i].first, "request_id", "r", "csat", a_csat[i]);
  for (size_t i = 0; i < 3; ++i) add(b_requests[i].first, "request_id", "r", "csat", b_csat[i]);
  for (size_t i = 0; i < 4; ++i) add(a_requests[i].second, "user", "u", "conversion", i == 0 ? 1 : 0);
  for (size_t i = 0; i < 3; ++i) add(b_requests[i].second, "user", "u", "conversion", 1);
  events += "]}";
  const std::string auth = fmt::format("Bearer {}", kAdmin);
  const std::array<Header, 1> h{Header{"authorization", auth}};
  const Reply posted = call(port_, "POST", "/v1/feedback", events, h);
  ASSERT_EQ(posted.status, 202) << posted.body;
  EXPECT_EQ(bj::parse(posted.body).at("accepted").as_int64(), 14);
  // The same events again (a client's retry) change nothing: they are idempotent by event_id.
  ASSERT_EQ(call(port_, "POST", "/v1/feedback", events, h).status, 202);
  // Bad events are refused with what to fix.
  const Reply bad = call(port_, "POST", "/v1/feedback", R"({"name":"csat","value":9,"request_id":"x"})", h);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("1 to 5"), std::string::npos) << bad.body;

  bj::value stats;
  for (int i = 0; i < 300; ++i) {  // until the telemetry thread has written the outcomes
    const Reply s = admin("GET", "/router/v1/routers/exp/stats?since=1h");
    ASSERT_EQ(s.status, 200) << s.body;
    stats = bj::parse(s.body);
    const auto& routes = stats.at("routes").as_array();
    if (routes.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    // Until every request and outcome has been written (records and outcomes travel apart).
    const auto& vs = routes.at(0).at("variants").as_array();
    auto count = [](const bj::value& v, std::string_view metric) -> int64_t {
      const auto* m = v.at("outcomes").as_object().if_contains(metric);
      return m == nullptr ? 0 : m->at("n").as_int64();
    };
    if (vs.size() == 2 && vs[0].at("requests").as_int64() >= 4 && vs[1].at("requests").as_int64() >= 3 &&
        count(vs[0], "csat") == 4 && count(vs[1], "csat") == 3 && count(vs[0], "conversion") == 4 &&
        count(vs[1], "conversion") == 3) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto& route = stats.at("routes").at(0);
  const auto& a = route.at("variants").at(0);
  const auto& b = route.at("variants").at(1);
  ASSERT_EQ(a.at("variant"), "a");
  ASSERT_EQ(b.at("variant"), "b");
  EXPECT_GE(a.at("requests").as_int64(), 4);
  // By hand: a = {2,4,4,5}: mean 3.75, sd = sqrt(4.75/3) = 1.258306, se = 0.629153,
  // t(0.975, 3) = 3.182446, CI 3.75 ± 2.002249 = [1.747751, 5.752249].
  const auto& a_csat_stats = a.at("outcomes").at("csat");
  EXPECT_EQ(a_csat_stats.at("n").as_int64(), 4);
  EXPECT_NEAR(a_csat_stats.at("mean").to_number<double>(), 3.75, 1e-9);
  EXPECT_NEAR(a_csat_stats.at("ci95").at(0).to_number<double>(), 1.747751, 1e-5);
  EXPECT_NEAR(a_csat_stats.at("ci95").at(1).to_number<double>(), 5.752249, 1e-5);
  // b = {5,5,4}: mean 4.666667, sd 0.577350, se 0.333333, t(0.975, 2) = 4.302653,
  // CI 4.666667 ± 1.434218 = [3.232449, 6.100884].
  const auto& b_csat_stats = b.at("outcomes").at("csat");
  EXPECT_NEAR(b_csat_stats.at("mean").to_number<double>(), 4.666667, 1e-5);
  EXPECT_NEAR(b_csat_stats.at("ci95").at(0).to_number<double>(), 3.232449, 1e-5);
  EXPECT_NEAR(b_csat_stats.at("ci95").at(1).to_number<double>(), 6.100884, 1e-5);
  // Conversions are rates: a 1 of 4, b 3 of 3.
  EXPECT_EQ(a.at("outcomes").at("conversion").at("kind"), "rate");
  EXPECT_NEAR(a.at("outcomes").at("conversion").at("rate").to_number<double>(), 0.25, 1e-9);
  EXPECT_NEAR(b.at("outcomes").at("conversion").at("rate").to_number<double>(), 1.0, 1e-9);
  // The comparison: b - a = 0.916667 for CSAT, not significant with so few ratings.
  const auto& cmp = route.at("comparison");
  EXPECT_NEAR(cmp.at("outcomes").at("csat").at("difference").to_number<double>(), 0.916667, 1e-5);
  EXPECT_EQ(cmp.at("outcomes").at("csat").at("significant"), false);
  EXPECT_TRUE(a.at("error_rate").at("value").is_number());

  // Ramp the winner: b gets all of the route's traffic, as a new version of the router.
  const Reply ramped = admin("POST", "/router/v1/routers/exp:ramp", R"({"variant":"b"})");
  ASSERT_EQ(ramped.status, 200) << ramped.body;
  EXPECT_EQ(ramped.header("etag"), "\"2\"");
  const Reply after = call(port_, "POST", "/v1/chat/completions",
                           chat_body("switchyard/exp", false, fmt::format(R"(,"user":"{}")", a_requests[0].second)));
  EXPECT_EQ(after.header("x-switchyard-variant"), "b");
  EXPECT_EQ(after.header("x-switchyard-router-version"), "2");
  EXPECT_EQ(admin("POST", "/router/v1/routers/exp:ramp", R"({"variant":"c"})").status, 404);
}

// The sum of the values of the series whose lines start with `prefix` (Prometheus text format).
double sum_of(std::string_view metrics, std::string_view prefix) {
  double sum = 0;
  for (size_t at = metrics.find(prefix); at != std::string_view::npos; at = metrics.find(prefix, at + 1)) {
    if (at != 0 && metrics[at - 1] != '\n') continue;
    const size_t end = metrics.find('\n', at);
    const std::string_view line = metrics.substr(at, end - at);
    sum += std::stod(std::string(line.substr(line.rfind(' ') + 1)));
  }
  return sum;
}

TEST_F(Observe, PrometheusMetrics) {
  // A failure gives the provider's circuit a row (healthy circuits have none).
  EXPECT_EQ(call(port_, "POST", "/v1/chat/completions", chat_body("mock/status-500", false)).status, 500);
  const Reply r = call(port_, "POST", "/v1/chat/completions", chat_body("switchyard/exp", false, R"(,"user":"metrics")"));
  record(r.header("x-switchyard-request-id"));
  const Reply m = admin("GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("# TYPE switchyard_requests_total counter"), std::string::npos);
  EXPECT_NE(m.body.find("switchyard_requests_total{router=\"exp\",route=\"default\""), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("switchyard_ttft_seconds_bucket{"), std::string::npos);
  EXPECT_NE(m.body.find("switchyard_telemetry_queue_depth "), std::string::npos);
  EXPECT_NE(m.body.find("switchyard_telemetry_priority_raises_total "), std::string::npos);
  EXPECT_NE(m.body.find("switchyard_circuit_state{scope=\"provider\",name=\"mock\"} 0"), std::string::npos) << m.body;
  // The upstream pools: the answered requests left their keep-alive connections idle.
  EXPECT_GE(sum_of(m.body, "switchyard_upstream_idle_connections{worker="), 1) << m.body;
  EXPECT_EQ(sum_of(m.body, "switchyard_upstream_active_connections{worker="), 0) << m.body;
  EXPECT_EQ(call(port_, "GET", "/metrics").status, 401);
}

TEST_F(Observe, TheLogSurvivesARestart) {
  const Reply r = call(port_, "POST", "/v1/chat/completions", chat_body("mock/len-1", false));
  const std::string id = r.header("x-switchyard-request-id");
  gateway_->signal(SIGTERM);  // the queue is drained into the log before the process ends
  EXPECT_EQ(gateway_->wait(), 0);
  delete gateway_;
  gateway_ = nullptr;
  start_gateway();
  const Reply found = admin("GET", "/v1/logs/" + id);
  EXPECT_EQ(found.status, 200) << found.body;
}

}  // namespace
}  // namespace sy::testing
