#include "mock/behaviour.h"

#include <gtest/gtest.h>

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
