// What the mock's three protocols emit for `garble`, `faults` and `slow`, over loopback: the
// same bytes a gateway would read.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_scan.h"
#include "http/client.h"
#include "mock/mock.h"
#include "mock/request.h"

namespace sy::mock {
namespace {

struct Reply {
  int status = 0;  // 0: the connection was reset before a response
  std::string content_type;
  std::string retry_after;
  std::string body;
  bool complete = false;  // the body ended as HTTP frames an end (no reset)
};

struct Event {
  std::string name;  // the `event:` line, when there is one
  std::string data;
};

http::Task<void> exchange(http::Client& client, http::Url url, std::string target, std::string body, Reply& out) {
  auto ex = client.exchange(url);
  const std::array<std::string_view, 1> parts{body};
  if (auto sent = co_await ex->send({"POST", target, {}, parts}); !sent) co_return;
  out.status = ex->status();
  out.content_type = std::string(ex->header("content-type"));
  out.retry_after = std::string(ex->header("retry-after"));
  for (;;) {
    auto piece = co_await ex->read_some();
    if (!piece) co_return;
    if (piece->empty()) break;
    out.body += *piece;
  }
  out.complete = true;
}

// The SSE events of `body` (Gemini's \r\n line ends included).
std::vector<Event> events(std::string body) {
  std::erase(body, '\r');
  std::vector<Event> out;
  std::string_view rest = body;
  while (!rest.empty()) {
    const size_t end = rest.find("\n\n");
    std::string_view block = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 2);
    Event e;
    while (!block.empty()) {
      const size_t nl = block.find('\n');
      const std::string_view line = block.substr(0, nl);
      block.remove_prefix(nl == std::string_view::npos ? block.size() : nl + 1);
      if (line.starts_with("event: ")) e.name = line.substr(7);
      if (line.starts_with("data: ")) e.data = line.substr(6);
    }
    out.push_back(std::move(e));
  }
  return out;
}

bool valid_json(std::string_view text) { return static_cast<bool>(json::validate(text)); }

// One protocol's request and what marks its content deltas, its end and its answer.
struct Api {
  Protocol protocol;
  std::string_view content;  // in every content delta's data
  std::string_view end;      // in the stream's closing events only
  std::string_view answer;   // how a non-streamed answer begins
};

constexpr Api kOpenAi{Protocol::kOpenAi, R"("delta":{"content":)", "[DONE]", R"({"id":"chatcmpl-)"};
constexpr Api kAnthropic{Protocol::kAnthropic, R"("type":"text_delta")", "message_stop", R"({"id":"msg_)"};
constexpr Api kGemini{Protocol::kGemini, R"("parts":[{"text":)", "finishReason", R"({"candidates":)"};

class MockFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    auto port = mock_.start();
    ASSERT_TRUE(port) << port.error().message;
    url_ = *http::Url::parse(fmt::format("http://127.0.0.1:{}", *port));
  }

  Reply ask(const Api& api, std::string_view model, bool stream) {
    std::string target;
    std::string body;
    switch (api.protocol) {
      case Protocol::kOpenAi:
        target = "/v1/chat/completions";
        body = fmt::format(R"({{"model":"{}","stream":{},"messages":[{{"role":"user","content":"Hi"}}]}})", model, stream);
        break;
      case Protocol::kAnthropic:
        target = "/v1/messages";
        body = fmt::format(R"({{"model":"{}","max_tokens":64,"stream":{},"messages":[{{"role":"user","content":"Hi"}}]}})",
                           model, stream);
        break;
      case Protocol::kGemini:
        target = fmt::format("/v1beta/models/{}:{}", model, stream ? "streamGenerateContent?alt=sse" : "generateContent");
        body = R"({"contents":[{"role":"user","parts":[{"text":"Hi"}]}]})";
        break;
    }
    return post(target, body);
  }

  Reply post(std::string target, std::string body) {
    Reply reply;
    boost::asio::io_context ioc;
    {
      http::Client client;  // its pooled connections live on ioc: it goes first
      boost::asio::co_spawn(ioc, exchange(client, url_, std::move(target), std::move(body), reply),
                            [&](std::exception_ptr) { ioc.stop(); });
      ioc.run();
    }
    return reply;
  }

  // Every request of faults-100 fails, and each fault shows in the protocol's own shape.
  void expect_every_fault(const Api& api, const std::set<std::string>& expected);

  MockUpstream mock_{MockOptions{}};
  http::Url url_;
};

// N content deltas that parse, then one event that does not, then the response's clean end.
void expect_garbled_stream(const Api& api, const Reply& r, size_t n) {
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.complete) << "the response ends, without a reset";
  EXPECT_EQ(r.body.find(api.end), std::string::npos) << r.body;
  const std::vector<Event> all = events(r.body);
  ASSERT_FALSE(all.empty());
  const Event& last = all.back();
  EXPECT_FALSE(valid_json(last.data)) << last.data;
  EXPECT_TRUE(last.data.ends_with(R"("trunc)")) << last.data;
  EXPECT_EQ(last.name, api.protocol == Protocol::kAnthropic ? "content_block_delta" : "");
  size_t deltas = 0;
  for (size_t i = 0; i + 1 < all.size(); ++i) {
    EXPECT_TRUE(valid_json(all[i].data)) << all[i].data;
    if (all[i].data.find(api.content) != std::string::npos) ++deltas;
  }
  EXPECT_EQ(deltas, n) << r.body;
}

TEST_F(MockFaults, GarbleAfterNDeltasInEveryProtocol) {
  for (const Api* api : {&kOpenAi, &kAnthropic, &kGemini}) {
    SCOPED_TRACE(api->answer);
    expect_garbled_stream(*api, ask(*api, "len-8/garble-after-3", true), 3);
  }
}

