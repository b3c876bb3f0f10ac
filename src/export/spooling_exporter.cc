#include "export/spooling_exporter.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "core/thread_name.h"

namespace sy::exports {
namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

SpoolingExporter::SpoolingExporter(std::string name, std::unique_ptr<Spool> spool, std::unique_ptr<Destination> destination,
                                   Renderers renderers, BatchLimits limits, SenderOptions options)
    : name_(std::move(name)),
      spool_(std::move(spool)),
      destination_(std::move(destination)),
      renderers_(std::move(renderers)),
      limits_(limits),
      options_(std::move(options)) {
  if (!options_.random) {
    options_.random = [engine = std::mt19937_64(std::random_device{}())]() mutable {
      return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
    };
  }
  thread_ = std::thread([this] {
    name_this_thread("sy-export-" + name_);
    run();
  });
}

SpoolingExporter::~SpoolingExporter() { abort_sender(); }

void SpoolingExporter::abort_sender() {
  {
    std::lock_guard lock(mu_);
    abort_ = true;
  }
  destination_->cancel();
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

// ---- the caller's side: render and spool ----

namespace {

struct Rendered {
  std::vector<std::string> items;
  size_t unrenderable = 0;
  std::string error;  // the last render error
};

template <class T>
Rendered render_all(std::span<const T> in, const std::function<Result<std::string>(const T&)>& render) {
  Rendered out;
  out.items.reserve(in.size());
  for (const T& x : in) {
    auto item = render(x);
    if (item) {
      out.items.push_back(std::move(*item));
    } else {
      ++out.unrenderable;
      out.error = std::move(item.error().message);
    }
  }
  return out;
}

}  // namespace

void SpoolingExporter::submit(std::span<const telemetry::RequestRecord> records) {
  Rendered r = render_all(records, renderers_.request);
  append(renderers_.request_channel, std::move(r.items), r.unrenderable, std::move(r.error));
}

void SpoolingExporter::submit_outcomes(std::span<const telemetry::OutcomeEvent> outcomes) {
  Rendered r = render_all(outcomes, renderers_.outcome);
  append(renderers_.outcome_channel, std::move(r.items), r.unrenderable, std::move(r.error));
}

void SpoolingExporter::append(uint8_t channel, std::vector<std::string> items, size_t unrenderable, std::string error) {
  unrenderable_.fetch_add(unrenderable, std::memory_order_relaxed);
  if (!error.empty()) note_error(std::move(error), false);
  if (items.empty()) return;
  const size_t taken = spool_->append(channel, items);
  submitted_.fetch_add(taken, std::memory_order_relaxed);
  if (taken < items.size()) {
    const std::string why = spool_->last_error();
    note_error(why.empty() ? "export spool full: items dropped (raise spool_max_mb, or check the destination)" : why, false);
  }
  // A full batch need not wait for the flush interval.
  if (unsent_items_.fetch_add(taken, std::memory_order_relaxed) + taken >= limits_.max_items ||
      spool_->pending_bytes() >= limits_.max_bytes) {
    {
      std::lock_guard lock(mu_);
      wake_ = true;
    }
    cv_.notify_all();
  }
}

ExportStats SpoolingExporter::stats() const {
  ExportStats s;
  s.submitted = submitted_.load(std::memory_order_relaxed);
  s.sent = sent_.load(std::memory_order_relaxed);
  s.failed = failed_.load(std::memory_order_relaxed);
  s.dropped = spool_->dropped() + unrenderable_.load(std::memory_order_relaxed);
  s.retries = retries_.load(std::memory_order_relaxed);
  s.spooled_bytes = spool_->pending_bytes();
  std::lock_guard lock(error_mu_);
  s.last_error = last_error_;
  return s;
}

void SpoolingExporter::note_error(std::string error, bool log) {
  if (log) std::fprintf(stderr, "switchyard: export %s: %s\n", name_.c_str(), error.c_str());
  std::lock_guard lock(error_mu_);
  last_error_ = std::move(error);
}

bool SpoolingExporter::aborting() {
  std::lock_guard lock(mu_);
  return abort_;
}

std::string join_items(std::string_view open, std::span<const std::string> items, std::string_view close) {
  size_t size = open.size() + close.size() + items.size();
  for (const std::string& item : items) size += item.size();
  std::string out;
  out.reserve(size);
  out += open;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += items[i];
  }
  out += close;
  return out;
}

Delivery retry_later(std::string error) {
  Delivery d;
  d.outcome = Delivery::Outcome::kRetry;
  d.error = std::move(error);
  return d;
}

// ---- stop ----

void SpoolingExporter::stop(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!stopping_) {
    stopping_ = true;
    deadline_ = Clock::now() + timeout;
    cv_.notify_all();
  }
  cv_.wait_until(lock, deadline_, [&] { return finished_; });
  lock.unlock();
  abort_sender();  // past the deadline: cancel the request in flight; else a plain join
}

