// The gateway and the mock upstream as real processes on loopback ports, spoken to over HTTP.
#include <signal.h>

#include <gtest/gtest.h>

#include <array>
#include <boost/asio.hpp>
#include <chrono>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "http/client.h"
#include "harness.h"
#include "process.h"

namespace sy::testing {
namespace {

namespace asio = boost::asio;
using http::Header;
using http::Task;

class Gateway : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mock_ = new Process({SY_BINARY, "mock-upstream", "--port", "0", "--api-key", "sk-test"});
    mock_port_ = port_in(mock_->wait_for_line("listening on"));
    ASSERT_GT(mock_port_, 0) << mock_->output();
    config_ = std::filesystem::temp_directory_path() / ("switchyard-it-" + std::to_string(getpid()) + ".yaml");
    std::ofstream(config_) << "demo: true\n"
                              "database: ':memory:'\n"
                              "limits: {body_bytes: 65536}\n"
                              "providers:\n"
                              "  - name: mock\n"
                              "    kind: openai\n"
                              "    base_url: http://127.0.0.1:" << mock_port_ << "/v1\n"
                              "    api_key: sk-test\n"
                              "    models: '*'\n"
                              "  - name: claude\n"
                              "    kind: anthropic\n"
                              "    base_url: http://127.0.0.1:" << mock_port_ << "/v1\n"
                              "    api_key: sk-test\n"
                              "    models: '*'\n"
                              "  - name: byok\n"
                              "    base_url: http://127.0.0.1:" << mock_port_ << "/v1\n"
                              "    models: '*'\n"
                              "  - name: down\n"
                              "    base_url: http://127.0.0.1:1/v1\n"
                              "    models: [gone]\n";
    gateway_ = start_gateway();
    port_ = port_in(gateway_->wait_for_line("listening on"));
    ASSERT_GT(port_, 0) << gateway_->output();
  }
  static void TearDownTestSuite() {
    delete gateway_;
    delete mock_;
    std::filesystem::remove(config_);
  }
  static Process* start_gateway() {
    return new Process({SY_BINARY, "serve", "--config", config_.string(), "--listen", "127.0.0.1:0", "--workers", "2"});
  }

  static http::Url url(int port) { return *http::Url::parse("http://127.0.0.1:" + std::to_string(port)); }

  static Reply call(std::string_view method, std::string_view target, std::string_view body = "",
                    int port = 0, std::span<const Header> headers = {}) {
    return testing::call(port == 0 ? port_ : port, method, target, body, headers);
  }

  static Reply chat(std::string_view model, bool stream = false, std::string_view extra = "") {
    return call("POST", "/v1/chat/completions", chat_body(model, stream, extra));
  }

  static long mock_active() {
    const std::array<Header, 1> auth{Header{"authorization", "Bearer sk-test"}};
    const Reply r = call("GET", "/mock/stats", "", mock_port_, auth);
    const auto at = r.body.find("\"active\":");
    return std::atol(r.body.c_str() + at + 9);
  }

  static inline Process* mock_ = nullptr;
  static inline Process* gateway_ = nullptr;
  static inline int mock_port_ = 0;
  static inline int port_ = 0;
  static inline std::filesystem::path config_;
};

TEST_F(Gateway, NonStreamingCompletionCarriesItsHeaders) {
  const Reply r = chat("mock/len-5/seed-3");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("object":"chat.completion")"), std::string::npos);
  EXPECT_NE(r.body.find(R"("finish_reason":"stop")"), std::string::npos);
  EXPECT_NE(r.body.find(R"("completion_tokens":5)"), std::string::npos);
  // The upstream saw the spliced model name, without the provider prefix.
  EXPECT_NE(r.body.find(R"("model":"len-5/seed-3")"), std::string::npos);
  EXPECT_EQ(r.headers.at("x-switchyard-model"), "mock/len-5/seed-3");
  EXPECT_EQ(r.headers.at("x-switchyard-provider"), "mock");
  EXPECT_EQ(r.headers.at("x-switchyard-request-id").rfind("req_", 0), 0u);
  EXPECT_FALSE(r.headers.at("x-upstream-request-id").empty());
}

