// Failover over real sockets: attempt plans (a router's fallbacks, the request's `models`),
// which failures move on and which do not, Retry-After cool-downs, in both dialects, streamed
// and not. The mock upstream injects the faults (status-N, retry-after-Ns; a closed port).
#include <gtest/gtest.h>

#include <boost/json.hpp>
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

class Failover : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mock_ = new Process({SY_BINARY, "mock-upstream", "--port", "0"});
    mock_port_ = port_in(mock_->wait_for_line("listening on"));
    ASSERT_GT(mock_port_, 0) << mock_->output();
    config_ = std::filesystem::temp_directory_path() / ("switchyard-fo-" + std::to_string(getpid()) + ".yaml");
    const std::string base = "http://127.0.0.1:" + std::to_string(mock_port_);
    // Circuit breakers have a suite of their own (Circuits): here they stay out of the way.
    std::ofstream(config_) << fmt::format(R"(demo: false
database: ':memory:'
circuit_breaker: {{failures: 1000, min_requests: 100000}}
providers:
  - {{name: mock, kind: openai, base_url: {0}/v1, models: '*'}}
  - {{name: claude, kind: anthropic, base_url: {0}/v1, models: '*'}}
  - {{name: down, kind: openai, base_url: 'http://127.0.0.1:1/v1', models: [gone]}}
routers:
  overloaded:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: claude/status-529}}, weight: 1}}], fallbacks: [mock/len-3/seed-1]}}
  refused:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: down/gone}}, weight: 1}}]}}
    fallbacks: [claude/len-2]
  chain:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: mock/status-500}}, weight: 1}}]}}
    fallbacks: [mock/status-503, claude/len-4/seed-2]
  bad-request:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: mock/status-400}}, weight: 1}}]}}
    fallbacks: [mock/len-2]
  once:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: mock/status-502}}, weight: 1}}]}}
    fallbacks: [mock/len-2]
    failover: {{maxAttempts: 1}}
  limited:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: mock/status-429/retry-after-30s}}, weight: 1}}]}}
    fallbacks: [mock/len-2]
  slow:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: mock/ttft-1500ms/len-3}}, weight: 1}}], fallbacks: [claude/len-3/seed-1]}}
    failover: {{ttftTimeoutMs: 200}}
  quick:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: mock/len-5/seed-3/gap-1ms}}, weight: 1}}], fallbacks: [mock/len-2]}}
    failover: {{ttftTimeoutMs: 5000}}
  breaks:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: mock/len-10/reset-after-3/gap-1ms}}, weight: 1}}], fallbacks: [mock/len-2]}}
  hung:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: mock/hang}}, weight: 1}}], fallbacks: [claude/len-2]}}
    failover: {{ttftTimeoutMs: 200}}
  dropped:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: mock/drop}}, weight: 1}}], fallbacks: [claude/drop, mock/len-2]}}
  deadline:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: mock/hang}}, weight: 1}}], fallbacks: [mock/len-2]}}
    failover: {{deadlineMs: 300}}
  hedged:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: mock/ttft-600ms/len-3/seed-4}}, weight: 1}}], fallbacks: [claude/ttft-1500ms/len-2]}}
    failover: {{ttftTimeoutMs: 150, hedge: true}}
  unhedged:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: mock/ttft-600ms/len-3/seed-4}}, weight: 1}}], fallbacks: [claude/ttft-1500ms/len-2]}}
    failover: {{ttftTimeoutMs: 150}}
  hedge-overtaken:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: claude/ttft-4000ms/len-3}}, weight: 1}}], fallbacks: [mock/len-3/seed-1]}}
    failover: {{ttftTimeoutMs: 150, hedge: true}}
  resumed:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: mock/len-10/reset-after-3/gap-1ms/seed-5}}, weight: 1}}], fallbacks: [claude/len-4/seed-9]}}
    failover: {{resumeStreams: true}}
  resumed-by-openai:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: claude/len-10/reset-after-3/gap-1ms/seed-5}}, weight: 1}}], fallbacks: [mock/status-503, mock/len-4/seed-9]}}
    failover: {{resumeStreams: true}}
  resume-exhausted:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: mock/len-10/reset-after-3/gap-1ms/seed-5}}, weight: 1}}], fallbacks: [claude/len-10/reset-after-2/gap-1ms]}}
    failover: {{resumeStreams: true}}
  via-route:
    routes:
      - name: premium
        condition: {{cel_expression: 'plan == "pro"'}}
        route: {{variants: [{{variant: {{modelId: claude/len-2/seed-3}}, weight: 1}}]}}
    defaultRoute: {{variants: [{{variant: {{modelId: mock/status-503}}, weight: 1}}], fallbacks: ['route:premium']}}
  variants:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: mock/status-503}}, weight: 1}}, {{variant: {{modelId: mock/status-503/seed-1}}, weight: 0}}, {{variant: {{modelId: claude/len-1}}, weight: 0}}]}}
    failover: {{otherVariants: true}}
)",
                                          base);
    gateway_ = new Process({SY_BINARY, "serve", "--config", config_.string(), "--listen", "127.0.0.1:0", "--workers", "1"});
    port_ = port_in(gateway_->wait_for_line("listening on"));
    ASSERT_GT(port_, 0) << gateway_->output();
  }
  static void TearDownTestSuite() {
    delete gateway_;
    delete mock_;
    std::filesystem::remove(config_);
  }
  static Reply chat(std::string_view model, bool stream = false, std::string_view extra = "") {
    return call(port_, "POST", "/v1/chat/completions", chat_body(model, stream, extra));
  }

  static long mock_active() {
    const Reply r = call(mock_port_, "GET", "/mock/stats");
    const auto at = r.body.find("\"active\":");
    return at == std::string::npos ? -1 : std::atol(r.body.c_str() + at + 9);
  }

  static inline Process* mock_ = nullptr;
  static inline Process* gateway_ = nullptr;
  static inline int mock_port_ = 0;
  static inline int port_ = 0;
  static inline std::filesystem::path config_;
};

