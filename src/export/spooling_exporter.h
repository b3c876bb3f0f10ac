#pragma once
// SpoolingExporter: the machinery every remote exporter shares — render on the caller's
// thread, append to a Spool, and a sender thread that drains the spool in batches to a
// Destination, with retries. Mixpanel and BigQuery supply the renderers and the Destination.
//
//   SpoolingExporter exporter("mixpanel", std::move(spool), std::move(destination), renderers,
//                             {.max_items = 2000, .max_bytes = 9'000'000}, SenderOptions{});
//   exporter.submit(records);   exporter.stop(std::chrono::seconds(5));
//
// Delivery is at least once: a batch is acknowledged in the spool only once the destination
// has answered for all of it, so a batch in flight at a crash is sent again; the destinations
// de-duplicate by the insert id each item carries.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "export/exporter.h"
#include "export/spool.h"

namespace sy::exports {

// What a destination did with one batch.
struct Delivery {
  enum class Outcome {
    kDone,      // answered for every item: sent, failed for good, or listed in `again`
    kRetry,     // nothing was taken (429, 5xx, connection error): send the same batch later
    kTooLarge,  // 413: send it again in halves
  };
  Outcome outcome = Outcome::kDone;
  size_t sent = 0;                 // kDone: items the destination accepted
  size_t failed = 0;               // kDone: items it rejected for good (a 4xx, an invalid row)
  std::vector<size_t> again;       // kDone: indices of items to send again after a backoff
  std::chrono::milliseconds retry_after{-1};  // the destination's Retry-After; -1: none
  std::string error;               // what went wrong, for stats().last_error ("" when nothing did)
};

// A remote API. deliver() runs on the sender thread only; cancel() may come from any thread
// and makes the deliver() in flight, and every later one, return quickly.
class Destination {
 public:
  virtual ~Destination() = default;
  virtual Delivery deliver(uint8_t channel, std::span<const std::string> items) = 0;
  virtual void cancel() = 0;
};

// open + the items separated by ',' + close: a JSON array of spooled objects, or its envelope.
std::string join_items(std::string_view open, std::span<const std::string> items, std::string_view close);
// A send that got no answer (connection error, timeout, cancelled): the batch goes again later.
Delivery retry_later(std::string error);

struct BatchLimits {
  size_t max_items = 500;          // items per request
  size_t max_bytes = 9'000'000;    // rendered payload bytes per request (envelope excluded)
};

struct SenderOptions {
  std::chrono::milliseconds flush_interval{1'000};    // longest a partial batch waits to fill
  std::chrono::milliseconds backoff_initial{500};     // first retry delay; doubles per retry
  std::chrono::milliseconds backoff_max{60'000};      // cap of the doubling
  std::chrono::milliseconds retry_after_max{600'000}; // a longer Retry-After is cut to this
  std::function<double()> random;                     // uniform [0, 1) for the jitter; {}: seeded engine
};

// How items are rendered for the spool: each returns the spooled payload, or an error when
// the item cannot be sent at all (too large for the destination); such items are dropped.
struct Renderers {
  uint8_t request_channel = 0;
  uint8_t outcome_channel = 0;
  std::function<Result<std::string>(const telemetry::RequestRecord&)> request;
  std::function<Result<std::string>(const telemetry::OutcomeEvent&)> outcome;
};

class SpoolingExporter final : public Exporter {
 public:
  SpoolingExporter(std::string name, std::unique_ptr<Spool> spool, std::unique_ptr<Destination> destination,
                   Renderers renderers, BatchLimits limits, SenderOptions options);
  // Without stop(): abandons the batch in flight (it stays spooled) and joins the sender.
  ~SpoolingExporter() override;
  SpoolingExporter(const SpoolingExporter&) = delete;
  SpoolingExporter& operator=(const SpoolingExporter&) = delete;

  std::string_view name() const override { return name_; }
  void submit(std::span<const telemetry::RequestRecord> records) override;
  void submit_outcomes(std::span<const telemetry::OutcomeEvent> outcomes) override;
  ExportStats stats() const override;
  void stop(std::chrono::milliseconds timeout) override;

 private:
  // `unrenderable` items could not be rendered; `error` says why (the last of them).
  void append(uint8_t channel, std::vector<std::string> items, size_t unrenderable, std::string error);
  void run();
  void drain();
  bool send_all(uint8_t channel, std::vector<std::string> items);
  bool wait_backoff(std::chrono::milliseconds backoff, std::chrono::milliseconds retry_after);
  void note_error(std::string error, bool log);
  void abort_sender();
  bool aborting();

  const std::string name_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<Destination> destination_;
  Renderers renderers_;
  BatchLimits limits_;
  SenderOptions options_;

  std::atomic<uint64_t> submitted_{0};
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> unrenderable_{0};
  std::atomic<uint64_t> retries_{0};
  std::atomic<uint64_t> unsent_items_{0};  // appended since the sender last looked (for early wake-ups)
  mutable std::mutex error_mu_;
  std::string last_error_;
  bool retrying_ = false;  // sender thread: inside a run of retries (logged once)

  std::mutex mu_;
  std::condition_variable cv_;
  bool wake_ = false;
  bool stopping_ = false;  // stop(): drain, then end
  bool abort_ = false;     // give up at once
  bool finished_ = false;  // the sender thread is done
  std::chrono::steady_clock::time_point deadline_;
  std::thread thread_;     // last: started once everything above exists
};

}  // namespace sy::exports
