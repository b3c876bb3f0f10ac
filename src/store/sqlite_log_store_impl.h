#pragma once
// Internal to src/store: the SQLite LogStore's class, whose methods live in one file per
// concern (the schema and how the design follows from it are described in sqlite_log_store.cc):
//   sqlite_log_store.cc      opening, schema migrations, append() and append_outcomes()
//   sqlite_log_query.cc      query() and get(): pages read a time window of blocks at a time
//   log_block.cc             a block's records, encoded
//   sqlite_log_stats.cc      variant_stats()
//   sqlite_log_retention.cc  enforce_retention()
// Other modules use log_store.h and open_sqlite_log() only.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "store/log_block.h"
#include "store/log_record_codec.h"
#include "store/log_store.h"
#include "store/sqlite_util.h"

namespace sy::store::sqlite_log {

using sqlite::Conn;
using sqlite::Txn;
using sqlite::Use;

// Records per block at most: a page or a lookup by id decodes a block's heads whole.
constexpr size_t kBlockRecords = 512;
// A record's place in page order after its time: its block's seq, then its slot in the block.
constexpr int kSlotBits = 16;
inline int64_t position(int64_t seq, size_t slot) {
  return (seq << kSlotBits) | static_cast<int64_t>(slot);
}

constexpr int64_t kDayMs = 86'400'000;  // block_keys' days
inline int64_t day_of(int64_t ms) { return ms / kDayMs - (ms % kDayMs < 0 ? 1 : 0); }

// The error of a block that does not decode.
inline tl::unexpected<Error> damaged(std::string_view path, int64_t seq) {
  return fail(ErrorCode::kInternal, fmt::format("log store '{}': block {} is damaged", path, seq));
}

// block_keys.kind
enum KeyKind : int64_t { kUserKey = 0, kModelKey = 1 };

class SqliteLogStore final : public LogStore {
 public:
  SqliteLogStore(std::string path, LogStoreOptions options);

  Result<void> open_writer();

  Result<size_t> append(std::span<const telemetry::RequestRecord> records) override;
  Result<size_t> append_outcomes(std::span<const telemetry::OutcomeEvent> events) override;
  Result<LogPage> query(const LogQuery& q) const override;
  Result<std::optional<telemetry::RequestRecord>> get(std::string_view id) const override;
  Result<std::vector<VariantStats>> variant_stats(std::string_view router, int64_t since_ms,
                                                  int64_t until_ms) const override;
  Result<int64_t> enforce_retention(int64_t max_age_ms, int64_t max_bytes) override;

 private:
  Result<std::unique_ptr<Conn>> open_conn(bool writer) const;
  // append() inside the caller's write transaction (write_mu_ held): the batch's records by
  // router, in blocks of kBlockRecords; the number stored.
  Result<size_t> append_locked(std::span<const telemetry::RequestRecord> records);
  Result<void> write_block(std::string_view router,
                           std::span<const telemetry::RequestRecord* const> records);
  // Outcomes that came before their request, given the request's router, time, route and
  // variant now that it is stored (write_mu_ held).
  Result<void> resolve_pending(const telemetry::RequestRecord& r, std::string_view router);
  // The request `id` whole (with its bodies when `bodies`), read on `c`.
  Result<std::optional<telemetry::RequestRecord>> find(Conn& c, std::string_view id,
                                                       bool bodies) const;
  // Moves a version-3 log's rows into blocks, then drops them (write_mu_ held, at open).
  Result<void> convert_rows();
  // Runs fn(conn) in a read transaction on a pooled read connection (the writer for :memory:).
  template <class Fn>
  auto read(std::string_view what, Fn fn) const -> decltype(fn(std::declval<Conn&>()));
  // Deletes up to one chunk of the blocks whose newest record is older than `before_ms`, the
  // oldest first, and what hangs on them; returns how many records went.
  Result<int64_t> delete_chunk(int64_t before_ms);
  Result<int64_t> delete_outcomes(int64_t before_ms);
  // Reads which requests have outcomes waiting for them into pending_ (write_mu_ held).
  Result<void> load_pending_locked();
  struct Pages {
    int64_t count, free, size;  // pages in the file, of them free; bytes per page
  };
  Result<Pages> pages_locked(std::string_view what);  // write_mu_ held
  Result<int64_t> used_bytes();
  Result<void> shrink_file(int64_t max_bytes);

  std::string path_;
  LogStoreOptions options_;
  bool memory_;
  // The widest block (t_max - t_min): a block holding time t has t_max in [t, t + max_span_].
  // Read at open, raised by appends; readers bound their index ranges with it.
  std::atomic<int64_t> max_span_{0};
  mutable std::mutex write_mu_;
  std::unique_ptr<Conn> writer_;  // guarded by write_mu_
  // The ids of requests not stored yet that have outcomes (at_router NULL); guarded by
  // write_mu_. Usually empty, so that storing a record costs no probe of the outcomes.
  std::unordered_set<std::string> pending_;
  // append()'s buffers, reused (write_mu_ held): the batch by router, a block being encoded,
  // a block's keys.
  struct Group {
    std::string_view router;
    std::vector<const telemetry::RequestRecord*> records;
  };
  std::vector<Group> groups_;
  BlockWriter block_;
  std::vector<std::pair<int64_t, std::string_view>> keys_;
  mutable std::mutex pool_mu_;
  mutable std::vector<std::unique_ptr<Conn>> idle_;  // guarded by pool_mu_
};

template <class Fn>
auto SqliteLogStore::read(std::string_view what, Fn fn) const
    -> decltype(fn(std::declval<Conn&>())) {
  auto in_txn = [&](Conn& c) -> decltype(fn(c)) {
    Txn txn(c);  // one snapshot for every statement of the call
    if (auto r = txn.begin(false, what); !r) {
      return tl::unexpected(r.error());
    }
    auto out = fn(c);
    if (auto r = txn.commit(what); !r && out) {
      return tl::unexpected(r.error());
    }
    return out;
  };
  if (memory_) {  // a second connection would open another, empty database
    std::lock_guard lock(write_mu_);
    return in_txn(*writer_);
  }
  std::unique_ptr<Conn> conn;
  {
    std::lock_guard lock(pool_mu_);
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!conn) {
    auto c = open_conn(false);
    if (!c) {
      return tl::unexpected(c.error());
    }
    conn = std::move(*c);
  }
  auto out = in_txn(*conn);
  std::lock_guard lock(pool_mu_);
  if (idle_.size() < options_.max_idle_readers) {
    idle_.push_back(std::move(conn));
  }
  return out;
}

}  // namespace sy::store::sqlite_log