TEST_F(Failover, OverloadedProviderFailsOverToTheFallback) {
  const Reply r = chat("switchyard/overloaded");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-model"), "mock/len-3/seed-1");
  EXPECT_EQ(r.header("x-switchyard-provider"), "mock");
  const std::string attempts = r.header("x-switchyard-attempts");
  EXPECT_TRUE(attempts.starts_with("claude/status-529;status=529;start=")) << attempts;
  EXPECT_NE(attempts.find(", mock/len-3/seed-1;status=200;start="), std::string::npos) << attempts;
  EXPECT_EQ(bj::parse(r.body).at("usage").at("completion_tokens").as_int64(), 3);
  // The client never sees the failed attempt: the same answer as the fallback asked directly.
  const Reply direct = chat("mock/len-3/seed-1");
  EXPECT_EQ(bj::parse(r.body).at("choices"), bj::parse(direct.body).at("choices"));
  EXPECT_TRUE(direct.header("x-switchyard-attempts").empty());  // one attempt, nothing to tell
}

TEST_F(Failover, RefusedConnectionAndAChainOfServerErrors) {
  const Reply refused = chat("switchyard/refused");
  ASSERT_EQ(refused.status, 200) << refused.body;
  EXPECT_EQ(refused.header("x-switchyard-model"), "claude/len-2");
  EXPECT_TRUE(refused.header("x-switchyard-attempts").starts_with("down/gone;status=0;error=upstream_unreachable"))
      << refused.header("x-switchyard-attempts");

  const Reply chain = chat("switchyard/chain");
  ASSERT_EQ(chain.status, 200) << chain.body;
  EXPECT_EQ(chain.header("x-switchyard-model"), "claude/len-4/seed-2");
  const std::string a = chain.header("x-switchyard-attempts");
  EXPECT_NE(a.find("mock/status-500;status=500"), std::string::npos) << a;
  EXPECT_NE(a.find("mock/status-503;status=503"), std::string::npos) << a;
  EXPECT_NE(a.find("claude/len-4/seed-2;status=200"), std::string::npos) << a;
  // Translated for the OpenAI client, as the fallback speaks Anthropic's protocol.
  EXPECT_EQ(bj::parse(chain.body).at("object").as_string(), "chat.completion");

  const Reply variants = chat("switchyard/variants");
  ASSERT_EQ(variants.status, 200) << variants.body;
  EXPECT_EQ(variants.header("x-switchyard-model"), "claude/len-1");
}

