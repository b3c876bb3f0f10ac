#include "telemetry/pipeline.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

namespace sy::telemetry {
namespace {

class Collect final : public Sink {
 public:
  void write(std::span<const RequestRecord> records) override {
    const std::lock_guard lock(mu);
    for (const auto& r : records) ids.insert(r.id);
    ++batches;
  }
  void write_outcomes(std::span<const OutcomeEvent> events) override {
    const std::lock_guard lock(mu);
    for (const auto& e : events) outcomes.insert(e.event_id);
  }
  std::mutex mu;
  std::set<std::string> ids;
  std::set<std::string> outcomes;
  int batches = 0;
};

TEST(Pipeline, EveryRecordFromEveryThreadReachesTheSinks) {
  Collect sink;
  Pipeline p({.capacity = 1 << 16, .max_batch = 100});
  p.add_sink(&sink);
  p.start();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&p, t] {
      for (int i = 0; i < 5000; ++i) {
        RequestRecord r;
        r.id = std::to_string(t) + "-" + std::to_string(i);
        EXPECT_TRUE(p.submit(std::move(r)));
      }
    });
  }
  for (auto& t : threads) t.join();
  p.submit(OutcomeEvent{.event_id = "evt-1", .name = "csat", .value = 5});
  p.stop();  // drains
  EXPECT_EQ(sink.ids.size(), 20000u);
  EXPECT_EQ(sink.outcomes, std::set<std::string>{"evt-1"});
  EXPECT_EQ(p.written(), 20000u);
  EXPECT_EQ(p.dropped(), 0u);
  EXPECT_EQ(p.depth(), 0u);
  EXPECT_GE(sink.batches, 200);  // batches of at most 100
}

TEST(Pipeline, AFullQueueDropsAndCountsNeverBlocks) {
  Collect sink;
  Pipeline p({.capacity = 8});  // not started: nothing drains
  p.add_sink(&sink);
  int accepted = 0;
  for (int i = 0; i < 20; ++i) {
    RequestRecord r;
    r.id = std::to_string(i);
    accepted += p.submit(std::move(r)) ? 1 : 0;
  }
  EXPECT_EQ(accepted, 8);
  EXPECT_EQ(p.dropped(), 12u);
  EXPECT_EQ(p.depth(), 8u);
  p.start();
  p.stop();
  EXPECT_EQ(sink.ids.size(), 8u);  // the first eight, kept
  EXPECT_TRUE(sink.ids.contains("0"));
  EXPECT_TRUE(sink.ids.contains("7"));
}

}  // namespace
}  // namespace sy::telemetry
