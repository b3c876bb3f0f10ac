#include "telemetry/pipeline.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>

#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/thread_name.h"

namespace sy::telemetry {
namespace {

// A record packed for the queue: its numbers as one struct, then each string as a 32-bit length
// and its bytes, then each attempt the same way. It lives only in memory, between two threads
// of one process: no versions, no byte order.
struct PackedNumbers {
  int64_t time_ms, router_version, ttft_ms, latency_ms, tokens_in, tokens_out, tokens_cached,
      tokens_reasoning, tts_chars, tts_first_audio_ms;
  double cost_usd, audio_seconds, tts_cost_usd;
  int32_t status;
  uint32_t attempts;
  bool stream;
};
struct PackedAttempt {
  int64_t start_ms, duration_ms, ttft_ms, tokens_in, tokens_out;
  double cost_usd;
  int32_t status;
  bool served;
};

// A record's (an attempt's) numbers paired with their packed places, one list for both
// directions: `f(from, to)` when packing, `f(to, from)` when unpacking (the record const or not
// accordingly).
template <class Record, class Numbers, class F>
void record_numbers(Record& r, Numbers& n, F f) {
  f(r.time_ms, n.time_ms);
  f(r.router_version, n.router_version);
  f(r.ttft_ms, n.ttft_ms);
  f(r.latency_ms, n.latency_ms);
  f(r.tokens_in, n.tokens_in);
  f(r.tokens_out, n.tokens_out);
  f(r.tokens_cached, n.tokens_cached);
  f(r.tokens_reasoning, n.tokens_reasoning);
  f(r.tts_chars, n.tts_chars);
  f(r.tts_first_audio_ms, n.tts_first_audio_ms);
  f(r.cost_usd, n.cost_usd);
  f(r.audio_seconds, n.audio_seconds);
  f(r.tts_cost_usd, n.tts_cost_usd);
  f(r.status, n.status);
  f(r.stream, n.stream);
}
template <class Attempt, class Packed, class F>
void attempt_numbers(Attempt& a, Packed& p, F f) {
  f(a.start_ms, p.start_ms);
  f(a.duration_ms, p.duration_ms);
  f(a.ttft_ms, p.ttft_ms);
  f(a.tokens_in, p.tokens_in);
  f(a.tokens_out, p.tokens_out);
  f(a.cost_usd, p.cost_usd);
  f(a.status, p.status);
  f(a.served, p.served);
}

constexpr std::string RequestRecord::*kStrings[] = {
    &RequestRecord::id,       &RequestRecord::key_id,          &RequestRecord::user,
    &RequestRecord::endpoint, &RequestRecord::dialect,         &RequestRecord::router,
    &RequestRecord::route,    &RequestRecord::variant,         &RequestRecord::reason,
    &RequestRecord::requested_model, &RequestRecord::model,    &RequestRecord::provider,
    &RequestRecord::error_class,     &RequestRecord::metadata_json, &RequestRecord::tts_engine,
    &RequestRecord::tts_error};
constexpr std::string AttemptRecord::*kAttemptStrings[] = {
    &AttemptRecord::model, &AttemptRecord::provider, &AttemptRecord::error_class};

size_t packed_size(const RequestRecord& r) {
  size_t n = sizeof(PackedNumbers) + std::size(kStrings) * sizeof(uint32_t);
  for (auto s : kStrings) n += (r.*s).size();
  for (const AttemptRecord& a : r.attempts) {
    n += sizeof(PackedAttempt) + std::size(kAttemptStrings) * sizeof(uint32_t);
    for (auto s : kAttemptStrings) n += (a.*s).size();
  }
  return n;
}

char* put(char* p, const std::string& s) {
  const auto n = static_cast<uint32_t>(s.size());
  std::memcpy(p, &n, sizeof n);
  p += sizeof n;
  if (n != 0) std::memcpy(p, s.data(), n);
  return p + n;
}
const char* get(const char* p, std::string& s) {
  uint32_t n;
  std::memcpy(&n, p, sizeof n);
  p += sizeof n;
  s.assign(p, n);
  return p + n;
}

// Writes `packed_size(r)` bytes at `p`.
void pack(const RequestRecord& r, char* p) {
  PackedNumbers numbers{};
  record_numbers(r, numbers, [](const auto& from, auto& to) { to = from; });
  numbers.attempts = static_cast<uint32_t>(r.attempts.size());
  std::memcpy(p, &numbers, sizeof numbers);
  p += sizeof numbers;
  for (auto s : kStrings) p = put(p, r.*s);
  for (const AttemptRecord& a : r.attempts) {
    PackedAttempt packed{};
    attempt_numbers(a, packed, [](const auto& from, auto& to) { to = from; });
    std::memcpy(p, &packed, sizeof packed);
    p += sizeof packed;
    for (auto s : kAttemptStrings) p = put(p, a.*s);
  }
}

// Every field of `out` but its bodies, from what pack() wrote; `out`'s strings keep their
// buffers.
void unpack(const char* p, RequestRecord& out) {
  PackedNumbers numbers;
  std::memcpy(&numbers, p, sizeof numbers);
  p += sizeof numbers;
  record_numbers(out, numbers, [](auto& to, const auto& from) { to = from; });
  for (auto s : kStrings) p = get(p, out.*s);
  out.attempts.resize(numbers.attempts);
  for (AttemptRecord& a : out.attempts) {
    PackedAttempt packed;
    std::memcpy(&packed, p, sizeof packed);
    p += sizeof packed;
    attempt_numbers(a, packed, [](auto& to, const auto& from) { to = from; });
    for (auto s : kAttemptStrings) p = get(p, a.*s);
  }
}

// Spills keep what they grew to, up to this; a larger record's room is let go once read.
constexpr uint32_t kKeptSpillBytes = 16 * 1024;

bool set_policy(int thread_id, int policy) noexcept {
  const sched_param param{};
  return sched_setscheduler(thread_id, policy, &param) == 0;
}

// Whether a thread of this process may go to idle priority and come back: leaving SCHED_IDLE
// needs CAP_SYS_NICE or RLIMIT_NICE >= 20, which unprivileged processes (and containers' root)
// often lack. Tried on a thread of its own, which ends either way.
bool can_leave_idle_priority() {
  bool can = false;
  std::thread([&can] {
    const int self = static_cast<int>(gettid());
    can = set_policy(self, SCHED_IDLE) && set_policy(self, SCHED_OTHER);
  }).join();
  return can;
}

}  // namespace

Pipeline::Pipeline(PipelineOptions options)
    : options_(options),
      mask_(std::bit_ceil(std::max<size_t>(options.capacity, 2)) - 1),
      cells_(std::make_unique<Cell[]>(mask_ + 1)),
      check_mask_(std::clamp<size_t>((mask_ + 1) / 8, 1, 64) - 1) {
  for (size_t i = 0; i <= mask_; ++i) cells_[i].sequence.store(i, std::memory_order_relaxed);
  // Mapped, not allocated: pages are taken as the ring first reaches them. Huge pages where the
  // kernel gives them on request (fewer TLB misses on a ring of megabytes); best effort.
  slab_.size = (mask_ + 1) * kSlotBytes;
  void* m = mmap(nullptr, slab_.size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) throw std::bad_alloc();
  slab_.bytes = static_cast<char*>(m);
  madvise(m, slab_.size, MADV_HUGEPAGE);
}

Pipeline::Slab::~Slab() {
  if (bytes != nullptr) munmap(bytes, size);
}

Pipeline::~Pipeline() { stop(); }

void Pipeline::add_sink(Sink* sink) { sinks_.push_back(sink); }

void Pipeline::start() {
  if (thread_.joinable()) return;
  idle_allowed_ = options_.idle_priority && can_leave_idle_priority();
  thread_ = std::thread([this] {
    name_this_thread("sy-log");
    thread_id_.store(static_cast<int>(gettid()), std::memory_order_release);
    run();
  });
}

char* Pipeline::room(Cell& cell, size_t index, size_t n) noexcept {
  if (n <= kSlotBytes) return slab_.bytes + index * kSlotBytes;
  if (n > cell.spill_capacity) {
    if (n > UINT32_MAX / 2) return nullptr;  // a record of gigabytes: not one the gateway makes
    const auto capacity = static_cast<uint32_t>(std::bit_ceil(n));
    std::unique_ptr<char[]> grown(new (std::nothrow) char[capacity]);
    if (grown == nullptr) return nullptr;
    cell.spill = std::move(grown);
    cell.spill_capacity = capacity;
  }
  return cell.spill.get();
}

bool Pipeline::submit(RequestRecord& record) noexcept {
  size_t pos = tail_.load(std::memory_order_relaxed);
  for (;;) {
    Cell& cell = cells_[pos & mask_];
    const size_t seq = cell.sequence.load(std::memory_order_acquire);
    const auto diff = static_cast<intptr_t>(seq) - static_cast<intptr_t>(pos);
    if (diff == 0) {
      if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
        // The cell is ours until its sequence moves on. It must be published either way; one
        // without a record (size 0, no memory for it) is skipped by the consumer.
        const size_t size = packed_size(record);
        char* to = room(cell, pos & mask_, size);
        const bool bodies = !record.request_body.empty() || !record.response_body.empty();
        if (to != nullptr && bodies && cell.bodies == nullptr) {
          cell.bodies.reset(new (std::nothrow) Bodies);
        }
        const bool queued = to != nullptr && (!bodies || cell.bodies != nullptr);
        if (queued) {
          pack(record, to);
          cell.size = static_cast<uint32_t>(size);
          if (bodies) {
            cell.bodies->request.swap(record.request_body);
            cell.bodies->response.swap(record.response_body);
          }
        } else {
          dropped_.fetch_add(1, std::memory_order_relaxed);
        }
        cell.sequence.store(pos + 1, std::memory_order_release);
        if (idle_.load(std::memory_order_relaxed) &&
            (starved(record.time_ms) || ((pos & check_mask_) == 0 && depth() > mask_ / 2))) {
          raise_priority();
        }
        return queued;
      }
    } else if (diff < 0) {  // the consumer has not freed this cell: full
      dropped_.fetch_add(1, std::memory_order_relaxed);
      if (idle_.load(std::memory_order_relaxed)) raise_priority();
      return false;
    } else {
      pos = tail_.load(std::memory_order_relaxed);
    }
  }
}