TEST_F(Failover, TheRequestsOwnErrorsAndMaxAttemptsStopThePlan) {
  const Reply bad = chat("switchyard/bad-request");
  EXPECT_EQ(bad.status, 400) << bad.body;  // the request's fault: the fallback would refuse it too
  EXPECT_EQ(bad.header("x-switchyard-model"), "mock/status-400");
  const Reply once = chat("switchyard/once");
  EXPECT_EQ(once.status, 502) << once.body;
  EXPECT_EQ(once.header("x-switchyard-model"), "mock/status-502");
}

TEST_F(Failover, AFallbackMayNameAnotherRoute) {
  const Reply r = chat("switchyard/via-route");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-model"), "claude/len-2/seed-3");
  EXPECT_EQ(r.header("x-switchyard-route"), "default");  // the route that matched, whose plan it was
  EXPECT_TRUE(r.header("x-switchyard-attempts").starts_with("mock/status-503;status=503;")) << r.header("x-switchyard-attempts");
}

TEST_F(Failover, TheRequestsModelsListIsAPlanToo) {
  const Reply r = chat("mock/status-503", false, R"(,"models":["mock/status-500","mock/len-2/echo"])");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-switchyard-model"), "mock/len-2/echo");
  // `models` is the gateway's: the provider does not receive it.
  const std::string sent(bj::parse(r.body).at("choices").at(0).at("message").at("content").as_string());
  EXPECT_EQ(sent.find("\"models\""), std::string::npos) << sent;
  EXPECT_NE(sent.find(R"("model":"len-2/echo")"), std::string::npos) << sent;
}

TEST_F(Failover, RetryAfterCoolsTheModelDown) {
  const Reply first = chat("switchyard/limited");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_TRUE(first.header("x-switchyard-attempts").starts_with("mock/status-429/retry-after-30s;status=429"))
      << first.header("x-switchyard-attempts");
  // Within the 30 s the limited model is not asked again.
  const Reply second = chat("switchyard/limited");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_TRUE(second.header("x-switchyard-attempts").starts_with("mock/status-429/retry-after-30s;status=0;error=cooling_down"))
      << second.header("x-switchyard-attempts");
}

TEST_F(Failover, StreamsFailOverBeforeTheirFirstByte) {
  const Reply s = chat("switchyard/chain", true);
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(s.header("x-switchyard-model"), "claude/len-4/seed-2");
  EXPECT_TRUE(s.body.starts_with("data: {")) << s.body;
  EXPECT_TRUE(s.body.ends_with("data: [DONE]\n\n")) << s.body;
  EXPECT_EQ(s.body.find("error"), std::string::npos) << s.body;

  // An Anthropic client: the same plan, answers in its dialect.
  const std::string messages =
      R"({"model":"switchyard/overloaded","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"Hi"}]})";
  const Reply a = call(port_, "POST", "/v1/messages", messages);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.header("x-switchyard-model"), "mock/len-3/seed-1");
  EXPECT_TRUE(a.body.starts_with("event: message_start\n")) << a.body;
  EXPECT_NE(a.body.find("event: message_stop\n"), std::string::npos) << a.body;
}

std::string streamed_text(const std::string& body) {
  std::string text;
  size_t at = 0;
  while ((at = body.find("data: {", at)) != std::string::npos) {
    const size_t end = body.find("\n\n", at);
    const bj::value v = bj::parse(std::string_view(body).substr(at + 6, end - at - 6));
    at = end;
    for (const auto& c : v.at("choices").as_array()) {
      if (const auto* content = c.at("delta").as_object().if_contains("content")) text += content->as_string();
    }
  }
  return text;
}

