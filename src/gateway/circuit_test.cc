#include "gateway/circuit.h"

#include <gtest/gtest.h>

namespace sy::gateway {
namespace {

using namespace std::chrono_literals;
using Clock = CircuitBreakers::Clock;

TEST(CircuitBreakers, OpensAfterConsecutiveFailuresAndProbesAfterTheCooldown) {
  CircuitBreakers b({.failures = 3, .cooldown = 1000ms});
  const auto t0 = Clock::now();
  EXPECT_TRUE(b.allow("p", "p/m", t0));
  b.record("p", "p/m", false, t0);
  b.record("p", "p/m", false, t0);
  EXPECT_TRUE(b.allow("p", "p/m", t0));
  b.record("p", "p/m", false, t0);
  EXPECT_FALSE(b.allow("p", "p/m", t0 + 10ms));          // open
  EXPECT_FALSE(b.allow("p", "p/other", t0 + 10ms));      // the provider's circuit too
  EXPECT_NE(b.health_json(t0 + 10ms).find(R"({"name":"p/m","state":"open","consecutive_failures":3)"), std::string::npos)
      << b.health_json(t0 + 10ms);
  EXPECT_TRUE(b.allow("p", "p/m", t0 + 1001ms));         // half-open: one probe
  EXPECT_FALSE(b.allow("p", "p/m", t0 + 1002ms));        // and only one
  b.record("p", "p/m", true, t0 + 1003ms);               // the probe succeeded: closed
  EXPECT_TRUE(b.allow("p", "p/m", t0 + 1004ms));
  EXPECT_TRUE(b.allow("p", "p/m", t0 + 1005ms));
  EXPECT_NE(b.health_json(t0 + 1005ms).find(R"("state":"closed")"), std::string::npos);
}

TEST(CircuitBreakers, AFailedProbeOpensItAgain) {
  CircuitBreakers b({.failures = 1, .cooldown = 100ms});
  const auto t0 = Clock::now();
  b.record("p", "p/m", false, t0);
  EXPECT_TRUE(b.allow("p", "p/m", t0 + 150ms));
  b.record("p", "p/m", false, t0 + 160ms);
  EXPECT_FALSE(b.allow("p", "p/m", t0 + 200ms));
  EXPECT_TRUE(b.allow("p", "p/m", t0 + 261ms));
}

TEST(CircuitBreakers, SuccessesResetTheCountAndTheErrorRateOpensToo) {
  CircuitBreakers b({.failures = 3, .error_rate = 0.5, .min_requests = 10, .window = 10s});
  const auto t0 = Clock::now();
  for (int i = 0; i < 9; ++i) b.record("p", "p/m", i % 2 == 1, t0);  // never 3 in a row
  EXPECT_TRUE(b.allow("p", "p/m", t0));
  b.record("p", "p/m", false, t0);  // 10 requests, 6 failures, 2 in a row
  EXPECT_FALSE(b.allow("p", "p/m", t0));
}

TEST(CircuitBreakers, AnUnreportedProbeIsReplacedAfterACooldown) {
  CircuitBreakers b({.failures = 1, .cooldown = 100ms});
  const auto t0 = Clock::now();
  b.record("p", "p/m", false, t0);
  EXPECT_TRUE(b.allow("p", "p/m", t0 + 100ms));  // a probe whose request vanished
  EXPECT_FALSE(b.allow("p", "p/m", t0 + 150ms));
  EXPECT_TRUE(b.allow("p", "p/m", t0 + 201ms));
}

}  // namespace
}  // namespace sy::gateway