Pipeline::Popped Pipeline::pop(RequestRecord& out) {
  Cell& cell = cells_[head_ & mask_];
  const size_t seq = cell.sequence.load(std::memory_order_acquire);
  if (seq != head_ + 1) return Popped::kNone;  // empty (or a producer is still writing it)
  const bool packed = cell.size != 0;            // 0: a record dropped for want of memory
  if (packed) {
    unpack(cell.size <= kSlotBytes ? slab_.bytes + (head_ & mask_) * kSlotBytes : cell.spill.get(), out);
  }
  // The bodies move on; the cell keeps the slot's emptied buffers (kept small by drain_once).
  out.request_body.clear();
  out.response_body.clear();
  if (packed && cell.bodies != nullptr) {
    out.request_body.swap(cell.bodies->request);
    out.response_body.swap(cell.bodies->response);
  }
  if (cell.spill_capacity > kKeptSpillBytes) {
    cell.spill.reset();
    cell.spill_capacity = 0;
  }
  cell.size = 0;
  cell.sequence.store(head_ + mask_ + 1, std::memory_order_release);
  ++head_;
  if (!packed) {
    skipped_.fetch_add(1, std::memory_order_relaxed);
    return Popped::kSkipped;
  }
  return Popped::kRecord;
}

size_t Pipeline::depth() const {
  // Claimed cells not yet written to the sinks (the batch being written included): a gauge.
  const size_t tail = tail_.load(std::memory_order_relaxed);
  const auto taken = static_cast<size_t>(written_.load(std::memory_order_relaxed) +
                                         skipped_.load(std::memory_order_relaxed));
  return tail > taken ? tail - taken : 0;
}