TEST_F(Failover, ASlowFirstTokenMovesToTheNextAttempt) {
  const Reply s = chat("switchyard/slow", true);
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(s.header("x-switchyard-model"), "claude/len-3/seed-1");
  const std::string a = s.header("x-switchyard-attempts");
  EXPECT_TRUE(a.starts_with("mock/ttft-1500ms/len-3;status=")) << a;
  EXPECT_NE(a.find(";error=ttft_timeout;"), std::string::npos) << a;
  EXPECT_EQ(s.body.find("error"), std::string::npos) << s.body;  // the client saw one clean stream
  EXPECT_EQ(streamed_text(s.body), std::string(bj::parse(chat("claude/len-3/seed-1").body)
                                                   .at("choices").at(0).at("message").at("content").as_string()));

  // The client's own deadline, on a plan of its own.
  const std::array<http::Header, 1> ttft{http::Header{"x-switchyard-ttft-timeout-ms", "150"}};
  const Reply own = call(port_, "POST", "/v1/chat/completions",
                         chat_body("mock/ttft-1500ms/len-2", true, R"(,"models":["mock/len-2"])"), ttft);
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(own.header("x-switchyard-model"), "mock/len-2");
  EXPECT_NE(own.header("x-switchyard-attempts").find("error=ttft_timeout"), std::string::npos);

  // An Anthropic client: the slow attempt was being translated, the fallback is not.
  const Reply a2 = call(port_, "POST", "/v1/messages",
                        R"({"model":"switchyard/slow","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"Hi"}]})");
  ASSERT_EQ(a2.status, 200) << a2.body;
  EXPECT_EQ(a2.header("x-switchyard-model"), "claude/len-3/seed-1");
  EXPECT_TRUE(a2.body.starts_with("event: message_start\n")) << a2.body;
}

// The `start=` of `model`'s entry in an x-switchyard-attempts chain; -1 when absent.
int start_of(const std::string& chain, std::string_view model) {
  const size_t at = chain.find(std::string(model) + ";");
  if (at == std::string::npos) return -1;
  const size_t start = chain.find(";start=", at);
  return start == std::string::npos ? -1 : std::atoi(chain.c_str() + start + 7);
}

TEST_F(Failover, HedgingKeepsTheSlowAttemptAndTheFirstTokenWins) {
  // The primary's first token comes at 600 ms, the fallback's (started at 150 ms) at 1650 ms:
  // hedged, the primary keeps running and wins; unhedged, it was cancelled for the fallback.
  const Reply hedged = chat("switchyard/hedged", true);
  ASSERT_EQ(hedged.status, 200) << hedged.body;
  EXPECT_EQ(hedged.header("x-switchyard-model"), "mock/ttft-600ms/len-3/seed-4");
  const std::string a = hedged.header("x-switchyard-attempts");
  EXPECT_NE(a.find("claude/ttft-1500ms/len-2;status="), std::string::npos) << a;
  // The hedge started at the 150 ms limit; the primary at once.
  EXPECT_GE(start_of(a, "claude/ttft-1500ms/len-2"), 150) << a;
  EXPECT_LT(start_of(a, "mock/ttft-600ms/len-3/seed-4"), 150) << a;
  EXPECT_NE(a.find(";error=hedge_lost;"), std::string::npos) << a;
  EXPECT_NE(a.find(";ttft="), std::string::npos) << a;
  EXPECT_EQ(hedged.body.find("error"), std::string::npos) << hedged.body;
  EXPECT_EQ(streamed_text(hedged.body), streamed_text(chat("mock/len-3/seed-4", true).body));

  const Reply unhedged = chat("switchyard/unhedged", true);
  ASSERT_EQ(unhedged.status, 200) << unhedged.body;
  EXPECT_EQ(unhedged.header("x-switchyard-model"), "claude/ttft-1500ms/len-2");
  EXPECT_TRUE(unhedged.header("x-switchyard-attempts").starts_with("mock/ttft-600ms/len-3/seed-4;status="))
      << unhedged.header("x-switchyard-attempts");
  EXPECT_NE(unhedged.header("x-switchyard-attempts").find("error=ttft_timeout"), std::string::npos);
}

TEST_F(Failover, AHedgeThatOvertakesCancelsTheSlowAttempt) {
  for (std::string_view path : {"/v1/chat/completions", "/v1/messages"}) {
    const std::string body =
        path == "/v1/messages"
            ? R"({"model":"switchyard/hedge-overtaken","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"Hi"}]})"
            : chat_body("switchyard/hedge-overtaken", true, "");
    const Reply r = call(port_, "POST", path, body);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("x-switchyard-model"), "mock/len-3/seed-1") << path;
    EXPECT_TRUE(r.header("x-switchyard-attempts").starts_with("claude/ttft-4000ms/len-3;status="))
        << r.header("x-switchyard-attempts");
    EXPECT_NE(r.header("x-switchyard-attempts").find(";error=hedge_lost;"), std::string::npos)
        << r.header("x-switchyard-attempts");
    EXPECT_LT(start_of(r.header("x-switchyard-attempts"), "claude/ttft-4000ms/len-3"), 150);
    EXPECT_EQ(r.body.find("\"error\""), std::string::npos) << r.body;
    // The loser's upstream connection was closed: the mock is not left streaming it.
    long active = -1;
    for (int i = 0; i < 100 && active != 0; ++i) {
      active = mock_active();
      if (active != 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(active, 0) << path;
  }
}

