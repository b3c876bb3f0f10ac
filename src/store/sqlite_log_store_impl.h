#pragma once
// Internal to src/store: the SQLite LogStore's class, whose methods live in one file per
// concern (the schema and how the design follows from it are described in sqlite_log_store.cc):
//   sqlite_log_store.cc      opening, schema migrations, append() and append_outcomes()
//   sqlite_log_query.cc      query() and get(): the page scan over one index
//   sqlite_log_stats.cc      variant_stats()
//   sqlite_log_retention.cc  enforce_retention()
// Other modules use log_store.h and open_sqlite_log() only.

#include <array>
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

#include "store/log_record_codec.h"
#include "store/log_store.h"
#include "store/sqlite_util.h"

namespace sy::store::sqlite_log {

using sqlite::Conn;
using sqlite::Txn;
using sqlite::Use;

// Plain records per INSERT statement: a statement's fixed cost (a cursor opened on the table and
// on each index, then closed, the statement reset) is over a third of a one-row append (39k
// instructions a gateway-shaped record, 25k at 32 rows; bench/README.md, "Cost of observing").
constexpr size_t kRowsPerInsert = 32;

// The UTC day of requests_user's first key: the divisor in the index and in the page query.
constexpr int64_t kUserIndexDayMs = 86'400'000;

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
  // False when a record with this id was stored before (write_mu_ held).
  Result<bool> append_one(const telemetry::RequestRecord& r);
  // Plain records (a power of two of them, up to kRowsPerInsert) in one statement; how many
  // were new (write_mu_ held).
  Result<size_t> append_rows(std::span<const telemetry::RequestRecord* const> rows);
  // A record whose row takes more than the INSERT: speech columns, bodies.
  static bool needs_own_insert(const telemetry::RequestRecord& r);
  // Outcomes that came before their request, given the request's router, time, route and
  // variant now that it is stored (write_mu_ held).
  Result<void> resolve_pending(const telemetry::RequestRecord& r);
  // The days of requests_user a user's page reads, newest first: (first, last), first < last
  // when there is none.
  static Result<std::pair<int64_t, int64_t>> user_days(Conn& c, const LogQuery& q,
                                                       std::optional<Cursor> after);
  // Runs fn(conn) in a read transaction on a pooled read connection (the writer for :memory:).
  template <class Fn>
  auto read(std::string_view what, Fn fn) const -> decltype(fn(std::declval<Conn&>()));
  // Deletes up to one chunk of the oldest records older than `before_ms` and the outcomes
  // that counted at their times; returns how many records went.
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
  mutable std::mutex write_mu_;
  std::unique_ptr<Conn> writer_;  // guarded by write_mu_
  // The ids of requests not stored yet that have outcomes (at_router NULL); guarded by
  // write_mu_. Usually empty, so that storing a record costs no probe of the outcomes.
  std::unordered_set<std::string> pending_;
  std::array<std::string, kRowsPerInsert> attempts_;  // the rows' attempts text; write_mu_ held
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