TEST_F(Gateway, SameSeedSameAnswer) {
  EXPECT_EQ(chat("mock/len-8/seed-9").body.substr(100), chat("mock/len-8/seed-9").body.substr(100));
}

TEST_F(Gateway, DemoProviderAnswersWithoutKeys) {
  const Reply r = chat("demo/fast");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.at("x-switchyard-model"), "demo/fast");
  const Reply models = call("GET", "/v1/models");
  EXPECT_NE(models.body.find(R"("id":"demo/fast")"), std::string::npos);
  EXPECT_NE(models.body.find(R"("id":"demo/smart")"), std::string::npos);
  EXPECT_NE(models.body.find(R"("id":"demo/cheap")"), std::string::npos);
}

// The usage object's number `key`, from a response body or a stream's usage chunk.
long usage_number(const std::string& body, const std::string& key) {
  const size_t usage = body.find(R"("usage":{)");
  const size_t at = body.find("\"" + key + "\":", usage);
  return usage == std::string::npos || at == std::string::npos ? -1 : std::atol(body.c_str() + at + key.size() + 3);
}

std::string messages_body(std::string_view model, bool stream) {
  return std::string(R"({"model":")") + std::string(model) + R"(","max_tokens":64,"messages":[{"role":"user","content":"Hello"}])" +
         (stream ? R"(,"stream":true)" : "") + "}";
}

TEST_F(Gateway, AnthropicMessagesPassThrough) {
  for (std::string_view path : {"/v1/messages", "/anthropic/v1/messages"}) {
    const Reply r = call("POST", path, messages_body("claude/len-4", false));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find(R"("type":"message")"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(R"("model":"len-4")"), std::string::npos) << r.body;  // the spliced upstream name
    EXPECT_NE(r.body.find(R"("output_tokens":4)"), std::string::npos) << r.body;
    EXPECT_EQ(r.header("x-switchyard-provider"), "claude");
    EXPECT_FALSE(r.header("x-upstream-request-id").empty());
  }
  const Reply s = call("POST", "/v1/messages", messages_body("claude/len-3/gap-1ms", true));
  ASSERT_EQ(s.status, 200) << s.body;
  EXPECT_TRUE(s.body.starts_with("event: message_start\n")) << s.body;
  EXPECT_TRUE(s.body.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")) << s.body;
  size_t deltas = 0;
  for (size_t at = 0; (at = s.body.find("event: content_block_delta", at)) != std::string::npos; ++at) ++deltas;
  EXPECT_EQ(deltas, 3u);
}

TEST_F(Gateway, AnthropicErrorsInAnthropicShape) {
  const Reply limited = call("POST", "/v1/messages", messages_body("claude/status-429/retry-after-4s", false));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.header("retry-after"), "4");
  EXPECT_NE(limited.body.find(R"({"type":"error","error":{"type":"rate_limit_error")"), std::string::npos) << limited.body;
  const Reply unknown = call("POST", "/v1/messages", messages_body("claudia/x", false));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find(R"({"type":"error","error":{"type":"not_found_error","message":"The model 'claudia/x')"),
            std::string::npos)
      << unknown.body;
  const Reply bad = call("POST", "/v1/messages", "{");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find(R"("type":"invalid_request_error")"), std::string::npos) << bad.body;
  // The other endpoint translates (tests/integration/translate_test.cc has the details).
  const Reply cross = call("POST", "/v1/chat/completions", chat_body("claude/len-2", false));
  EXPECT_EQ(cross.status, 200) << cross.body;
  EXPECT_NE(cross.body.find(R"("object":"chat.completion")"), std::string::npos) << cross.body;
  // A client's own Anthropic key goes as x-api-key.
  const std::array<Header, 1> wrong{Header{"x-switchyard-provider-key-claude", "sk-wrong"}};
  const Reply refused = call("POST", "/v1/messages", messages_body("claude/len-2", false), 0, wrong);
  EXPECT_EQ(refused.status, 401);
  EXPECT_NE(refused.body.find("authentication_error"), std::string::npos) << refused.body;
}