TEST_F(Failover, AFastFirstTokenStreamsAsIfUnwatched) {
  const Reply watched = chat("switchyard/quick", true);
  ASSERT_EQ(watched.status, 200) << watched.body;
  EXPECT_EQ(watched.header("x-switchyard-model"), "mock/len-5/seed-3/gap-1ms");
  EXPECT_TRUE(watched.header("x-switchyard-attempts").empty());
  const Reply direct = chat("mock/len-5/seed-3/gap-1ms", true);
  EXPECT_FALSE(streamed_text(direct.body).empty());
  EXPECT_EQ(streamed_text(watched.body), streamed_text(direct.body));
  EXPECT_TRUE(watched.body.ends_with("data: [DONE]\n\n")) << watched.body;
}

TEST_F(Failover, AStreamThatBreaksAfterItsFirstTokensEndsWithAnErrorEvent) {
  // Tokens have reached the client: the attempt is not silently replaced, even with a fallback.
  const Reply s = chat("switchyard/breaks", true);
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(s.header("x-switchyard-model"), "mock/len-10/reset-after-3/gap-1ms");
  const size_t last = s.body.rfind("data: ");
  ASSERT_NE(last, std::string::npos) << s.body;
  const bj::value error = bj::parse(std::string_view(s.body).substr(last + 6));
  EXPECT_NE(std::string(error.at("error").at("message").as_string()).find("broke off"), std::string::npos) << s.body;
  EXPECT_EQ(s.body.find("[DONE]"), std::string::npos) << s.body;
  EXPECT_EQ(streamed_text(s.body.substr(0, last)).empty(), false);

  // Anthropic clients get `event: error`, passed through or translated.
  for (std::string_view model : {"claude/len-10/reset-after-3/gap-1ms", "mock/len-10/reset-after-3/gap-1ms"}) {
    const Reply a = call(port_, "POST", "/v1/messages",
                         fmt::format(R"({{"model":"{}","max_tokens":50,"stream":true,"messages":[{{"role":"user","content":"Hi"}}]}})", model));
    ASSERT_EQ(a.status, 200) << a.body;
    EXPECT_NE(a.body.find("event: content_block_delta"), std::string::npos) << a.body;
    const size_t at = a.body.rfind("event: error\ndata: ");
    ASSERT_NE(at, std::string::npos) << model << "\n" << a.body;
    const bj::value e = bj::parse(std::string_view(a.body).substr(at + 19));
    EXPECT_EQ(e.at("type"), "error");
    EXPECT_TRUE(e.at("error").at("message").is_string());
    EXPECT_EQ(a.body.find("event: message_stop"), std::string::npos) << a.body;
  }
}

// The text of an Anthropic stream's text deltas; `complete`: it ended with message_stop.
std::string anthropic_streamed_text(const std::string& body, bool* complete = nullptr) {
  std::string text;
  size_t at = 0;
  while ((at = body.find("event: content_block_delta\ndata: ", at)) != std::string::npos) {
    at += 33;
    const size_t end = body.find("\n\n", at);
    const bj::value v = bj::parse(std::string_view(body).substr(at, end - at));
    if (v.at("delta").at("type") == "text_delta") text += v.at("delta").at("text").as_string();
    at = end;
  }
  if (complete != nullptr) *complete = body.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
  return text;
}

