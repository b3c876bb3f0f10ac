#include "telemetry/pipeline.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "telemetry/record_json.h"

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
        EXPECT_TRUE(p.submit(r));
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
    r.request_body = "the body";
    const bool queued = p.submit(r);
    EXPECT_EQ(r.request_body.empty(), queued) << i;  // moved into the queue, or left as it was
    EXPECT_EQ(r.id, std::to_string(i));               // the rest is copied
    accepted += queued ? 1 : 0;
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

// Holds the pipeline's thread in write() until let go: the queue fills behind it.
class Gate final : public Sink {
 public:
  void write(std::span<const RequestRecord> /*records*/) override {
    std::unique_lock lock(mu_);
    entered_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
  }
  void wait_entered() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return entered_; });
  }
  void let_go() {
    {
      const std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false, open_ = false;
};

// Whether `holds()` comes true within 10 s (a condition awaited, not a timing goal).
template <class F>
bool eventually(F holds) {
  for (int i = 0; i < 1000 && !holds(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return holds();
}

// Starts `p` with `gate` as its sink and has its thread, at idle priority, hold `r` (made now)
// in write(). False where this process may not use idle priority.
bool hold_one_record(Pipeline& p, Gate& gate, RequestRecord& r) {
  p.add_sink(&gate);
  p.start();
  if (!p.idle_priority()) return false;
  EXPECT_TRUE(eventually([&] { return p.thread_policy() == SCHED_IDLE; }));
  r.time_ms = unix_now_ms();
  EXPECT_TRUE(p.submit(r));
  gate.wait_entered();
  return true;
}
constexpr const char* kNoIdlePriority =
    "this process may not leave SCHED_IDLE (no CAP_SYS_NICE, RLIMIT_NICE < 20)";

TEST(Pipeline, RunsAtIdlePriorityUntilItsQueueIsHalfFull) {
  Gate gate;
  Pipeline p({.capacity = 64});
  RequestRecord r;
  if (!hold_one_record(p, gate, r)) GTEST_SKIP() << kNoIdlePriority;
  for (int i = 0; i < 31; ++i) ASSERT_TRUE(p.submit(r));
  EXPECT_EQ(p.thread_policy(), SCHED_IDLE);  // 32 of 64 waiting: not more than half
  EXPECT_EQ(p.raises(), 0u);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(p.submit(r));  // producers look every 8 cells here
  EXPECT_EQ(p.thread_policy(), SCHED_OTHER);
  EXPECT_EQ(p.raises(), 1u);
  gate.let_go();
  EXPECT_TRUE(eventually([&] { return p.written() == 40 && p.thread_policy() == SCHED_IDLE; }));  // caught up
  p.stop();
  EXPECT_EQ(p.dropped(), 0u);
}

TEST(Pipeline, IsRaisedWhenARecordFindsItsLastDrainOverASecondOld) {
  Gate gate;
  Pipeline p({.capacity = 1024});
  RequestRecord r;
  if (!hold_one_record(p, gate, r)) GTEST_SKIP() << kNoIdlePriority;
  EXPECT_EQ(p.thread_policy(), SCHED_IDLE);
  r.time_ms += Pipeline::kMaxWaitMs + 1000;  // as if made two seconds later: the thread is starved
  ASSERT_TRUE(p.submit(r));
  EXPECT_EQ(p.thread_policy(), SCHED_OTHER);
  EXPECT_EQ(p.raises(), 1u);
  gate.let_go();
  p.stop();
  EXPECT_EQ(p.written(), 2u);
}

TEST(Pipeline, StaysAtNormalPriorityWhenToldTo) {
  Collect sink;
  Pipeline p({.idle_priority = false});
  p.add_sink(&sink);
  p.start();
  EXPECT_FALSE(p.idle_priority());
  ASSERT_TRUE(eventually([&] { return p.thread_policy() != -1; }));
  RequestRecord r;
  r.id = "1";
  ASSERT_TRUE(p.submit(r));
  ASSERT_TRUE(eventually([&] { return p.written() == 1; }));
  EXPECT_EQ(p.thread_policy(), SCHED_OTHER);
  p.stop();
}

// Records whose cells and batch slots held other records before: nothing of those shows.
class Copy final : public Sink {
 public:
  void write(std::span<const RequestRecord> records) override { seen.insert(seen.end(), records.begin(), records.end()); }
  std::vector<RequestRecord> seen;
};

TEST(Pipeline, ReusedCellsCarryNothingOfEarlierRecords) {
  Copy sink;
  Pipeline p({.capacity = 2, .max_batch = 1});  // two cells, one batch slot: every one reused
  p.add_sink(&sink);
  p.start();
  RequestRecord full;
  full.router = "a-long-router-name-that-does-not-fit-inline";
  full.attempts.push_back({.model = "anthropic/claude-sonnet-4-5", .provider = "anthropic", .status = 503});
  full.request_body = std::string(100'000, 'x');  // larger than a kept body
  full.tokens_in = 9;
  full.tts_engine = "espeak";
  for (int i = 0; i < 6; ++i) {
    RequestRecord r = (i % 2 == 0) ? full : RequestRecord{};
    r.id = std::to_string(i);
    while (!p.submit(r)) std::this_thread::yield();  // the queue is tiny: wait for room (each try
                                                     // on a full queue counts a drop)
  }
  p.stop();
  ASSERT_EQ(sink.seen.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    const RequestRecord& r = sink.seen[static_cast<size_t>(i)];
    EXPECT_EQ(r.id, std::to_string(i));
    if (i % 2 == 0) {
      EXPECT_EQ(r.router, full.router);
      ASSERT_EQ(r.attempts.size(), 1u);
      EXPECT_EQ(r.attempts[0].status, 503);
      EXPECT_EQ(r.request_body.size(), 100'000u);
      EXPECT_EQ(r.tokens_in, 9);
    } else {
      EXPECT_TRUE(r.router.empty()) << i;
      EXPECT_TRUE(r.attempts.empty()) << i;
      EXPECT_TRUE(r.request_body.empty()) << i;
      EXPECT_EQ(r.tokens_in, 0) << i;
      EXPECT_FALSE(r.spoken()) << i;
    }
  }
}

TEST(RequestRecord, ClearResetsEveryFieldAndLetsLargeBodiesGo) {
  RequestRecord r;
  r.id = "req_1";
  r.ttft_ms = 5;
  r.tts_first_audio_ms = 7;
  r.cost_usd = 1;
  r.stream = true;
  r.attempts.resize(2);
  r.request_body = std::string(100'000, 'x');
  r.response_body = "small";
  r.clear();
  RequestRecord fresh;
  EXPECT_EQ(r.id, fresh.id);
  EXPECT_EQ(r.ttft_ms, fresh.ttft_ms);
  EXPECT_EQ(r.tts_first_audio_ms, fresh.tts_first_audio_ms);
  EXPECT_EQ(r.cost_usd, 0);
  EXPECT_FALSE(r.stream);
  EXPECT_TRUE(r.attempts.empty());
  EXPECT_TRUE(r.request_body.empty());
  EXPECT_LE(r.request_body.capacity(), RequestRecord::kKeptBodyBytes);
  EXPECT_TRUE(r.response_body.empty());
}

// A record with every field set, distinct per k.
RequestRecord filled(int k) {
  RequestRecord r;
  for (std::string* s : {&r.id, &r.key_id, &r.user, &r.endpoint, &r.dialect, &r.router, &r.route, &r.variant,
                         &r.reason, &r.requested_model, &r.model, &r.provider, &r.error_class, &r.tts_engine,
                         &r.tts_error, &r.request_body, &r.response_body}) {
    *s = "value-" + std::to_string(k) + "-long-enough-not-to-fit-inline";
  }
  r.metadata_json = R"({"plan":")" + std::to_string(k) + R"("})";
  r.attempts.push_back({.model = "m" + std::to_string(k), .provider = "p", .status = 500 + k,
                        .error_class = "upstream_5xx", .start_ms = 1, .duration_ms = 2, .ttft_ms = 3,
                        .served = false, .tokens_in = 4, .tokens_out = 5, .cost_usd = 0.25});
  r.attempts.push_back({.model = "second-" + std::to_string(k), .status = 200, .served = true});
  r.time_ms = r.router_version = r.ttft_ms = r.latency_ms = r.tokens_in = r.tokens_out = r.tokens_cached =
      r.tokens_reasoning = r.tts_chars = r.tts_first_audio_ms = 10 + k;
  r.stream = k % 2 == 1;
  r.status = 200 + k;
  r.cost_usd = r.audio_seconds = r.tts_cost_usd = 0.5 + k;
  return r;
}

std::string json(const RequestRecord& r) {
  std::string out;
  append_json(out, r, /*bodies=*/true);
  return out;
}

TEST(Pipeline, EveryFieldCrossesTheQueue) {
  Copy sink;
  Pipeline p({.capacity = 2, .max_batch = 1});  // cells and the batch slot reused by both shapes
  p.add_sink(&sink);
  p.start();
  std::vector<std::string> sent;
  for (int k = 1; k <= 8; ++k) {
    RequestRecord r = (k == 3) ? RequestRecord{} : filled(k);
    if (k == 5 || k == 6) {  // larger than a cell's slot: spilled (twice in the same cell: k=5, 7)
      r.metadata_json = R"({"note":")" + std::string(3000, 'n') + R"("})";
      r.attempts.resize(12, r.attempts[0]);
    }
    if (k == 7) r.metadata_json = R"({"note":")" + std::string(40'000, 'n') + R"("})";  // beyond a kept spill
    sent.push_back(json(r));
    const std::string request_body = r.request_body;
    const std::string response_body = r.response_body;
    while (!p.submit(r)) std::this_thread::yield();
    EXPECT_TRUE(r.request_body.empty());  // the bodies moved into the queue
    EXPECT_TRUE(r.response_body.empty());
    r.request_body = request_body;
    r.response_body = response_body;
    EXPECT_EQ(json(r), sent.back());      // the rest left as it was
  }
  p.stop();
  ASSERT_EQ(sink.seen.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(json(sink.seen[i]), sent[i]) << i;
}

}  // namespace
}  // namespace sy::telemetry
