#pragma once
// Exporter: streams request records and outcomes to an analytics destination, off the request
// path. One implementation per destination (mixpanel.h, bigquery.h, jsonl.h).
//
//   auto mixpanel = exports::make_mixpanel_exporter(options);          // Result<unique_ptr<Exporter>>
//   (*mixpanel)->submit(records);            // from the telemetry thread: render + spool, no network
//   (*mixpanel)->stop(std::chrono::seconds(5));   // on shutdown: send what can be sent in 5 s
//
// submit() and submit_outcomes() are called from ONE thread (the telemetry thread); they never
// wait on the network: the remote exporters render each item and append it to an on-disk spool
// that their own sender thread drains. stats() and stop() may be called from any thread.

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "telemetry/record.h"

namespace sy::exports {

// Counters for /metrics: items are records and outcomes alike.
struct ExportStats {
  uint64_t submitted = 0;      // items accepted (spooled, or written for JSONL)
  uint64_t sent = 0;           // items the destination acknowledged
  uint64_t failed = 0;         // items the destination rejected for good (4xx) and were skipped
  uint64_t dropped = 0;        // items never accepted: spool full, unwritable, or too large to send
  uint64_t retries = 0;        // batches sent again after a 429, 5xx or connection error
  uint64_t spooled_bytes = 0;  // on disk, not yet acknowledged
  std::string last_error;      // the latest failure ("429 from api.mixpanel.com: {...}"), "" if none
};

class Exporter {
 public:
  virtual ~Exporter() = default;
  // "mixpanel", "bigquery", "jsonl": the `exporter` label of the metrics.
  virtual std::string_view name() const = 0;
  virtual void submit(std::span<const telemetry::RequestRecord> records) = 0;
  virtual void submit_outcomes(std::span<const telemetry::OutcomeEvent> outcomes) = 0;
  virtual ExportStats stats() const = 0;
  // Sends what it can within `timeout`, then stops sending; what is left stays spooled for the
  // next start. Idempotent. Destroying an exporter without stop() abandons the batch in flight
  // (it is sent again by the next exporter on the same spool).
  virtual void stop(std::chrono::milliseconds timeout) = 0;
};

}  // namespace sy::exports