TEST_F(Failover, ResumedStreamsContinueFromTheFallbackInOneAnswer) {
  // What the client would have had: the primary's first three tokens, then the fallback's.
  const std::string head = streamed_text(chat("mock/len-3/seed-5", true).body);
  const std::string tail = streamed_text(chat("claude/len-4/seed-9", true).body);
  ASSERT_FALSE(head.empty());
  const Reply s = chat("switchyard/resumed", true);
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(s.body.find("\"error\""), std::string::npos) << s.body;
  EXPECT_TRUE(s.body.ends_with("data: [DONE]\n\n")) << s.body;
  EXPECT_EQ(streamed_text(s.body), head + tail);
  EXPECT_EQ(s.header("x-switchyard-model"), "mock/len-10/reset-after-3/gap-1ms/seed-5");  // the head was sent first

  // An Anthropic client, its stream passed through and continued by an OpenAI-protocol model
  // (after one that fails): one message, one text block.
  const Reply a = call(port_, "POST", "/v1/messages",
                       R"({"model":"switchyard/resumed-by-openai","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"Hi"}]})");
  ASSERT_EQ(a.status, 200) << a.body;
  bool complete = false;
  EXPECT_EQ(anthropic_streamed_text(a.body, &complete), head + streamed_text(chat("mock/len-4/seed-9", true).body));
  EXPECT_TRUE(complete) << a.body;
  EXPECT_EQ(a.body.find("event: error"), std::string::npos) << a.body;
  size_t starts = 0;
  for (size_t at = 0; (at = a.body.find("event: content_block_start", at)) != std::string::npos; ++at) ++starts;
  EXPECT_EQ(starts, 1u) << a.body;
  EXPECT_EQ(a.body.find("\"index\":1"), std::string::npos) << a.body;
}

TEST_F(Failover, AResumedStreamWithoutAHealthyFallbackEndsWithAnErrorEvent) {
  const Reply s = chat("switchyard/resume-exhausted", true);
  ASSERT_EQ(s.status, 200) << s.body;
  const size_t last = s.body.rfind("data: ");
  ASSERT_NE(last, std::string::npos) << s.body;
  const bj::value error = bj::parse(std::string_view(s.body).substr(last + 6));
  EXPECT_TRUE(error.at("error").at("message").is_string()) << s.body;
  EXPECT_EQ(s.body.find("[DONE]"), std::string::npos) << s.body;
  // Both breaks reached the client's text: three tokens, then two of the continuation.
  const std::string head = streamed_text(chat("mock/len-3/seed-5", true).body);
  const std::string text = streamed_text(s.body.substr(0, last));
  EXPECT_TRUE(text.starts_with(head)) << text;
  EXPECT_GT(text.size(), head.size()) << text;
}

TEST_F(Failover, AProviderThatHangsIsLeftForTheNextAttempt) {
  const Reply s = chat("switchyard/hung", true);
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_EQ(s.header("x-switchyard-model"), "claude/len-2");
  EXPECT_TRUE(s.header("x-switchyard-attempts").starts_with("mock/hang;status=0;error=ttft_timeout;"))
      << s.header("x-switchyard-attempts");
}

TEST_F(Failover, AResetBeforeTheAnswerMovesOn) {
  for (bool stream : {false, true}) {
    const Reply r = chat("switchyard/dropped", stream);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("x-switchyard-model"), "mock/len-2");
    const std::string a = r.header("x-switchyard-attempts");
    EXPECT_TRUE(a.starts_with("mock/drop;status=0;error=upstream_")) << a;
    EXPECT_NE(a.find(", claude/drop;status=0;error=upstream_"), std::string::npos) << a;
    const Reply m = call(port_, "POST", "/v1/messages",
                         fmt::format(R"({{"model":"switchyard/dropped","max_tokens":50,"stream":{},"messages":[{{"role":"user","content":"Hi"}}]}})",
                                     stream));
    ASSERT_EQ(m.status, 200) << m.body;
    EXPECT_EQ(m.header("x-switchyard-model"), "mock/len-2");
  }
}