// ---- the sender thread ----

void SpoolingExporter::run() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, options_.flush_interval, [&] { return abort_ || stopping_ || wake_; });
      wake_ = false;
      if (abort_) break;
    }
    drain();
    std::lock_guard lock(mu_);
    // Stopping: one drain to the end (or to the deadline) is all there is.
    if (abort_ || stopping_) break;
  }
  std::lock_guard lock(mu_);
  finished_ = true;
  cv_.notify_all();
}

void SpoolingExporter::drain() {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (abort_ || (stopping_ && Clock::now() >= deadline_)) return;
    }
    unsent_items_.store(0, std::memory_order_relaxed);
    auto batch = spool_->read(limits_.max_items, limits_.max_bytes);
    if (!batch) {
      note_error(batch.error().message, true);
      return;  // try again after the next interval
    }
    if (batch->empty()) return;
    const uint64_t end = batch->ends.back();
    if (!send_all(batch->channel, std::move(batch->items))) return;
    if (auto acked = spool_->ack(end); !acked) {
      note_error(acked.error().message, true);
      return;
    }
  }
}

// Sends `items` until the destination has answered for each; false when the sender must stop
// first (the items then stay in the spool).
bool SpoolingExporter::send_all(uint8_t channel, std::vector<std::string> items) {
  auto backoff = options_.backoff_initial;
  while (!items.empty()) {
    Delivery d = destination_->deliver(channel, items);
    switch (d.outcome) {
      case Delivery::Outcome::kTooLarge: {
        if (items.size() == 1) {
          failed_.fetch_add(1, std::memory_order_relaxed);
          note_error(d.error, true);
          return true;
        }
        std::vector<std::string> second(std::make_move_iterator(items.begin() + static_cast<ptrdiff_t>(items.size() / 2)),
                                        std::make_move_iterator(items.end()));
        items.resize(items.size() / 2);
        if (!send_all(channel, std::move(items))) return false;
        items = std::move(second);
        continue;
      }
      case Delivery::Outcome::kRetry:
        if (aborting()) return false;  // the failure is the cancellation itself
        retries_.fetch_add(1, std::memory_order_relaxed);
        note_error(d.error, !retrying_);
        retrying_ = true;
        if (!wait_backoff(backoff, d.retry_after)) return false;
        backoff = std::min(backoff * 2, options_.backoff_max);
        continue;
      case Delivery::Outcome::kDone:
        retrying_ = false;
        sent_.fetch_add(d.sent, std::memory_order_relaxed);
        failed_.fetch_add(d.failed, std::memory_order_relaxed);
        if (!d.error.empty()) note_error(d.error, d.failed > 0);
        if (d.again.empty()) return true;
        {
          std::vector<std::string> again;
          for (size_t i : d.again) {
            if (i < items.size()) again.push_back(std::move(items[i]));
          }
          items = std::move(again);
        }
        retries_.fetch_add(1, std::memory_order_relaxed);
        if (!wait_backoff(backoff, d.retry_after)) return false;
        backoff = std::min(backoff * 2, options_.backoff_max);
        continue;
    }
  }
  return true;
}

// Sleeps for the jittered backoff (at least the Retry-After); false when the sender must stop
// first: an abort, or a stop whose deadline comes before the retry.
bool SpoolingExporter::wait_backoff(std::chrono::milliseconds backoff, std::chrono::milliseconds retry_after) {
  auto delay = std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(backoff.count()) * (0.5 + 0.5 * options_.random())));
  if (retry_after.count() >= 0) delay = std::max(delay, std::min(retry_after, options_.retry_after_max));
  const auto until = Clock::now() + delay;
  std::unique_lock lock(mu_);
  return !cv_.wait_until(lock, until, [&] { return abort_ || (stopping_ && until > deadline_); });
}

}  // namespace sy::exports
