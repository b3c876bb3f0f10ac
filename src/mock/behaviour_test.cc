#include "mock/behaviour.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "mock/mock.h"

namespace sy::mock {
namespace {

using std::chrono::milliseconds;

TEST(Behaviour, ParsesModelSegments) {
  auto b = Behaviour::parse("mock/ttft-300ms/tps-50/len-200");
  EXPECT_EQ(b.ttft, milliseconds(300));
  EXPECT_EQ(b.gap, std::chrono::microseconds(20000));
  EXPECT_EQ(b.length, 200);
  EXPECT_EQ(b.status, 200);
}

TEST(Behaviour, FaultsAndSeed) {
  auto b = Behaviour::parse("status-429/retry-after-3s/reset-after-5/seed-7/gap-20ms");
  EXPECT_EQ(b.status, 429);
  EXPECT_EQ(b.retry_after_s, 3);
  EXPECT_EQ(b.reset_after, 5);
  EXPECT_EQ(b.seed, 7u);
  EXPECT_EQ(b.gap, milliseconds(20));
  EXPECT_TRUE(Behaviour::parse("x/hang").hang);
  EXPECT_TRUE(Behaviour::parse("x/drop").drop);
  EXPECT_FALSE(Behaviour::parse("x/hang").drop);
  EXPECT_TRUE(Behaviour::parse("echo").echo);
  EXPECT_FALSE(Behaviour::parse("fast").echo);
}

TEST(Behaviour, ToolThinkAndCached) {
  auto b = Behaviour::parse("tool/think/cached-120");
  EXPECT_TRUE(b.tool);
  EXPECT_EQ(b.think, Behaviour::kDefaultThink);
  EXPECT_EQ(b.cached, 120);
  auto c = Behaviour::parse("len-4/think-32");
  EXPECT_FALSE(c.tool);
  EXPECT_EQ(c.think, 32);
  EXPECT_EQ(c.cached, 0);
  EXPECT_EQ(c.length, 4);
  EXPECT_EQ(Behaviour::parse("think-0").think, 0);
}

// Headers x-mock-<segment> override the model name, for the new segments as for the old ones.
class FakeHeaders final : public http::Request {
 public:
  explicit FakeHeaders(std::vector<http::Header> h) : headers_(std::move(h)) {}
  http::Method method() const override { return http::Method::kPost; }
  std::string_view method_name() const override { return "POST"; }
  std::string_view target() const override { return "/"; }
  std::string_view header(std::string_view name) const override {
    for (const auto& h : headers_) {
      if (h.name == name) return h.value;
    }
    return {};
  }
  size_t header_count() const override { return headers_.size(); }
  http::Header header_at(size_t i) const override { return headers_[i]; }
  std::string& body() override { return body_; }
  void on_disconnect(http::CancelHook*) override {}
  bool client_gone() const override { return false; }