TEST_F(Gateway, ClientsMayBringTheirOwnProviderKey) {
  // The mock wants sk-test; provider byok has no key of its own.
  const Reply without = chat("byok/len-2");
  EXPECT_EQ(without.status, 401) << without.body;
  const std::array<Header, 1> key{Header{"x-switchyard-provider-key-byok", "sk-test"}};
  const Reply with = call("POST", "/v1/chat/completions", chat_body("byok/len-2", false), 0, key);
  EXPECT_EQ(with.status, 200) << with.body;
  // A wrong key of the client's replaces a right one of the configuration.
  const std::array<Header, 1> wrong{Header{"x-switchyard-provider-key-mock", "sk-wrong"}};
  EXPECT_EQ(call("POST", "/v1/chat/completions", chat_body("mock/len-2", false), 0, wrong).status, 401);
  EXPECT_EQ(chat("mock/len-2").status, 200);
}

TEST_F(Gateway, PricedAnswersSayWhatTheyCost) {
  // demo/fast costs 0.10 per million input tokens and 0.40 per million output tokens.
  const Reply r = chat("demo/fast");
  ASSERT_EQ(r.status, 200) << r.body;
  const long in = usage_number(r.body, "prompt_tokens");
  const long out = usage_number(r.body, "completion_tokens");
  ASSERT_GT(in, 0);
  ASSERT_GT(out, 0);
  const double want = (in * 0.10 + out * 0.40) / 1e6;
  ASSERT_FALSE(r.header("x-switchyard-cost-usd").empty()) << r.body;
  EXPECT_NEAR(std::stod(r.header("x-switchyard-cost-usd")), want, 1e-10);
  const size_t cost_at = r.body.find(R"("usage":{"cost":)");
  ASSERT_NE(cost_at, std::string::npos) << r.body;
  EXPECT_NEAR(std::stod(r.body.substr(cost_at + 17)), want, 1e-10);

  // Streams carry it in the usage chunk.
  const Reply s = call("POST", "/v1/chat/completions",
                       chat_body("demo/fast", true, R"(,"stream_options":{"include_usage":true})"));
  ASSERT_EQ(s.status, 200) << s.body;
  const size_t stream_cost = s.body.find(R"("usage":{"cost":)");
  ASSERT_NE(stream_cost, std::string::npos) << s.body;
  const double stream_want = (usage_number(s.body, "prompt_tokens") * 0.10 + usage_number(s.body, "completion_tokens") * 0.40) / 1e6;
  EXPECT_NEAR(std::stod(s.body.substr(stream_cost + 17)), stream_want, 1e-10);

  // A model without a price (a wildcard provider's) says nothing about cost.
  const Reply u = chat("mock/len-3");
  EXPECT_EQ(u.header("x-switchyard-cost-usd"), "");
  EXPECT_EQ(u.body.find(R"("cost")"), std::string::npos);
}

TEST_F(Gateway, StreamRelaysEveryChunkThenDone) {
  const Reply r = chat("mock/len-6", true);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.at("content-type").rfind("text/event-stream", 0), 0u);
  size_t deltas = 0;
  for (size_t at = 0; (at = r.body.find(R"("delta":{"content":)", at)) != std::string::npos; ++at) ++deltas;
  EXPECT_EQ(deltas, 6u);
  EXPECT_NE(r.body.find(R"("finish_reason":"stop")"), std::string::npos);
  EXPECT_TRUE(r.body.ends_with("data: [DONE]\n\n"));
  EXPECT_EQ(r.body.find(R"("usage":{)"), std::string::npos);  // not asked for
}