// The fault-injection suite: every fault class, before the first byte and after it, for an
// OpenAI client (OpenAI-protocol provider) and an Anthropic client (Anthropic-protocol
// provider), streamed and not. The request's own `models` list names a healthy fallback.
struct Fault {
  std::string_view name;
  std::string_view model;     // after the provider's name
  std::string_view recorded;  // what x-switchyard-attempts says of the faulty attempt
  bool stream_only = false;   // a first-token limit or a broken stream: streams only
  bool after_tokens = false;  // the client has tokens: the stream ends with an error event
};
constexpr Fault kFaults[] = {
    {"refused", "", "status=0;error=upstream_unreachable;"},
    {"reset before the head", "drop", "status=0;error=upstream_unreachable;"},
    {"500", "status-500", "status=500;"},
    {"503", "status-503", "status=503;"},
    {"429 with Retry-After", "status-429/retry-after-1s", "status=429;"},
    {"hang before the first byte", "hang", "status=0;error=ttft_timeout;", true},
    {"slow first token", "ttft-2000ms/len-3", "status=0;error=ttft_timeout;", true},  // the mock waits before its head too
    {"malformed SSE before the first token", "garble", "status=200;error=malformed_stream;", true},
    {"malformed answer", "garble", "status=200;error=malformed_answer;"},
    {"reset mid-stream", "len-10/reset-after-3/gap-1ms", "", true, true},
    {"malformed SSE mid-stream", "len-10/garble-after-3/gap-1ms", "", true, true},
};

TEST_F(Failover, EveryFaultClassInBothDialectsStreamedAndNot) {
  const std::array<http::Header, 1> ttft{http::Header{"x-switchyard-ttft-timeout-ms", "200"}};
  int seed = 100;  // a model id of its own per request: no Retry-After cool-down carries over
  for (const Fault& fault : kFaults) {
    for (bool anthropic : {false, true}) {
      for (bool stream : {false, true}) {
        if (fault.stream_only && !stream) continue;
        if (fault.name == "malformed answer" && stream) continue;
        const std::string provider = anthropic ? "claude" : "mock";
        const std::string primary = fault.model.empty() ? fmt::format("down/gone")
                                                        : fmt::format("{}/{}/seed-{}", provider, fault.model, ++seed);
        const std::string fallback = fmt::format("{}/len-2/seed-7", provider);
        const std::string body =
            anthropic ? fmt::format(R"({{"model":"{}","models":["{}"],"max_tokens":50,"stream":{},"messages":[{{"role":"user","content":"Hi"}}]}})",
                                    primary, fallback, stream)
                      : chat_body(primary, stream, fmt::format(R"(,"models":["{}"])", fallback));
        const Reply r = call(port_, "POST", anthropic ? "/v1/messages" : "/v1/chat/completions", body, ttft);
        const std::string where = fmt::format("{} ({}, {})", fault.name, anthropic ? "anthropic" : "openai",
                                              stream ? "streamed" : "not streamed");
        ASSERT_EQ(r.status, 200) << where << "\n" << r.body;
        if (fault.after_tokens) {  // the stream began: it ends with an error event, never replaced
          EXPECT_EQ(r.header("x-switchyard-model"), primary) << where;
          EXPECT_NE(r.body.find(anthropic ? "event: error\ndata: " : "data: {\"error\":"), std::string::npos)
              << where << "\n" << r.body;
          EXPECT_EQ(r.body.find(anthropic ? "event: message_stop" : "[DONE]"), std::string::npos) << where;
          // Every event the client got is well-formed: a malformed one is not relayed.
          for (size_t at = 0; (at = r.body.find("data: ", at)) != std::string::npos;) {
            const size_t end = r.body.find("\n\n", at);
            boost::system::error_code ec;
            bj::parse(std::string_view(r.body).substr(at + 6, end - at - 6), ec);
            EXPECT_FALSE(ec) << where << ": " << r.body.substr(at, end - at);
            at = end;
          }
          continue;
        }
        // Before the first byte: invisible to the client, which gets the fallback's answer.
        EXPECT_EQ(r.header("x-switchyard-model"), fallback) << where;
        const std::string chain = r.header("x-switchyard-attempts");
        EXPECT_TRUE(chain.starts_with(fmt::format("{};{}", primary, fault.recorded))) << where << ": " << chain;
        EXPECT_NE(chain.find(fmt::format(", {};status=200;", fallback)), std::string::npos) << where << ": " << chain;
        EXPECT_EQ(r.body.find("error"), std::string::npos) << where << "\n" << r.body;
        if (stream) {
          EXPECT_NE(r.body.find(anthropic ? "event: message_stop" : "data: [DONE]"), std::string::npos) << where;
        } else {
          EXPECT_NO_THROW(bj::parse(r.body)) << where;
        }
      }
    }
  }
}

