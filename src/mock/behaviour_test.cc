#include "mock/behaviour.h"

#include <gtest/gtest.h>

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
  EXPECT_TRUE(Behaviour::parse("echo").echo);
  EXPECT_FALSE(Behaviour::parse("fast").echo);
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