 private:
  std::vector<http::Header> headers_;
  std::string body_;
};

TEST(Behaviour, HeadersOverrideNewSegments) {
  FakeHeaders h({{"x-mock-tool", "1"}, {"x-mock-think", "true"}, {"x-mock-cached", "7"}, {"x-mock-echo", "1"}});
  auto b = Behaviour::parse("len-3", &h);
  EXPECT_TRUE(b.tool);
  EXPECT_EQ(b.think, Behaviour::kDefaultThink);
  EXPECT_EQ(b.cached, 7);
  EXPECT_TRUE(b.echo);
  FakeHeaders off({{"x-mock-tool", "0"}, {"x-mock-think", "12"}});
  auto c = Behaviour::parse("tool/think", &off);
  EXPECT_FALSE(c.tool);
  EXPECT_EQ(c.think, 12);
}

TEST(Behaviour, GarbleFaultsAndSlow) {
  EXPECT_EQ(Behaviour::parse("len-4").garble, -1);
  EXPECT_EQ(Behaviour::parse("x/garble").garble, 0);
  EXPECT_EQ(Behaviour::parse("garble-after-3/len-8").garble, 3);
  auto b = Behaviour::parse("faults-30/slow-20/slowby-500ms");
  EXPECT_EQ(b.faults, 30);
  EXPECT_EQ(b.slow, 20);
  EXPECT_EQ(b.slowby, milliseconds(500));
  EXPECT_EQ(Behaviour::parse("slow-5").slowby, milliseconds(2000));
  EXPECT_EQ(Behaviour::parse("faults-101").faults, 0);  // a percentage, or nothing
}

TEST(Behaviour, HeadersOverrideFaultSegments) {
  FakeHeaders h({{"x-mock-garble", "3"}, {"x-mock-faults", "30"}, {"x-mock-slow", "20"}, {"x-mock-slowby", "500"}});
  auto b = Behaviour::parse("garble/faults-5", &h);
  EXPECT_EQ(b.garble, 3);
  EXPECT_EQ(b.faults, 30);
  EXPECT_EQ(b.slow, 20);
  EXPECT_EQ(b.slowby, milliseconds(500));
  FakeHeaders off({{"x-mock-garble", "false"}, {"x-mock-garble-after", "2"}});
  EXPECT_EQ(Behaviour::parse("garble", &off).garble, 2);  // the later key wins
  FakeHeaders bare(std::vector<http::Header>{{"x-mock-garble", "true"}});
  EXPECT_EQ(Behaviour::parse("len-3", &bare).garble, 0);
}

// What a resolved request does: "ok", or its fault ("drop", "garble", "429", "529", ...).
std::string outcome(const Behaviour& b) {
  if (b.drop) return "drop";
  if (b.garble == 0) return "garble";
  if (b.status == 200) return "ok";
  return std::to_string(b.status) + (b.status == 429 && b.retry_after_s >= 0 ? " with retry-after" : "");
}

TEST(Behaviour, FaultsFailTheirShareWithEveryFault) {
  const Behaviour b = Behaviour::parse("faults-30/seed-7");
  constexpr int kDraws = 2000;
  std::map<std::string, int> seen;
  for (int i = 0; i < kDraws; ++i) ++seen[outcome(b.resolve(Protocol::kAnthropic))];
  EXPECT_NEAR(1.0 - seen["ok"] / double(kDraws), 0.30, 0.04);
  // Uniform over seven faults: about 86 each of the 600 failures.
  for (const char* fault : {"500", "502", "503", "529", "429", "drop", "garble"}) EXPECT_GT(seen[fault], 50) << fault;
  EXPECT_EQ(seen.size(), 8u);  // nothing else: no Retry-After on the 429s
}

TEST(Behaviour, OverloadIsTheProtocols) {
  const Behaviour b = Behaviour::parse("faults-100");
  int overloads = 0;
  for (uint64_t draw = 0; draw < 200; ++draw) {
    if (b.resolve(Protocol::kAnthropic, draw).status != 529) continue;
    ++overloads;
    EXPECT_EQ(b.resolve(Protocol::kOpenAi, draw).status, 503);
    EXPECT_EQ(b.resolve(Protocol::kGemini, draw).status, 503);
  }
  EXPECT_GT(overloads, 0);
}

TEST(Behaviour, SlowDelaysItsShareIndependentlyOfFaults) {
  const Behaviour b = Behaviour::parse("ttft-100ms/slow-20/slowby-500ms/faults-50/seed-3");
  constexpr int kDraws = 2000;
  int slow = 0;
  int slow_and_failed = 0;
  for (int i = 0; i < kDraws; ++i) {
    const Behaviour r = b.resolve(Protocol::kOpenAi);
    if (r.ttft == milliseconds(100)) continue;
    EXPECT_EQ(r.ttft, milliseconds(600));
    ++slow;
    if (outcome(r) != "ok") ++slow_and_failed;
  }
  EXPECT_NEAR(slow / double(kDraws), 0.20, 0.04);
  EXPECT_NEAR(slow_and_failed / double(slow), 0.50, 0.10);
}

TEST(Behaviour, ResolvingIsOncePerRequest) {
  const Behaviour b = Behaviour::parse("faults-100/slow-100/slowby-50ms/seed-1");
  const Behaviour r = b.resolve(Protocol::kGemini, 42);
  EXPECT_EQ(outcome(r), outcome(b.resolve(Protocol::kGemini, 42)));  // a draw decides
  EXPECT_EQ(r.faults, 0);
  EXPECT_EQ(r.slow, 0);
  EXPECT_EQ(r.resolve(Protocol::kGemini).ttft, milliseconds(50));  // nothing left to draw
  const Behaviour calm = Behaviour::parse("len-3/seed-1").resolve(Protocol::kOpenAi);
  EXPECT_EQ(outcome(calm), "ok");
  EXPECT_EQ(calm.ttft, milliseconds(0));
}

TEST(Behaviour, PresetsDifferInSpeed) {
  auto fast = Behaviour::parse("fast");
  auto smart = Behaviour::parse("smart");
  EXPECT_LT(fast.ttft, smart.ttft);
  EXPECT_LT(fast.gap, smart.gap);
}

TEST(Behaviour, UnknownSegmentsAreIgnored) {
  auto b = Behaviour::parse("gpt-4o-mini");
  EXPECT_EQ(b.ttft, milliseconds(0));
  EXPECT_EQ(b.length, 16);
}

TEST(MockText, DeterministicPerSeed) {
  EXPECT_EQ(mock_token(42, 3), mock_token(42, 3));
  std::string a, c;
  for (int i = 0; i < 20; ++i) {
    a += mock_token(1, i);
    c += mock_token(2, i);
  }
  EXPECT_NE(a, c);
  EXPECT_TRUE(a[0] >= 'A' && a[0] <= 'Z');
}

}  // namespace
}  // namespace sy::mock
