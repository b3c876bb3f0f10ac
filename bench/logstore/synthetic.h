#pragma once
// Synthetic request records and outcomes for the log store benchmark: deterministic for a
// seed, in time order, shaped like a busy gateway's month.
//
//   SyntheticLog gen({.records = 10'000'000});
//   std::vector<RequestRecord> batch; std::vector<OutcomeEvent> outcomes;
//   while (gen.next_batch(1000, batch, outcomes)) store->append(batch), store->append_outcomes(outcomes);
//
// The shape (all named options below): 30 days ending at `end_ms`, a daily cycle (the busiest
// hour three times the quietest), 20 routers with Zipf-like traffic (the busiest takes ~16 %),
// 5 % of requests naming a model directly; per router a route "main" (90 %) with sticky
// variants a/b/c weighted 50/30/20 by user, and a route "long" with one variant; 100k users,
// a few of them heavy, 10 % of requests without a user; ~8 % errors (429, 5xx, 400, timeouts,
// broken streams), 5 % failed over (two attempts); TTFT and latency log-normal; 1 % with
// bodies; outcomes on ~5 % of requests (csat and thumbs on the request, conversions on the user).

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "telemetry/record.h"

namespace sy::bench {

struct SyntheticOptions {
  int64_t records = 10'000'000;
  int64_t end_ms = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
  int64_t days = 30;
  int routers = 20;
  int users = 100'000;
  uint64_t seed = 42;
};

class SyntheticLog {
 public:
  explicit SyntheticLog(SyntheticOptions o);

  // Fills `records` (cleared first) with up to n of the next records, and `outcomes` with the
  // outcome events of those records. False when every record was produced.
  bool next_batch(size_t n, std::vector<telemetry::RequestRecord>& records,
                  std::vector<telemetry::OutcomeEvent>& outcomes);

  int64_t produced() const { return next_; }
  const SyntheticOptions& options() const { return o_; }
  static std::string router_name(int k);
  static std::string user_name(int k);

 private:
  int64_t time_of(int64_t i);
  void make(telemetry::RequestRecord& r, std::vector<telemetry::OutcomeEvent>& outcomes);

  SyntheticOptions o_;
  std::mt19937_64 rng_;
  std::vector<double> minute_cdf_;   // cumulative share of traffic by minute (daily cycle)
  std::vector<double> router_cdf_;
  int64_t next_ = 0;
  int64_t next_event_ = 0;
};

}  // namespace sy::bench