TEST_F(MockFaults, GarbleReplacesTheFirstDeltaAfterTheOpeningEvents) {
  for (const Api* api : {&kOpenAi, &kAnthropic, &kGemini}) {
    SCOPED_TRACE(api->answer);
    const Reply r = ask(*api, "len-8/garble/gap-1ms", true);
    expect_garbled_stream(*api, r, 0);
    const std::vector<Event> all = events(r.body);
    if (api->protocol == Protocol::kOpenAi) {
      EXPECT_NE(all.front().data.find(R"("role":"assistant")"), std::string::npos);
    }
    if (api->protocol == Protocol::kAnthropic) {
      EXPECT_EQ(all.front().name, "message_start");
    }
    if (api->protocol == Protocol::kGemini) {
      EXPECT_EQ(all.size(), 1u);
    }
  }
}

TEST_F(MockFaults, GarbleAfterTheLastDeltaReplacesTheClosingEvents) {
  expect_garbled_stream(kOpenAi, ask(kOpenAi, "len-4/garble-after-4", true), 4);
  // Past the answer's end: an ordinary answer.
  const Reply r = ask(kOpenAi, "len-4/garble-after-5", true);
  EXPECT_NE(r.body.find("[DONE]"), std::string::npos);
}

TEST_F(MockFaults, GarbledAnswerIsCutOffJson) {
  for (const Api* api : {&kOpenAi, &kAnthropic, &kGemini}) {
    SCOPED_TRACE(api->answer);
    const Reply r = ask(*api, "len-8/garble", false);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.content_type.starts_with("application/json")) << r.content_type;
    EXPECT_TRUE(r.body.starts_with(api->answer)) << r.body;
    EXPECT_FALSE(valid_json(r.body)) << r.body;
    EXPECT_TRUE(valid_json(ask(*api, "len-8", false).body));
  }
}

TEST_F(MockFaults, GeminiArrayStreamIsCutOff) {
  const Reply r = ask(kGemini, "len-4/garble-after-2", true);
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.body.starts_with("data: "));  // alt=sse; without it, one JSON array:
  const Reply array = post("/v1beta/models/len-4/garble-after-2:streamGenerateContent",
                           R"({"contents":[{"role":"user","parts":[{"text":"Hi"}]}]})");
  EXPECT_TRUE(array.complete);
  EXPECT_TRUE(array.body.starts_with("[{")) << array.body;
  EXPECT_TRUE(array.body.ends_with(R"("text":"trunc)")) << array.body;
  EXPECT_FALSE(valid_json(array.body));
}

// The older fault beside it, through the same delta loop: N deltas, then a reset.
TEST_F(MockFaults, ResetAfterNDeltasInEveryProtocol) {
  for (const Api* api : {&kOpenAi, &kAnthropic, &kGemini}) {
    SCOPED_TRACE(api->answer);
    const Reply r = ask(*api, "len-8/reset-after-3/gap-1ms", true);
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.complete);
    size_t deltas = 0;
    for (const Event& e : events(r.body)) {
      EXPECT_TRUE(valid_json(e.data)) << e.data;
      if (e.data.find(api->content) != std::string::npos) ++deltas;
    }
    EXPECT_EQ(deltas, 3u) << r.body;
  }
}

void MockFaults::expect_every_fault(const Api& api, const std::set<std::string>& expected) {
  std::set<std::string> seen;
  for (int i = 0; i < 300 && seen != expected; ++i) {
    const bool stream = i % 2 == 1;
    const Reply r = ask(api, "len-4/faults-100/seed-11", stream);
    if (r.status == 0) {
      seen.insert("drop");
      continue;
    }
    if (r.status == 200) {
      seen.insert("garble");
      if (stream) {
        expect_garbled_stream(api, r, 0);
      } else {
        EXPECT_TRUE(r.body.starts_with(api.answer)) << r.body;
        EXPECT_FALSE(valid_json(r.body)) << r.body;
      }
      continue;
    }
    seen.insert(std::to_string(r.status));
    EXPECT_TRUE(valid_json(r.body)) << r.body;
    EXPECT_EQ(r.retry_after, "") << r.status;
    if (r.status == 529) {
      EXPECT_NE(r.body.find("overloaded_error"), std::string::npos) << r.body;
    }
    if (api.protocol == Protocol::kGemini && r.status == 503) {
      EXPECT_NE(r.body.find("UNAVAILABLE"), std::string::npos);
    }
    if (r.status == 429) {
      EXPECT_EQ(r.body.find("RetryInfo"), std::string::npos) << r.body;
    }
  }
  EXPECT_EQ(seen, expected);
}

TEST_F(MockFaults, FaultsInTheOpenAiProtocol) {
  expect_every_fault(kOpenAi, {"500", "502", "503", "429", "drop", "garble"});
}

TEST_F(MockFaults, FaultsInTheAnthropicProtocol) {
  expect_every_fault(kAnthropic, {"500", "502", "503", "529", "429", "drop", "garble"});
}

TEST_F(MockFaults, FaultsInTheGeminiProtocol) {
  expect_every_fault(kGemini, {"500", "502", "503", "429", "drop", "garble"});
}

TEST_F(MockFaults, SlowAddsToTheFirstToken) {
  using Clock = std::chrono::steady_clock;
  for (const Api* api : {&kOpenAi, &kAnthropic, &kGemini}) {
    const auto start = Clock::now();
    EXPECT_EQ(ask(*api, "len-2/ttft-10ms/slow-100/slowby-60ms", true).status, 200);
    EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(70));
  }
}

}  // namespace
}  // namespace sy::mock
