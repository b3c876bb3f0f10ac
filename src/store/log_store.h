#pragma once
// LogStore: every request's RequestRecord, the outcomes attached to requests and users later,
// and the per-variant figures experiments are judged by.
//
//   auto log = store::open_sqlite_log("/var/lib/switchyard/log.db");   // a file of its own
//   (*log)->append(batch);                                 // the telemetry writer thread
//   auto page = (*log)->query({.since_ms = now - 3'600'000, .router = "support"});
//
// Pages are newest first (time_ms, then the order stored: a batch router by router, each in
// the batch's order). `next_cursor` is opaque: pass it back unchanged for the next page. Paging is stable while records keep arriving: no record is
// shown twice, and a record older than the cursor that arrives late still appears on a later
// page. A page may hold fewer than `limit` records although more follow (see
// LogStoreOptions::scan_budget_rows); the end is an empty next_cursor, nothing else.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "telemetry/record.h"

namespace sy::store {

// Filters of query(); empty strings and 0 mean "any". Times are unix ms, since inclusive,
// until exclusive. Which blocks a page reads: the user's, else the router's, else the model's,
// else all, a window of time at a time; the other filters are checked record by record.
struct LogQuery {
  int64_t since_ms = 0;
  int64_t until_ms = std::numeric_limits<int64_t>::max();
  std::string router, route, variant, model, user;
  int status = 0;             // exact HTTP status the client got; 0: any
  bool errors_only = false;   // records with an error_class or a status >= 400
  size_t limit = 50;          // 1..1000
  std::string cursor;         // "" for the first page; else a next_cursor from this store
  bool with_bodies = false;   // fill request_body/response_body (get() always does)
};

struct LogPage {
  std::vector<telemetry::RequestRecord> records;
  std::string next_cursor;  // "" at the end
};

// One outcome metric of one variant: the caller derives mean = sum/n and the variance
// (sum_sq - sum²/n) / (n-1) for a confidence interval.
struct MetricSums {
  std::string name;
  int64_t n = 0;
  double sum = 0;
  double sum_sq = 0;
};

// One (route, variant) of a router over a window. Percentiles are exact nearest-rank values
// (the ceil(p·n)-th smallest) of the window's requests: TTFT over the requests that had a
// first token, latency over the requests that did not fail; -1 when there is none.
struct VariantStats {
  std::string route, variant;
  int64_t requests = 0;
  int64_t users = 0;   // distinct non-empty users served by this variant (a user may count twice)
  int64_t errors = 0;  // error_class set or status >= 400
  double ttft_p50_ms = -1, ttft_p95_ms = -1;
  double latency_p50_ms = -1, latency_p95_ms = -1;
  double cost_usd = 0;  // sum over the requests, failed ones included
  std::vector<MetricSums> outcomes;  // by name
};

struct LogStoreOptions {
  std::function<int64_t()> now_ms;   // unix ms for retention; the system clock when empty
  int busy_timeout_ms = 5000;        // waiting for another connection's lock → kUnavailable
  int64_t cache_mib = 64;            // SQLite page cache per connection
  int64_t mmap_mib = 0;              // memory-mapped reads (0: off; SIGBUS on I/O errors if on)
  int64_t scan_budget_rows = 100'000;  // records one page decodes at most (a window more)
  int64_t retention_chunk_rows = 1'000;  // records deleted per write transaction (~10 ms at 10M),
                                         // in whole blocks, one at least
  size_t max_idle_readers = 4;       // read connections kept open between calls
};

// Thread-safe: any method from any thread. Writes are serialised on one connection; reads use
// a pool of read connections of their own (WAL: they never wait for the writer), except for
// ":memory:", where everything shares the one connection.
class LogStore {
 public:
  virtual ~LogStore() = default;

  // Stores the records in one transaction, all or none; a record without an id is skipped.
  // Returns how many were stored. Ids are the gateway's, unique: one given twice is stored
  // twice (get() returns the first). Meant for batches from one background writer; bodies are
  // stored only when non-empty.
  virtual Result<size_t> append(std::span<const telemetry::RequestRecord> records) = 0;

  // Stores outcome events in one transaction; returns how many were new (an event_id seen
  // before is skipped). An event with request_id counts for that request's variant (also when
  // it arrives before the request's record); an event with only a user counts for the variant
  // that user was served most by the router in the window (ties: the latest). The whole batch
  // is refused (kInvalidRequest) when an event lacks event_id or name, has neither request_id
  // nor user, or a value that is not finite.
  virtual Result<size_t> append_outcomes(std::span<const telemetry::OutcomeEvent> events) = 0;

  // One page of records, newest first; bodies only with q.with_bodies. A user's page reads
  // the log a UTC day at a time, from until_ms (or the newest record) back to since_ms (or the
  // oldest). kInvalidRequest for a limit outside 1..1000, a cursor this store did not issue,
  // since_ms > until_ms or a status outside 0 and 100..599.
  virtual Result<LogPage> query(const LogQuery& q) const = 0;

  // The record with this id, bodies included; nullopt when absent (or deleted by retention).
  virtual Result<std::optional<telemetry::RequestRecord>> get(std::string_view id) const = 0;

  // Per (route, variant) figures of `router`'s requests with since_ms <= time_ms < until_ms,
  // ordered by route then variant. Outcomes count when their request is in the window, or,
  // for user outcomes (router = this one or ""), when the event's own time is.
  virtual Result<std::vector<VariantStats>> variant_stats(std::string_view router, int64_t since_ms,
                                                          int64_t until_ms) const = 0;

  // Deletes the oldest records (and their outcomes) a block at a time, until no block's newest
  // record is older than max_age_ms (a block spans about one writer batch: 0.1 s) and the used
  // pages take at most max_bytes; then gives free pages back to the file system until
  // the file is at most max_bytes (the WAL adds up to 64 MiB). A limit <= 0 is no limit. Works
  // in chunks of retention_chunk_rows, each its own transaction, so appends interleave.
  // Returns the number of records deleted. Call it every minute or so (from the writer thread
  // or a timer): with nothing to delete it reads three PRAGMAs.
  virtual Result<int64_t> enforce_retention(int64_t max_age_ms, int64_t max_bytes) = 0;
};

// Opens (creating if needed) the log database at `path` (":memory:" for tests): 8 KiB pages
// and incremental auto-vacuum (set at creation), WAL, synchronous=NORMAL, checkpoints every
// 64 MiB of WAL and the WAL file cut back to 64 MiB, then the pending migrations. Use a file of
// its own beside the config store's (e.g. <data dir>/log.db), not the config file itself.
// A database written by a newer build is refused; errors name the file; a lock held past the
// busy timeout is kUnavailable.
Result<std::unique_ptr<LogStore>> open_sqlite_log(const std::string& path, LogStoreOptions options = {});

}  // namespace sy::store
