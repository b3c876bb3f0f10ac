// enforce_retention() of the SQLite log store: the oldest records go first, a chunk per write
// transaction so that appends interleave; then free pages go back to the file system.

#include <algorithm>

#include <fmt/core.h>
#include <sqlite3.h>

#include "store/sqlite_log_store_impl.h"

namespace sy::store::sqlite_log {
namespace {

constexpr int64_t kVacuumChunkPages = 512;  // pages given back per write transaction (8 MiB)

// The oldest `?2` records older than `?1`.
const std::string kDeleteOldest =
    "DELETE FROM requests WHERE seq IN (SELECT seq FROM requests INDEXED BY requests_time"
    " WHERE time_ms < ?1 ORDER BY time_ms, seq LIMIT ?2) RETURNING time_ms";
const std::string kDeleteOutcomes =
    "DELETE FROM outcomes WHERE rowid IN (SELECT rowid FROM outcomes INDEXED BY outcomes_age"
    " WHERE at_ms < ?1 LIMIT ?2)";

}  // namespace

Result<int64_t> SqliteLogStore::delete_outcomes(int64_t before_ms) {
  constexpr std::string_view what = "deleting old outcomes";
  int64_t total = 0;
  for (;;) {
    std::lock_guard lock(write_mu_);
    auto s = writer_->stmt(kDeleteOutcomes, what);
    if (!s) {
      return tl::unexpected(s.error());
    }
    Use u(*s);
    u.bind(1, before_ms);
    u.bind(2, options_.retention_chunk_rows);
    if (auto r = writer_->run(u, what); !r) {
      return tl::unexpected(r.error());
    }
    int64_t n = sqlite3_changes64(writer_->db());
    total += n;
    if (n < options_.retention_chunk_rows) {
      if (total > 0 && !pending_.empty()) {  // outcomes of requests that never came may have gone
        if (auto r = load_pending_locked(); !r) {
          return tl::unexpected(r.error());
        }
      }
      return total;
    }
  }
}

Result<int64_t> SqliteLogStore::delete_chunk(int64_t before_ms) {
  constexpr std::string_view what = "deleting old records";
  int64_t newest = INT64_MIN;
  int64_t n = 0;
  {
    std::lock_guard lock(write_mu_);
    Txn txn(*writer_);  // the trigger's body deletes go in the same transaction
    if (auto r = txn.begin(true, what); !r) {
      return tl::unexpected(r.error());
    }
    auto s = writer_->stmt(kDeleteOldest, what);
    if (!s) {
      return tl::unexpected(s.error());
    }
    {
      Use u(*s);
      u.bind(1, before_ms);
      u.bind(2, options_.retention_chunk_rows);
      int rc;
      while ((rc = u.step()) == SQLITE_ROW) {
        newest = std::max(newest, u.i64(0));
        ++n;
      }
      if (rc != SQLITE_DONE) {
        return writer_->error(what, rc);
      }
    }
    if (auto r = txn.commit(what); !r) {
      return tl::unexpected(r.error());
    }
  }
  // Outcomes counting before the newest deleted record's time: theirs went (ties may keep a few).
  if (n > 0) {
    if (auto r = delete_outcomes(newest); !r) {
      return tl::unexpected(r.error());
    }
  }
  return n;
}

Result<SqliteLogStore::Pages> SqliteLogStore::pages_locked(std::string_view what) {
  auto count = writer_->pragma("page_count", what);
  auto free = writer_->pragma("freelist_count", what);
  auto size = writer_->pragma("page_size", what);
  if (!count || !free || !size) {
    return tl::unexpected(!count ? count.error() : !free ? free.error() : size.error());
  }
  return Pages{*count, *free, *size};
}

Result<int64_t> SqliteLogStore::used_bytes() {
  std::lock_guard lock(write_mu_);
  auto p = pages_locked("measuring the database");
  if (!p) {
    return tl::unexpected(p.error());
  }
  return (p->count - p->free) * p->size;
}

Result<void> SqliteLogStore::shrink_file(int64_t max_bytes) {
  constexpr std::string_view what = "giving free pages back";
  for (;;) {
    std::lock_guard lock(write_mu_);
    auto p = pages_locked(what);
    if (!p) {
      return tl::unexpected(p.error());
    }
    int64_t n = std::min({p->free, p->count - max_bytes / p->size, kVacuumChunkPages});
    if (n <= 0) {
      // WAL: the file shrinks when a checkpoint copies the truncation; readers may delay it.
      return memory_ ? Result<void>() : writer_->exec("PRAGMA wal_checkpoint(PASSIVE)", what);
    }
    std::string vacuum = fmt::format("PRAGMA incremental_vacuum({})", n);
    if (auto r = writer_->exec(vacuum.c_str(), what); !r) {
      return r;
    }
  }
}

Result<int64_t> SqliteLogStore::enforce_retention(int64_t max_age_ms, int64_t max_bytes) {
  int64_t deleted = 0;
  if (max_age_ms > 0) {
    int64_t cutoff = options_.now_ms() - max_age_ms;
    for (;;) {
      auto n = delete_chunk(cutoff);
      if (!n) {
        return tl::unexpected(n.error());
      }
      deleted += *n;
      if (*n < options_.retention_chunk_rows) {
        break;
      }
    }
    if (auto r = delete_outcomes(cutoff); !r) {  // user and orphaned outcomes too
      return tl::unexpected(r.error());
    }
  }
  if (max_bytes > 0) {
    for (;;) {
      auto used = used_bytes();
      if (!used) {
        return tl::unexpected(used.error());
      }
      if (*used <= max_bytes) {
        break;
      }
      auto n = delete_chunk(INT64_MAX);
      if (!n) {
        return tl::unexpected(n.error());
      }
      if (*n == 0) {
        break;  // nothing left to delete: what remains is the schema and outcomes
      }
      deleted += *n;
    }
    if (auto r = shrink_file(max_bytes); !r) {
      return tl::unexpected(r.error());
    }
  }
  return deleted;
}

}  // namespace sy::store::sqlite_log