TEST_F(Failover, ThePlansDeadlineEndsAHungAttemptWithA504) {
  for (bool stream : {false, true}) {
    const Reply r = chat("switchyard/deadline", stream);
    EXPECT_EQ(r.status, 504) << r.body;
    const bj::value e = bj::parse(r.body);
    EXPECT_NE(std::string(e.at("error").at("message").as_string()).find("failover deadline of 300 ms; attempts: mock/hang;status=0;error=deadline;"),
              std::string::npos)
        << r.body;
  }
  const Reply a = call(port_, "POST", "/v1/messages",
                       R"({"model":"switchyard/deadline","max_tokens":50,"messages":[{"role":"user","content":"Hi"}]})");
  EXPECT_EQ(a.status, 504) << a.body;
  EXPECT_EQ(bj::parse(a.body).at("type"), "error") << a.body;
}

// Circuit breakers, on a gateway of their own (their state is process-wide).
class Circuits : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mock_ = new Process({SY_BINARY, "mock-upstream", "--port", "0"});
    const int mock_port = port_in(mock_->wait_for_line("listening on"));
    ASSERT_GT(mock_port, 0) << mock_->output();
    config_ = std::filesystem::temp_directory_path() / ("switchyard-cb-" + std::to_string(getpid()) + ".yaml");
    std::ofstream(config_) << fmt::format(R"(demo: false
database: ':memory:'
admin_key: sk-admin
circuit_breaker: {{failures: 3, cooldown_ms: 400}}
providers:
  - {{name: flaky, kind: openai, base_url: 'http://127.0.0.1:{0}/v1', models: '*'}}
  - {{name: good, kind: openai, base_url: 'http://127.0.0.1:{0}/v1', models: '*'}}
routers:
  guarded:
    routes: []
    defaultRoute: {{variants: [{{variant: {{modelId: flaky/status-500}}, weight: 1}}], fallbacks: [good/len-2]}}
)",
                                          mock_port);
    gateway_ = new Process({SY_BINARY, "serve", "--config", config_.string(), "--listen", "127.0.0.1:0", "--workers", "2"});
    port_ = port_in(gateway_->wait_for_line("listening on"));
    ASSERT_GT(port_, 0) << gateway_->output();
  }
  static void TearDownTestSuite() {
    delete gateway_;
    delete mock_;
    std::filesystem::remove(config_);
  }
  static std::string attempts() {
    const Reply r = call(port_, "POST", "/v1/chat/completions", chat_body("switchyard/guarded", false));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("x-switchyard-model"), "good/len-2");
    return r.header("x-switchyard-attempts");
  }
  static inline Process* mock_ = nullptr;
  static inline Process* gateway_ = nullptr;
  static inline int port_ = 0;
  static inline std::filesystem::path config_;
};

TEST_F(Circuits, OpenAfterConsecutiveFailuresThenProbeAfterTheCooldown) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(attempts().starts_with("flaky/status-500;status=500;")) << i;
  }
  // Open (shared by both workers): skipped without a request, the reason in the chain.
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(attempts().starts_with("flaky/status-500;status=0;error=circuit_open;")) << i;
  }
  const std::array<http::Header, 1> admin{http::Header{"authorization", "Bearer sk-admin"}};
  const Reply health = call(port_, "GET", "/router/v1/health", "", admin);
  ASSERT_EQ(health.status, 200) << health.body;
  const bj::object h = bj::parse(health.body).as_object();
  bool model_open = false, provider_open = false;
  for (const auto& m : h.at("models").as_array()) {
    model_open |= m.at("name") == "flaky/status-500" && m.at("state") == "open" && m.at("times_opened") == 1;
  }
  for (const auto& p : h.at("providers").as_array()) provider_open |= p.at("name") == "flaky" && p.at("state") == "open";
  EXPECT_TRUE(model_open) << health.body;
  EXPECT_TRUE(provider_open) << health.body;
  EXPECT_EQ(call(port_, "GET", "/router/v1/health").status, 401);

  // After the cool-down one request probes it; it fails again, so the circuit opens again.
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  EXPECT_TRUE(attempts().starts_with("flaky/status-500;status=500;"));
  EXPECT_TRUE(attempts().starts_with("flaky/status-500;status=0;error=circuit_open;"));
}

}  // namespace
}  // namespace sy::testing
