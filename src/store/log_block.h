#pragma once
// Internal to the SQLite log store: a block, the records of one router from one batch encoded
// into two byte strings, stored as one row (sqlite_log_store.cc says why).
//
//   BlockWriter w;
//   for (const RequestRecord& r : batch_of_one_router) w.add(r);   // each must outlive the next add
//   store(w.heads(), w.ids(), w.tails());  ...  w.clear();
//
//   BlockReader b(heads, ids, tails);
//   while (b.next()) {                       // one record at a time, in the order added
//     if (b.head().user == wanted) { RequestRecord r; b.record(r); }
//   }
//   if (!b.ok()) ...                         // a damaged block: stop, say which
//   auto slot = find_id(ids, "req_…");      // where a record is, reading the ids only
//
// `heads` holds what filters and the experiment figures read (time, user, route, variant,
// model, status, failure, TTFT, latency, cost), so a scan decodes only those; `ids` the
// records' ids; `tails` the rest of the record. A string equal to the previous record's is
// written as one byte. The format is stored: a change is a new block version, never an edit.

#include <cstdint>
#include <string>
#include <string_view>

#include "telemetry/record.h"

namespace sy::store::sqlite_log {

// What a scan of a block looks at; views into the block (or the previous record's fields).
struct BlockHead {
  int64_t time_ms = 0;
  std::string_view user, route, variant, model;
  int status = 0;
  bool failed = false;   // error_class set or status >= 400
  bool stream = false;
  bool bodies = false;   // request or response body stored beside the block
  bool spoken = false;
  int64_t ttft_ms = -1;
  int64_t latency_ms = 0;
  double cost_usd = 0;
};

class BlockWriter {
 public:
  void add(const telemetry::RequestRecord& r);
  void clear();
  size_t size() const { return n_; }
  std::string_view heads() const { return heads_; }
  std::string_view ids() const { return ids_; }
  std::string_view tails() const { return tails_; }

 private:
  std::string heads_, ids_, tails_;
  std::string record_;  // room to encode a record's head, id or tail in, before its size
  const telemetry::RequestRecord* prev_ = nullptr;
  size_t n_ = 0;
  int64_t prev_time_ = 0;
};

class BlockReader {
 public:
  BlockReader(std::string_view heads, std::string_view ids, std::string_view tails)
      : heads_(heads), ids_(ids), tails_(tails) {}
  // Moves to the next record; false at the end or on damage (then ok() is false).
  bool next();
  const BlockHead& head() const { return head_; }
  size_t slot() const { return slot_; }  // the current record's place in the block, from 0
  // The current record whole (bodies and router aside: they are not in the block). Decodes the
  // ids and tails of the records before it that were not asked for; false on damage.
  bool record(telemetry::RequestRecord& out);
  bool ok() const { return ok_; }

 private:
  struct Tail {
    std::string_view key_id, endpoint, dialect, reason, requested_model, provider, metadata;
  };
  bool read_tail(telemetry::RequestRecord* out);

  std::string_view heads_, ids_, tails_;
  size_t at_ = 0, id_at_ = 0, tail_at_ = 0;
  size_t ids_read_ = 0;
  size_t slot_ = SIZE_MAX, tails_read_ = 0;  // tails decoded so far
  int64_t prev_time_ = 0;
  BlockHead head_;
  Tail tail_;
  bool ok_ = true;
};

// The slot of the first record with this id in a block's ids; SIZE_MAX when none is (or the
// ids are damaged).
size_t find_id(std::string_view ids, std::string_view id);

}  // namespace sy::store::sqlite_log
