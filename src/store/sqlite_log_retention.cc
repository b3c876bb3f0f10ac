// enforce_retention() of the SQLite log store: the oldest blocks go first, a chunk of records
// per write transaction so that appends interleave; then free pages go back to the file system.
// A block goes when its newest record is past the age limit.

#include <algorithm>

#include <fmt/core.h>
#include <sqlite3.h>

#include "store/sqlite_log_store_impl.h"

namespace sy::store::sqlite_log {
namespace {

constexpr int64_t kVacuumChunkPages = 512;  // pages given back per write transaction (8 MiB)

// Up to ?2 of the blocks whose newest record is older than ?1, the oldest first.
const std::string kOldestBlocks =
    "SELECT seq, n, t_max FROM blocks INDEXED BY blocks_time WHERE t_max < ?1"
    " ORDER BY t_max, seq LIMIT ?2";
const std::string kDeleteBlock = "DELETE FROM blocks WHERE seq = ?1";
const std::string kDeleteBodies = "DELETE FROM block_bodies WHERE seq = ?1";
const std::string kDeleteNamedIds = "DELETE FROM named_ids WHERE seq = ?1";
// What is left: no record is older than the oldest t_max less the widest block.
const std::string kOldestLeft = "SELECT min(t_max) FROM blocks";
// The users' and models' lists of the days before ?1 (their blocks are gone).
const std::string kDeleteKeys = "DELETE FROM block_keys WHERE kind IN (0, 1) AND day < ?1";
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
  const int64_t span = max_span_.load();
  int64_t n = 0;
  int64_t newest_gone = INT64_MIN;
  int64_t oldest_left = INT64_MAX;
  {
    std::lock_guard lock(write_mu_);
    Txn txn(*writer_);
    if (auto r = txn.begin(true, what); !r) {
      return tl::unexpected(r.error());
    }
    std::vector<std::pair<int64_t, int64_t>> blocks;  // seq, records
    {
      auto s = writer_->stmt(kOldestBlocks, what);
      if (!s) {
        return tl::unexpected(s.error());
      }
      Use u(*s);
      u.bind(1, before_ms);
      // Blocks hold up to kBlockRecords records: about a chunk of records, one block at least.
      u.bind(2, std::max<int64_t>(1, options_.retention_chunk_rows / kBlockRecords));
      int rc;
      while ((rc = u.step()) == SQLITE_ROW) {
        blocks.emplace_back(u.i64(0), u.i64(1));
        newest_gone = std::max(newest_gone, u.i64(2));
      }
      if (rc != SQLITE_DONE) {
        return writer_->error(what, rc);
      }
    }
    for (const auto& [seq, records] : blocks) {
      for (const std::string* sql : {&kDeleteBlock, &kDeleteBodies, &kDeleteNamedIds}) {
        auto s = writer_->stmt(*sql, what);
        if (!s) {
          return tl::unexpected(s.error());
        }
        Use u(*s);
        u.bind(1, seq);
        if (auto r = writer_->run(u, what); !r) {
          return tl::unexpected(r.error());
        }
      }
      n += records;
    }
    if (!blocks.empty()) {
      auto s = writer_->stmt(kOldestLeft, what);
      if (!s) {
        return tl::unexpected(s.error());
      }
      {
        Use u(*s);
        if (int rc = u.step(); rc != SQLITE_ROW) {
          return writer_->error(what, rc);
        }
        oldest_left = u.null(0) ? INT64_MAX : u.i64(0) - span;
      }
      auto keys = writer_->stmt(kDeleteKeys, what);
      if (!keys) {
        return tl::unexpected(keys.error());
      }
      Use u(*keys);
      u.bind(1, oldest_left == INT64_MAX ? INT64_MAX : day_of(oldest_left));
      if (auto r = writer_->run(u, what); !r) {
        return tl::unexpected(r.error());
      }
    }
    if (auto r = txn.commit(what); !r) {
      return tl::unexpected(r.error());
    }
  }
  // Outcomes counting before every record left (and not after the last that went): theirs went.
  if (n > 0) {
    if (auto r = delete_outcomes(std::min(oldest_left, newest_gone + 1)); !r) {
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
      if (*n == 0) {
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