TEST_F(Gateway, StreamIncludesUsageWhenAsked) {
  const Reply r = chat("mock/len-4", true, R"(,"stream_options":{"include_usage":true})");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("choices":[],"usage":{"prompt_tokens")"), std::string::npos);
  EXPECT_NE(r.body.find(R"("completion_tokens":4)"), std::string::npos);
}

TEST_F(Gateway, StreamArrivesAsItIsProduced) {
  // 5 deltas 80 ms apart: the first must arrive long before the last is produced.
  http::Client client;
  run([&]() -> Task<void> {
    auto ex = client.exchange(url(port_));
    const std::string body = chat_body("mock/len-5/gap-80ms", true);
    const std::array<std::string_view, 1> parts{body};
    auto r = co_await ex->send({"POST", "/v1/chat/completions", {}, parts});
    EXPECT_TRUE(r);
    const auto start = std::chrono::steady_clock::now();
    std::string seen;
    while (seen.find(R"({"content":)") == std::string::npos) {
      auto piece = co_await ex->read_some();
      EXPECT_TRUE(piece && !piece->empty());
      if (!piece || piece->empty()) co_return;
      seen.append(*piece);
    }
    const auto first = std::chrono::steady_clock::now() - start;
    EXPECT_LT(first, std::chrono::milliseconds(250)) << "the first delta was held back";
    auto rest = co_await ex->read_body();
    EXPECT_TRUE(rest && rest->ends_with("data: [DONE]\n\n"));
  });
}

TEST_F(Gateway, UnknownModelIs404WithSuggestion) {
  const Reply r = chat("demo/fats");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find(R"("code":"model_not_found")"), std::string::npos);
  EXPECT_NE(r.body.find("Did you mean 'demo/fast'"), std::string::npos);
  EXPECT_NE(r.body.find(R"("param":"model")"), std::string::npos);
  EXPECT_EQ(r.headers.at("x-switchyard-model"), "demo/fats");
}

TEST_F(Gateway, MalformedRequestsGetOpenAiErrors) {
  const Reply bad_json = call("POST", "/v1/chat/completions", R"({"model": "demo/fast", )");
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_NE(bad_json.body.find(R"({"error":{"message":"The request body is not valid JSON)"), std::string::npos);
  EXPECT_NE(bad_json.body.find(R"("type":"invalid_request_error")"), std::string::npos);
  EXPECT_FALSE(bad_json.headers.at("x-switchyard-request-id").empty());

  const Reply no_model = call("POST", "/v1/chat/completions", R"({"messages":[]})");
  EXPECT_EQ(no_model.status, 400);
  EXPECT_NE(no_model.body.find(R"("param":"model")"), std::string::npos);

  const Reply no_messages = call("POST", "/v1/chat/completions", R"({"model":"demo/fast"})");
  EXPECT_EQ(no_messages.status, 400);
  EXPECT_NE(no_messages.body.find(R"("param":"messages")"), std::string::npos);

  const Reply wrong_method = call("GET", "/v1/chat/completions");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.headers.at("allow"), "POST");

  const Reply wrong_path = call("GET", "/v1/nothing");
  EXPECT_EQ(wrong_path.status, 404);
  EXPECT_NE(wrong_path.body.find("Unknown path"), std::string::npos);
}

TEST_F(Gateway, OversizedBodyIs413AndServerKeepsServing) {
  const std::string big = chat_body("demo/fast", false, R"(,"pad":")" + std::string(70000, 'x') + "\"");
  const Reply r = call("POST", "/v1/chat/completions", big);
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("limits.body_bytes"), std::string::npos);
  EXPECT_NE(r.body.find(R"("code":"payload_too_large")"), std::string::npos);
  EXPECT_EQ(chat("mock/len-2").status, 200);
}

TEST_F(Gateway, UpstreamErrorsPassThrough) {
  const Reply r = chat("mock/status-429/retry-after-7s");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers.at("retry-after"), "7");
  EXPECT_NE(r.body.find(R"("code":"rate_limit_exceeded")"), std::string::npos);
  EXPECT_EQ(r.headers.at("x-switchyard-model"), "mock/status-429/retry-after-7s");
  const Reply s = chat("mock/status-500");
  EXPECT_EQ(s.status, 500);
  EXPECT_NE(s.body.find(R"("type":"server_error")"), std::string::npos);
}

