#include "telemetry/pipeline.h"

#include <algorithm>
#include <bit>

namespace sy::telemetry {

Pipeline::Pipeline(PipelineOptions options)
    : options_(options),
      mask_(std::bit_ceil(std::max<size_t>(options.capacity, 2)) - 1),
      cells_(std::make_unique<Cell[]>(mask_ + 1)) {
  for (size_t i = 0; i <= mask_; ++i) cells_[i].sequence.store(i, std::memory_order_relaxed);
}

Pipeline::~Pipeline() { stop(); }

void Pipeline::add_sink(Sink* sink) { sinks_.push_back(sink); }

void Pipeline::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

bool Pipeline::submit(std::unique_ptr<RequestRecord>& record) noexcept {
  size_t pos = tail_.load(std::memory_order_relaxed);
  for (;;) {
    Cell& cell = cells_[pos & mask_];
    const size_t seq = cell.sequence.load(std::memory_order_acquire);
    const auto diff = static_cast<intptr_t>(seq) - static_cast<intptr_t>(pos);
    if (diff == 0) {
      if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
        cell.record.swap(record);
        cell.sequence.store(pos + 1, std::memory_order_release);
        return true;
      }
    } else if (diff < 0) {  // the consumer has not freed this cell: full
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    } else {
      pos = tail_.load(std::memory_order_relaxed);
    }
  }
}

bool Pipeline::pop(RequestRecord& out) {
  Cell& cell = cells_[head_ & mask_];
  const size_t seq = cell.sequence.load(std::memory_order_acquire);
  if (seq != head_ + 1) return false;  // empty (or a producer is still writing it)
  swap(out, *cell.record);  // the cell gets the batch slot's buffers, for the next record
  cell.sequence.store(head_ + mask_ + 1, std::memory_order_release);
  ++head_;
  return true;
}

size_t Pipeline::depth() const {
  // Claimed cells not yet written to the sinks (the batch being written included): a gauge.
  const size_t tail = tail_.load(std::memory_order_relaxed);
  const auto taken = static_cast<size_t>(written_.load(std::memory_order_relaxed));
  return tail > taken ? tail - taken : 0;
}

void Pipeline::submit(OutcomeEvent event) {
  const std::lock_guard lock(outcomes_mutex_);
  outcomes_.push_back(std::move(event));
}

void Pipeline::drain_once(std::vector<RequestRecord>& batch, std::vector<OutcomeEvent>& outcomes) {
  {
    const std::lock_guard lock(outcomes_mutex_);
    outcomes.swap(outcomes_);
  }
  if (!outcomes.empty()) {
    for (Sink* s : sinks_) s->write_outcomes(outcomes);
    outcomes.clear();
  }
  for (;;) {
    size_t n = 0;
    while (n < batch.size() && pop(batch[n])) ++n;
    if (n == 0) break;
    for (Sink* s : sinks_) s->write(std::span<const RequestRecord>(batch.data(), n));
    written_.fetch_add(n, std::memory_order_relaxed);
    for (size_t i = 0; i < n; ++i) {  // large bodies are not kept for the next records
      for (std::string* body : {&batch[i].request_body, &batch[i].response_body}) {
        if (body->capacity() > RequestRecord::kKeptBodyBytes) std::string().swap(*body);
      }
    }
    if (n < batch.size()) break;
  }
  const auto now = std::chrono::steady_clock::now();
  for (Sink* s : sinks_) s->tick(now);
}

void Pipeline::run() {
  std::vector<RequestRecord> batch(std::max<size_t>(options_.max_batch, 1));
  std::vector<OutcomeEvent> outcomes;
  for (;;) {
    drain_once(batch, outcomes);
    std::unique_lock lock(wake_mutex_);
    if (wake_.wait_for(lock, options_.poll, [this] { return stopping_; })) break;
  }
  drain_once(batch, outcomes);  // what was queued before stop()
}

void Pipeline::stop() {
  if (!thread_.joinable()) return;
  {
    const std::lock_guard lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

}  // namespace sy::telemetry
