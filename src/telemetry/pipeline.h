#pragma once
// Carries request records off the request path: workers submit into a bounded lock-free
// queue (never blocking: a full queue counts the record as dropped), one background thread
// (on idle CPU, raised when it falls behind) drains it in batches into the sinks (the log
// store, the metrics, the exporters).
//
//   telemetry::Pipeline pipeline({.capacity = 8192});
//   pipeline.add_sink(&log_sink);          // before start()
//   pipeline.start();
//   pipeline.submit(record);               // from any worker: copied into the queue (its
//                                          // bodies moved), then record.clear() and reuse it
//   pipeline.stop();                       // drains what is queued, then joins

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "telemetry/record.h"

namespace sy::telemetry {

// Where batches go; called from the pipeline's thread only.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(std::span<const RequestRecord> records) = 0;
  virtual void write_outcomes(std::span<const OutcomeEvent> /*events*/) {}
  // Every pass of the pipeline's thread, batch or not (periodic work: retention, flushes).
  virtual void tick(std::chrono::steady_clock::time_point /*now*/) {}
};

struct PipelineOptions {
  size_t capacity = 8192;                     // records queued at most (rounded up to a power of 2)
  size_t max_batch = 4096;                    // records per write() at most
  // How often the thread looks for records. Each look writes what came since in one batch (one
  // SQLite transaction, a block of records per router): at 15k requests/s, 1,500 records; a
  // transaction's fixed cost is then shared by many (measured: batches of 128 records cost the
  // log store 1.7 times its CPU a record in 100 ms batches). The queue must hold a poll's worth
  // of requests: 8192 is 80k requests/s.
  std::chrono::milliseconds poll{100};
  // The thread runs at idle CPU priority (SCHED_IDLE): on CPU time no request wants. Once the
  // queue is half full, or a record finds the last drain over kMaxWaitMs old (the machine is
  // busy enough to starve it), the producer that sees it raises the thread to normal priority
  // until it has caught up. Only where the process may leave SCHED_IDLE again (CAP_SYS_NICE,
  // or RLIMIT_NICE >= 20: start() tries it on a throwaway thread); else it stays normal.
  bool idle_priority = true;
};

class Pipeline {
 public:
  explicit Pipeline(PipelineOptions options = {});
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  void add_sink(Sink* sink);  // before start()
  void start();
  // Any thread, never blocks; false (and counted as dropped) when the queue is full. The record
  // is packed into a queue cell's slot, one contiguous copy of a few hundred bytes, and its
  // bodies are moved there (when queued): the worker keeps filling the same record, which stays
  // in its core's cache, and the cells' lines are written in order. Once warm, nothing is
  // allocated (a cell grows only for a record larger than any it held).
  bool submit(RequestRecord& record) noexcept;
  // Any thread (rare: feedback); takes a short lock.
  void submit(OutcomeEvent event);
  // Drains the queue into the sinks and joins the thread. Idempotent.
  void stop();

  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  size_t depth() const;
  // A record that finds the thread's last drain older than this raises it (and so does a queue
  // more than half full).
  static constexpr int64_t kMaxWaitMs = 1000;
  // Times a producer raised the thread from idle to normal priority.
  uint64_t raises() const { return raises_.load(std::memory_order_relaxed); }
  // Whether the thread goes to idle priority when caught up (the options ask and the process may).
  bool idle_priority() const { return idle_allowed_; }
  // The thread's scheduling policy now (SCHED_IDLE or SCHED_OTHER); -1 before start().
  int thread_policy() const;

 private:
  // Vyukov's bounded MPMC queue: one sequence number per cell, producers claim cells with a
  // CAS on the tail; here a single consumer. A cell's packed record (pipeline.cc) lives in its
  // slot of one contiguous slab (huge pages where the kernel gives them), so the ring's memory
  // is walked in order. Measured on the 2-core VM at full load, the worker's user CPU a request
  // with the log on, against the log off: +20 % with each record in a heap block of its own
  // (cache and TLB misses all over megabytes), +10 % with the slab, +6 % with a 256-cell ring
  // that stays in cache. A record larger than a slot spills to a buffer of the cell's own.
  static constexpr size_t kSlotBytes = 1024;
  struct Bodies {
    std::string request, response;  // moved in, moved out
  };
  struct Cell {  // 32 bytes: the ring's cells are walked too
    std::atomic<size_t> sequence;
    uint32_t size = 0;            // of the packed record; 0: none (no memory for it)
    uint32_t spill_capacity = 0;
    std::unique_ptr<char[]> spill;    // null until a record larger than a slot comes
    std::unique_ptr<Bodies> bodies;   // null until a record with a body comes
  };
  // Where a record of n bytes is packed in `cell` (its slot, or its spill grown to fit); null
  // when there is no memory for it.
  char* room(Cell& cell, size_t index, size_t n) noexcept;
  enum class Popped { kNone, kRecord, kSkipped };  // kSkipped: a cell whose record was dropped
  Popped pop(RequestRecord& out);
  void run();
  // Producers' side: never blocks (a producer that finds the lock taken leaves it to the next).
  void raise_priority() noexcept;
  // Whether a record made at `now_ms` (Unix ms) finds the thread's last drain over kMaxWaitMs
  // old: it is not getting the CPU it needs, however few records come.
  bool starved(int64_t now_ms) const noexcept;
  void lower_priority();  // the thread's own side
  // Under priority_mutex_: the thread to normal priority; whether the kernel agreed.
  bool leave_idle_locked() noexcept;
  // `batch`: max_batch records, reused (unpacked into, keeping their strings' buffers).
  void drain_once(std::vector<RequestRecord>& batch, std::vector<OutcomeEvent>& outcomes);

  PipelineOptions options_;
  size_t mask_;
  std::unique_ptr<Cell[]> cells_;
  struct Slab {
    char* bytes = nullptr;
    size_t size = 0;
    ~Slab();
  } slab_;  // cells' slots, kSlotBytes each, mapped (untouched until used)
  alignas(64) std::atomic<size_t> tail_{0};  // producers
  alignas(64) size_t head_ = 0;              // the consumer
  alignas(64) std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> skipped_{0};  // cells whose record was dropped after they were claimed
  size_t check_mask_;                 // producers look at the queue's depth every check_mask_+1 cells
  std::atomic<int> thread_id_{0};     // the kernel's id of the thread, for its priority
  bool idle_allowed_ = false;         // set by start(): the options ask for it and the process may
  std::atomic<bool> idle_{false};     // the thread runs at idle priority
  std::atomic<bool> drain_now_{false};  // a producer raised the thread: no need to wait for the poll
  std::atomic<uint64_t> raises_{0};
  std::atomic<int64_t> drained_ms_{INT64_MAX / 2};  // Unix ms the thread last drained at
  std::mutex priority_mutex_;         // one change of the thread's priority at a time
  std::mutex outcomes_mutex_;
  std::vector<OutcomeEvent> outcomes_;
  std::vector<Sink*> sinks_;
  std::mutex wake_mutex_;  // stop() wakes the thread from its poll wait
  std::condition_variable wake_;
  bool stopping_ = false;  // under wake_mutex_
  std::thread thread_;
};

}  // namespace sy::telemetry