TEST_F(Gateway, UnreachableUpstreamIs502) {
  const Reply r = chat("down/gone");
  EXPECT_EQ(r.status, 502);
  EXPECT_NE(r.body.find("provider 'down' failed"), std::string::npos);
  EXPECT_NE(r.body.find(R"("code":"upstream_unreachable")"), std::string::npos);
}

TEST_F(Gateway, UpstreamResetMidStreamEndsWithErrorEvent) {
  const Reply r = chat("mock/len-10/reset-after-3", true);
  ASSERT_EQ(r.status, 200);
  size_t deltas = 0;
  for (size_t at = 0; (at = r.body.find(R"("delta":{"content":)", at)) != std::string::npos; ++at) ++deltas;
  EXPECT_EQ(deltas, 3u);
  EXPECT_NE(r.body.find(R"(data: {"error":{"message":"the provider's stream broke off)"), std::string::npos);
  EXPECT_EQ(r.body.find("[DONE]"), std::string::npos);
}

TEST_F(Gateway, ClientDisconnectCancelsUpstream) {
  http::Client client;
  run([&]() -> Task<void> {
    auto ex = client.exchange(url(port_));
    const std::string body = chat_body("mock/len-1000/gap-50ms", true);
    const std::array<std::string_view, 1> parts{body};
    auto r = co_await ex->send({"POST", "/v1/chat/completions", {}, parts});
    EXPECT_TRUE(r);
    auto piece = co_await ex->read_some();
    EXPECT_TRUE(piece && !piece->empty());
    ex->cancel();  // the client goes away mid-stream
  });
  // The mock sees its request end within a few of its 50 ms frames.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (mock_active() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(mock_active(), 0);
}

TEST_F(Gateway, ClientDisconnectWhileWaitingCancelsUpstream) {
  http::Client client;
  run([&]() -> Task<void> {
    auto ex = client.exchange(url(port_));
    const std::string body = chat_body("mock/hang", false);
    const std::array<std::string_view, 1> parts{body};
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(200));
    t.async_wait([&](auto) { ex->cancel(); });
    auto r = co_await ex->send({"POST", "/v1/chat/completions", {}, parts});
    EXPECT_FALSE(r);
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (mock_active() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(mock_active(), 0);
}

TEST_F(Gateway, HealthAndReadiness) {
  EXPECT_EQ(call("GET", "/healthz").status, 200);
  const Reply ready = call("GET", "/readyz");
  EXPECT_EQ(ready.status, 200);
  EXPECT_NE(ready.body.find("ready"), std::string::npos);
}

TEST_F(Gateway, KeepAliveServesManyRequestsOnOneConnection) {
  http::Client client;
  run([&]() -> Task<void> {
    for (int i = 0; i < 5; ++i) {
      auto ex = client.exchange(url(port_));
      const std::string body = chat_body("mock/len-1", false);
      const std::array<std::string_view, 1> parts{body};
      auto r = co_await ex->send({"POST", "/v1/chat/completions", {}, parts});
      EXPECT_TRUE(r);
      EXPECT_EQ(ex->header("connection"), "keep-alive");
      co_await ex->read_body();
    }
  });
  EXPECT_EQ(client.counters().idle.load(), 1);
  EXPECT_EQ(client.counters().open.load(), 1);
}

TEST_F(Gateway, SigtermDrainsStreamsInFlight) {
  Process* gw = start_gateway();
  const int port = port_in(gw->wait_for_line("listening on"));
  ASSERT_GT(port, 0);
  std::string body_seen;
  http::Client client;
  run([&]() -> Task<void> {
    auto ex = client.exchange(url(port));
    const std::string body = chat_body("mock/len-10/gap-30ms", true);
    const std::array<std::string_view, 1> parts{body};
    auto r = co_await ex->send({"POST", "/v1/chat/completions", {}, parts});
    EXPECT_TRUE(r);
    gw->signal(SIGTERM);
    auto rest = co_await ex->read_body();
    EXPECT_TRUE(rest);
    if (rest) body_seen = *rest;
  });
  EXPECT_TRUE(body_seen.ends_with("data: [DONE]\n\n")) << body_seen;
  EXPECT_EQ(gw->wait(), 0);
  delete gw;
}

// A gateway with tight timeouts, for the tests of what happens when someone is too slow.
class Timeouts : public Gateway {
 protected:
  void SetUp() override {
    config_path_ = std::filesystem::temp_directory_path() / ("switchyard-it-timeouts-" + std::to_string(getpid()) + ".yaml");
    std::ofstream(config_path_) << "demo: false\n"
                                   "database: ':memory:'\n"
                                   "limits: {read_timeout_ms: 300, idle_timeout_ms: 600, drain_timeout_ms: 300}\n"
                                   "upstream: {read_timeout_ms: 500}\n"
                                   "providers:\n"
                                   "  - name: mock\n"
                                   "    kind: openai\n"
                                   "    base_url: http://127.0.0.1:" << mock_port_ << "/v1\n"
                                   "    api_key: sk-test\n"
                                   "    models: '*'\n";
    gw_ = std::make_unique<Process>(std::vector<std::string>{SY_BINARY, "serve", "--config", config_path_.string(), "--listen", "127.0.0.1:0", "--workers", "1"});
    port_here_ = port_in(gw_->wait_for_line("listening on"));
    ASSERT_GT(port_here_, 0) << gw_->output();
  }
  void TearDown() override {
    gw_.reset();
    std::filesystem::remove(config_path_);
  }

  // Sends `bytes` on a new connection, then reads until the server closes it (or 5 s pass).
  std::string exchange_raw(std::string_view bytes) const {
    asio::io_context ioc;
    asio::ip::tcp::socket s(ioc);
    s.connect({asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port_here_)});
    if (!bytes.empty()) asio::write(s, asio::buffer(bytes));
    std::string got;
    std::array<char, 4096> buf;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    s.non_blocking(true);
    while (std::chrono::steady_clock::now() < give_up) {
      boost::system::error_code ec;
      const size_t n = s.read_some(asio::buffer(buf), ec);
      if (ec == asio::error::would_block) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      if (ec) return got;  // closed by the server
      got.append(buf.data(), n);
    }
    return got + "<still open after 5 s>";
  }

  std::unique_ptr<Process> gw_;
  std::filesystem::path config_path_;
  int port_here_ = 0;
};

TEST_F(Timeouts, ADrainThatTimesOutStopsCleanly) {
  // A stream far longer than the drain allows: SIGTERM stops the server after drain_timeout_ms,
  // with the stream's coroutine still running, and the process exits normally.
  std::atomic<bool> streaming{false};
  std::thread client([&] {
    try {
      stream(port_here_, "/v1/chat/completions", chat_body("mock/len-200/gap-100ms", true), {},
             [&](std::string_view) { streaming = true; });
    } catch (const std::exception&) {
    }
  });
  for (int i = 0; i < 200 && !streaming; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(streaming);
  gw_->signal(SIGTERM);
  EXPECT_EQ(gw_->wait(), 0) << gw_->output();
  client.join();
}

TEST_F(Timeouts, RequestTooSlowToArriveIs408) {
  const std::string got = exchange_raw("POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                                       "content-length: 100\r\n\r\n{\"model\":");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 408")) << got;
  EXPECT_NE(got.find("limits.read_timeout_ms"), std::string::npos) << got;
  EXPECT_NE(got.find(R"("code":"request_timeout")"), std::string::npos) << got;
}

TEST_F(Timeouts, IdleConnectionIsClosed) {
  EXPECT_EQ(exchange_raw(""), "");  // closed with no answer: nothing was asked
}

TEST_F(Timeouts, SilentProviderIs504) {
  const Reply r = call("POST", "/v1/chat/completions", chat_body("mock/ttft-3000ms", false), port_here_);
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_NE(r.body.find("sent nothing for 500 ms"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("code":"upstream_timeout")"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace sy::testing