bool Pipeline::starved(int64_t now_ms) const noexcept {
  return now_ms - drained_ms_.load(std::memory_order_relaxed) > kMaxWaitMs;
}

bool Pipeline::leave_idle_locked() noexcept {
  // Refused (not expected: start() tried it), it is not tried again until the thread is idle again.
  const bool left = set_policy(thread_id_.load(std::memory_order_acquire), SCHED_OTHER);
  idle_.store(false, std::memory_order_relaxed);
  return left;
}

void Pipeline::raise_priority() noexcept {
  const std::unique_lock lock(priority_mutex_, std::try_to_lock);
  if (!lock.owns_lock() || !idle_.load(std::memory_order_relaxed)) return;
  if (leave_idle_locked()) raises_.fetch_add(1, std::memory_order_relaxed);
  drain_now_.store(true, std::memory_order_relaxed);
  wake_.notify_one();  // and it drains now, not at its next poll
}

void Pipeline::lower_priority() {
  const std::lock_guard lock(priority_mutex_);
  if (!idle_.load(std::memory_order_relaxed) && set_policy(0, SCHED_IDLE)) {
    idle_.store(true, std::memory_order_relaxed);
  }
}

int Pipeline::thread_policy() const {
  const int id = thread_id_.load(std::memory_order_acquire);
  return id == 0 ? -1 : sched_getscheduler(id);
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
    for (Popped got = Popped::kRecord; n < batch.size() && got != Popped::kNone;) {
      got = pop(batch[n]);
      if (got == Popped::kRecord) ++n;
    }
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
  drained_ms_.store(unix_now_ms(), std::memory_order_relaxed);
}

void Pipeline::run() {
  std::vector<RequestRecord> batch(std::max<size_t>(options_.max_batch, 1));
  std::vector<OutcomeEvent> outcomes;
  for (;;) {
    drain_once(batch, outcomes);
    std::unique_lock lock(wake_mutex_);
    if (stopping_) break;
    if (idle_allowed_ && !idle_.load(std::memory_order_relaxed)) lower_priority();  // caught up
    const auto woken = [this] { return stopping_ || drain_now_.load(std::memory_order_relaxed); };
    wake_.wait_for(lock, options_.poll, woken);
    drain_now_.store(false, std::memory_order_relaxed);
    if (stopping_) break;
  }
  drain_once(batch, outcomes);  // what was queued before stop()
}

void Pipeline::stop() {
  if (!thread_.joinable()) return;
  {
    const std::lock_guard lock(wake_mutex_);
    stopping_ = true;
  }
  {
    const std::lock_guard lock(priority_mutex_);  // what is left is drained at normal priority
    if (idle_.load(std::memory_order_relaxed)) leave_idle_locked();
  }
  wake_.notify_one();
  thread_.join();
}

}  // namespace sy::telemetry
