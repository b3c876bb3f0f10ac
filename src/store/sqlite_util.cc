#include "store/sqlite_util.h"

#include <cmath>

#include <fmt/core.h>

#include "core/clock.h"

namespace sy::store::sqlite {

void Use::bind(int i, double v) { sqlite3_bind_double(s_, i, std::isfinite(v) ? v : 0); }

std::string_view Use::view(int c) const {
  const auto* p = sqlite3_column_text(s_, c);
  if (p == nullptr) {
    return {};
  }
  return {reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s_, c))};
}

std::string_view Use::blob(int c) const {
  const auto* p = sqlite3_column_blob(s_, c);
  if (p == nullptr) {
    return {};
  }
  return {static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s_, c))};
}

Conn::~Conn() {
  stmts_.clear();  // statements first: close_v2 would otherwise defer the close
  sqlite3_close_v2(db_);
}

tl::unexpected<Error> Conn::error(std::string_view what, int rc) const {
  int primary = rc & 0xff;
  bool passing = primary == SQLITE_BUSY || primary == SQLITE_LOCKED ||
                 (label_.full_is_unavailable && primary == SQLITE_FULL);
  return fail(passing ? ErrorCode::kUnavailable : ErrorCode::kInternal,
              fmt::format("{} '{}': {}: {}", label_.store, path_, what, sqlite3_errmsg(db_)));
}

Result<void> Conn::exec(const char* sql, std::string_view what) {
  if (int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); rc != SQLITE_OK) {
    return error(what, rc);
  }
  return {};
}

Result<sqlite3_stmt*> Conn::stmt(const std::string& sql, std::string_view what) {
  if (auto it = stmts_.find(sql); it != stmts_.end()) {
    return it->second.get();
  }
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) {
    return error(what, rc);
  }
  stmts_.emplace(sql, std::unique_ptr<sqlite3_stmt, Finalizer>(s));
  return s;
}

Result<void> Conn::run(Use& u, std::string_view what) {
  int rc;
  while ((rc = u.step()) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) {
    return error(what, rc);
  }
  return {};
}

Result<int64_t> Conn::pragma(const std::string& name, std::string_view what) {
  auto s = stmt("PRAGMA " + name, what);
  if (!s) {
    return tl::unexpected(s.error());
  }
  Use u(*s);
  if (int rc = u.step(); rc != SQLITE_ROW) {
    return error(what, rc);
  }
  return u.i64(0);
}

Result<std::unique_ptr<Conn>> open(const std::string& path, int flags, ConnLabel label,
                                   int busy_timeout_ms) {
  // Before SQLite's first use in the process: no allocation statistics, which would take a
  // global mutex on every malloc and free of every connection (about 5 % of an append).
  static const bool configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  (void)configured;
  sqlite3* db = nullptr;
  if (int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
      rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);  // a handle comes back even on failure; null is a no-op
    return fail(ErrorCode::kInternal,
                fmt::format("{} '{}': cannot open: {}; check that the directory exists and is "
                            "writable",
                            label.store, path, msg));
  }
  sqlite3_busy_timeout(db, busy_timeout_ms);
  return std::make_unique<Conn>(db, path, label);
}

Result<void> enable_wal(Conn& c) {
  constexpr std::string_view what = "enabling WAL journaling";
  auto s = c.stmt("PRAGMA journal_mode=WAL", what);
  if (!s) {
    return tl::unexpected(s.error());
  }
  std::string mode;
  {
    Use u(*s);
    if (int rc = u.step(); rc != SQLITE_ROW) {
      return c.error(what, rc);
    }
    mode = u.str(0);
  }
  // In-memory databases report "memory" and cannot use WAL; a file must.
  if (mode != "wal" && mode != "memory") {
    return fail(ErrorCode::kInternal,
                fmt::format("{} '{}': cannot enable WAL journaling (journal_mode is '{}'); put "
                            "the database on a local file system",
                            c.store(), c.path(), mode));
  }
  return {};
}

Txn::~Txn() {
  if (open_) {
    sqlite3_exec(c_.db(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

Result<void> Txn::begin(bool write, std::string_view what) {
  if (auto r = c_.exec(write ? "BEGIN IMMEDIATE" : "BEGIN", what); !r) {
    return r;
  }
  open_ = true;
  return {};
}

Result<void> Txn::commit(std::string_view what) {
  if (auto r = c_.exec("COMMIT", what); !r) {
    return r;
  }
  open_ = false;
  return {};
}

Result<void> migrate(Conn& c, std::string_view table, std::span<const Migration> migrations) {
  std::string create = fmt::format(
      "CREATE TABLE IF NOT EXISTS {}(version INTEGER PRIMARY KEY, applied_at INTEGER)", table);
  if (auto r = c.exec(create.c_str(), fmt::format("creating {}", table)); !r) {
    return r;
  }
  if (migrations.empty()) {
    return {};
  }
  const int64_t latest = migrations.back().version;
  const std::string current_sql = fmt::format("SELECT COALESCE(MAX(version), 0) FROM {}", table);
  const std::string mark_sql =
      fmt::format("INSERT INTO {}(version, applied_at) VALUES(?1, ?2)", table);
  for (const Migration& m : migrations) {
    std::string what = fmt::format("applying migration {}", m.version);
    Txn txn(c);
    if (auto r = txn.begin(true, what); !r) {
      return r;
    }
    // Read inside the write lock: another process may have migrated since we looked.
    int64_t current = 0;
    {
      auto s = c.stmt(current_sql, what);
      if (!s) {
        return tl::unexpected(s.error());
      }
      Use u(*s);
      if (int rc = u.step(); rc != SQLITE_ROW) {
        return c.error(what, rc);
      }
      current = u.i64(0);
    }
    if (current > latest) {
      return fail(ErrorCode::kInternal,
                  fmt::format("{} '{}': schema version {} is newer than this build supports "
                              "({}); run a newer switchyard or use another database file",
                              c.store(), c.path(), current, latest));
    }
    if (current >= m.version) {
      continue;
    }
    if (auto r = c.exec(m.sql, what); !r) {
      return r;
    }
    auto s = c.stmt(mark_sql, what);
    if (!s) {
      return tl::unexpected(s.error());
    }
    Use u(*s);
    u.bind(1, m.version);
    u.bind(2, unix_now_ms());
    if (auto r = c.run(u, what); !r) {
      return r;
    }
    if (auto r = txn.commit(what); !r) {
      return r;
    }
  }
  return {};
}

}  // namespace sy::store::sqlite
