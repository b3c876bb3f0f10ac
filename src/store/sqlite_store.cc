// ConfigStore on one SQLite connection, serialised by a mutex. Writes use BEGIN IMMEDIATE so
// the write lock is taken before the first read of the transaction (no read-then-upgrade
// deadlock between processes sharing the file), and WAL keeps a killed writer's half-written
// transaction out of the database.

#include <chrono>
#include <cstdint>
#include <iterator>
#include <mutex>

#include <fmt/core.h>
#include <sqlite3.h>

#include "store/store.h"

namespace sy::store {
namespace {

struct Migration {
  int64_t version;
  const char* sql;
};

// Append only: a released migration is never edited, so every database reaches the same schema.
constexpr Migration kMigrations[] = {
    {1,
     "CREATE TABLE routers(name TEXT PRIMARY KEY, spec TEXT NOT NULL, version INTEGER NOT NULL,"
     " create_time_ms INTEGER NOT NULL, update_time_ms INTEGER NOT NULL,"
     " seed_digest TEXT NOT NULL DEFAULT '');"
     "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);"},
};
constexpr int64_t kLatestVersion = kMigrations[std::size(kMigrations) - 1].version;
constexpr int kBusyTimeoutMs = 5000;
constexpr const char* kRouterColumns =
    "name, spec, version, create_time_ms, update_time_ms, seed_digest";

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

// A prepared statement with positional binds; finalized on destruction.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  void bind(int i, std::string_view v) {
    sqlite3_bind_text(s_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind(int i, int64_t v) { sqlite3_bind_int64(s_.get(), i, v); }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(s_.get()); }
  int64_t int64(int col) const { return sqlite3_column_int64(s_.get(), col); }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(s_.get(), col);
    if (p == nullptr) {
      return {};
    }
    return {reinterpret_cast<const char*>(p),
            static_cast<size_t>(sqlite3_column_bytes(s_.get(), col))};
  }
  RouterRecord record() const {  // columns in kRouterColumns order
    return {text(0), text(1), int64(2), int64(3), int64(4), text(5)};
  }

 private:
  std::unique_ptr<sqlite3_stmt, StmtDeleter> s_;
};

class SqliteStore final : public ConfigStore {
 public:
  SqliteStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteStore() override { sqlite3_close_v2(db_); }
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Result<void> configure();
  Result<void> migrate();

  Result<Page> list(size_t limit, std::string_view after_name) const override;
  Result<std::vector<RouterRecord>> all() const override;
  Result<std::optional<RouterRecord>> get(std::string_view name) const override;
  Result<RouterRecord> create(std::string_view name, std::string_view spec) override;
  Result<RouterRecord> update(std::string_view name, std::string_view spec,
                              int64_t expected_version) override;
  Result<bool> remove(std::string_view name, int64_t expected_version) override;
  Result<std::pair<RouterRecord, bool>> seed(std::string_view name, std::string_view spec,
                                             std::string_view digest) override;
  Result<std::optional<std::string>> setting(std::string_view key) const override;
  Result<bool> put_setting(std::string_view key, std::string_view value) override;

 private:
  // Rolls back unless committed; holds the write lock from BEGIN IMMEDIATE on.
  class Txn {
   public:
    explicit Txn(const SqliteStore& s) : s_(s) {}
    ~Txn() {
      if (open_) {
        sqlite3_exec(s_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
      }
    }
    Txn(const Txn&) = delete;
    Txn& operator=(const Txn&) = delete;
    Result<void> begin(std::string_view what) {
      if (auto r = s_.exec("BEGIN IMMEDIATE", what); !r) {
        return r;
      }
      open_ = true;
      return {};
    }
    Result<void> commit(std::string_view what) {
      if (auto r = s_.exec("COMMIT", what); !r) {
        return r;
      }
      open_ = false;
      return {};
    }

   private:
    const SqliteStore& s_;
    bool open_ = false;
  };

  // An error naming the file, the operation and SQLite's message; busy/locked → kUnavailable.
  tl::unexpected<Error> sql_error(std::string_view what, int rc) const {
    int primary = rc & 0xff;
    ErrorCode code = (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) ? ErrorCode::kUnavailable
                                                                          : ErrorCode::kInternal;
    return fail(code, fmt::format("config store '{}': {}: {}", path_, what, sqlite3_errmsg(db_)));
  }
  Result<void> exec(const char* sql, std::string_view what) const {
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
      return sql_error(what, rc);
    }
    return {};
  }
  Result<Stmt> prepare(std::string_view sql, std::string_view what) const {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
    if (rc != SQLITE_OK) {
      return sql_error(what, rc);
    }
    return Stmt(s);
  }
  // Steps a statement that returns no rows.
  Result<void> run(Stmt& st, std::string_view what) const {
    if (int rc = st.step(); rc != SQLITE_DONE) {
      return sql_error(what, rc);
    }
    return {};
  }
  Result<std::optional<RouterRecord>> get_locked(std::string_view name,
                                                 std::string_view what) const;
  Result<int64_t> schema_version(std::string_view what) const;
  // Inserts or overwrites the row `rec.name` (create_time_ms is kept on overwrite).
  Result<void> put_locked(const RouterRecord& rec, std::string_view what);
  // Locks, begins a write transaction, reads `name`, runs body(existing) and commits when the
  // body succeeds.
  template <class T, class Body>
  Result<T> write_router(std::string_view name, const std::string& what, Body body);

  sqlite3* db_;
  std::string path_;
  mutable std::mutex mu_;
};

Result<void> SqliteStore::configure() {
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  auto st = prepare("PRAGMA journal_mode=WAL", "enabling WAL journaling");
  if (!st) {
    return tl::unexpected(st.error());
  }
  if (int rc = st->step(); rc != SQLITE_ROW) {
    return sql_error("enabling WAL journaling", rc);
  }
  // In-memory databases report "memory" and cannot use WAL; a file must.
  if (std::string mode = st->text(0); mode != "wal" && mode != "memory") {
    return fail(ErrorCode::kInternal,
                fmt::format("config store '{}': cannot enable WAL journaling (journal_mode is "
                            "'{}'); put the database on a local file system",
                            path_, mode));
  }
  if (auto r = exec("PRAGMA synchronous=NORMAL", "setting synchronous=NORMAL"); !r) {
    return r;
  }
  return exec("PRAGMA foreign_keys=ON", "enabling foreign keys");
}

Result<int64_t> SqliteStore::schema_version(std::string_view what) const {
  auto st = prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", what);
  if (!st) {
    return tl::unexpected(st.error());
  }
  if (int rc = st->step(); rc != SQLITE_ROW) {
    return sql_error(what, rc);
  }
  return st->int64(0);
}

Result<void> SqliteStore::migrate() {
  if (auto r = exec("CREATE TABLE IF NOT EXISTS schema_migrations("
                    "version INTEGER PRIMARY KEY, applied_at INTEGER)",
                    "creating schema_migrations");
      !r) {
    return r;
  }
  for (const Migration& m : kMigrations) {
    std::string what = fmt::format("applying migration {}", m.version);
    Txn txn(*this);
    if (auto r = txn.begin(what); !r) {
      return r;
    }
    // Read inside the write lock: another process may have migrated since we looked.
    auto current = schema_version(what);
    if (!current) {
      return tl::unexpected(current.error());
    }
    if (*current > kLatestVersion) {
      return fail(ErrorCode::kInternal,
                  fmt::format("config store '{}': schema version {} is newer than this build "
                              "supports ({}); run a newer switchyard or use another database file",
                              path_, *current, kLatestVersion));
    }
    if (*current >= m.version) {
      continue;
    }
    if (auto r = exec(m.sql, what); !r) {
      return r;
    }
    auto ins = prepare("INSERT INTO schema_migrations(version, applied_at) VALUES(?1, ?2)", what);
    if (!ins) {
      return tl::unexpected(ins.error());
    }
    ins->bind(1, m.version);
    ins->bind(2, now_ms());
    if (auto r = run(*ins, what); !r) {
      return r;
    }
    if (auto r = txn.commit(what); !r) {
      return r;
    }
  }
  return {};
}

Result<std::optional<RouterRecord>> SqliteStore::get_locked(std::string_view name,
                                                            std::string_view what) const {
  auto st = prepare(fmt::format("SELECT {} FROM routers WHERE name = ?1", kRouterColumns), what);
  if (!st) {
    return tl::unexpected(st.error());
  }
  st->bind(1, name);
  int rc = st->step();
  if (rc == SQLITE_DONE) {
    return std::optional<RouterRecord>();
  }
  if (rc != SQLITE_ROW) {
    return sql_error(what, rc);
  }
  return std::optional<RouterRecord>(st->record());
}

Result<Page> SqliteStore::list(size_t limit, std::string_view after_name) const {
  if (limit == 0) {
    return fail(ErrorCode::kInvalidRequest, "page size must be at least 1", "limit");
  }
  std::lock_guard lock(mu_);
  constexpr std::string_view what = "listing routers";
  auto st = prepare(
      fmt::format("SELECT {} FROM routers WHERE name > ?1 ORDER BY name LIMIT ?2", kRouterColumns),
      what);
  if (!st) {
    return tl::unexpected(st.error());
  }
  // One row past the page tells whether another page follows.
  int64_t fetch =
      limit >= static_cast<size_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(limit) + 1;
  st->bind(1, after_name);
  st->bind(2, fetch);
  Page page;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) {
    if (page.records.size() == limit) {
      page.next_after = page.records.back().name;
      break;
    }
    page.records.push_back(st->record());
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    return sql_error(what, rc);
  }
  return page;
}

Result<std::vector<RouterRecord>> SqliteStore::all() const {
  std::lock_guard lock(mu_);
  constexpr std::string_view what = "listing routers";
  auto st = prepare(fmt::format("SELECT {} FROM routers ORDER BY name", kRouterColumns), what);
  if (!st) {
    return tl::unexpected(st.error());
  }
  std::vector<RouterRecord> out;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) {
    out.push_back(st->record());
  }
  if (rc != SQLITE_DONE) {
    return sql_error(what, rc);
  }
  return out;
}

Result<std::optional<RouterRecord>> SqliteStore::get(std::string_view name) const {
  std::lock_guard lock(mu_);
  return get_locked(name, fmt::format("reading router '{}'", name));
}

template <class T, class Body>
Result<T> SqliteStore::write_router(std::string_view name, const std::string& what, Body body) {
  std::lock_guard lock(mu_);
  Txn txn(*this);
  if (auto r = txn.begin(what); !r) {
    return tl::unexpected(r.error());
  }
  auto existing = get_locked(name, what);
  if (!existing) {
    return tl::unexpected(existing.error());
  }
  Result<T> out = body(std::move(*existing));
  if (!out) {
    return out;  // ~Txn rolls back
  }
  if (auto r = txn.commit(what); !r) {
    return tl::unexpected(r.error());
  }
  return out;
}

Result<void> SqliteStore::put_locked(const RouterRecord& rec, std::string_view what) {
  auto st = prepare(
      "INSERT INTO routers(name, spec, version, create_time_ms, update_time_ms, seed_digest)"
      " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(name) DO UPDATE SET spec = excluded.spec,"
      " version = excluded.version, update_time_ms = excluded.update_time_ms,"
      " seed_digest = excluded.seed_digest",
      what);
  if (!st) {
    return tl::unexpected(st.error());
  }
  st->bind(1, rec.name);
  st->bind(2, rec.spec);
  st->bind(3, rec.version);
  st->bind(4, rec.create_time_ms);
  st->bind(5, rec.update_time_ms);
  st->bind(6, rec.seed_digest);
  return run(*st, what);
}

tl::unexpected<Error> stale(std::string_view name, int64_t have, int64_t expected) {
  return fail(ErrorCode::kPreconditionFailed,
              fmt::format("router '{}' is at version {}, not {}; read it again and retry", name,
                          have, expected));
}

Result<RouterRecord> SqliteStore::create(std::string_view name, std::string_view spec) {
  return write_router<RouterRecord>(
      name, fmt::format("creating router '{}'", name),
      [&](std::optional<RouterRecord> existing) -> Result<RouterRecord> {
        if (existing) {
          return fail(ErrorCode::kConflict,
                      fmt::format("router '{}' already exists (version {}); update it instead",
                                  name, existing->version));
        }
        int64_t now = now_ms();
        RouterRecord rec{std::string(name), std::string(spec), 1, now, now, {}};
        if (auto r = put_locked(rec, "creating router"); !r) {
          return tl::unexpected(r.error());
        }
        return rec;
      });
}

Result<RouterRecord> SqliteStore::update(std::string_view name, std::string_view spec,
                                         int64_t expected_version) {
  return write_router<RouterRecord>(
      name, fmt::format("updating router '{}'", name),
      [&](std::optional<RouterRecord> rec) -> Result<RouterRecord> {
        if (!rec) {
          return fail(ErrorCode::kNotFound, fmt::format("router '{}' does not exist", name));
        }
        if (expected_version != 0 && expected_version != rec->version) {
          return stale(name, rec->version, expected_version);
        }
        rec->spec = spec;
        rec->version += 1;
        rec->update_time_ms = now_ms();
        if (auto r = put_locked(*rec, "updating router"); !r) {
          return tl::unexpected(r.error());
        }
        return std::move(*rec);
      });
}

Result<bool> SqliteStore::remove(std::string_view name, int64_t expected_version) {
  std::string what = fmt::format("removing router '{}'", name);
  return write_router<bool>(name, what, [&](std::optional<RouterRecord> rec) -> Result<bool> {
    if (!rec) {
      return false;
    }
    if (expected_version != 0 && expected_version != rec->version) {
      return stale(name, rec->version, expected_version);
    }
    auto st = prepare("DELETE FROM routers WHERE name = ?1", what);
    if (!st) {
      return tl::unexpected(st.error());
    }
    st->bind(1, name);
    if (auto r = run(*st, what); !r) {
      return tl::unexpected(r.error());
    }
    return true;
  });
}

Result<std::pair<RouterRecord, bool>> SqliteStore::seed(std::string_view name,
                                                        std::string_view spec,
                                                        std::string_view digest) {
  using Seeded = std::pair<RouterRecord, bool>;
  return write_router<Seeded>(
      name, fmt::format("seeding router '{}' from the config file", name),
      [&](std::optional<RouterRecord> rec) -> Result<Seeded> {
        int64_t now = now_ms();
        if (!rec) {
          rec = RouterRecord{std::string(name), std::string(spec), 0, now, now, {}};
        } else if (rec->seed_digest == digest) {
          return Seeded(std::move(*rec), false);  // unchanged file: keep API edits
        }
        rec->spec = spec;
        rec->version += 1;
        rec->update_time_ms = now;
        rec->seed_digest = digest;
        if (auto r = put_locked(*rec, "seeding router"); !r) {
          return tl::unexpected(r.error());
        }
        return Seeded(std::move(*rec), true);
      });
}

Result<std::optional<std::string>> SqliteStore::setting(std::string_view key) const {
  std::lock_guard lock(mu_);
  std::string what = fmt::format("reading setting '{}'", key);
  auto st = prepare("SELECT value FROM settings WHERE key = ?1", what);
  if (!st) {
    return tl::unexpected(st.error());
  }
  st->bind(1, key);
  int rc = st->step();
  if (rc == SQLITE_DONE) {
    return std::optional<std::string>();
  }
  if (rc != SQLITE_ROW) {
    return sql_error(what, rc);
  }
  return std::optional<std::string>(st->text(0));
}

Result<bool> SqliteStore::put_setting(std::string_view key, std::string_view value) {
  std::lock_guard lock(mu_);
  std::string what = fmt::format("writing setting '{}'", key);
  Txn txn(*this);
  if (auto r = txn.begin(what); !r) {
    return tl::unexpected(r.error());
  }
  // Writes only when the value differs, so changes() says whether anything changed.
  auto st = prepare(
      "INSERT INTO settings(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET"
      " value = excluded.value WHERE value IS NOT excluded.value",
      what);
  if (!st) {
    return tl::unexpected(st.error());
  }
  st->bind(1, key);
  st->bind(2, value);
  if (auto r = run(*st, what); !r) {
    return tl::unexpected(r.error());
  }
  bool changed = sqlite3_changes(db_) > 0;
  if (auto r = txn.commit(what); !r) {
    return tl::unexpected(r.error());
  }
  return changed;
}

}  // namespace

Result<std::unique_ptr<ConfigStore>> open_sqlite(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);  // a handle is returned even on failure; null is a no-op
    return fail(ErrorCode::kInternal,
                fmt::format("config store '{}': cannot open: {}; check that the directory "
                            "exists and is writable",
                            path, msg));
  }
  auto store = std::make_unique<SqliteStore>(db, path);
  if (auto r = store->configure(); !r) {
    return tl::unexpected(r.error());
  }
  if (auto r = store->migrate(); !r) {
    return tl::unexpected(r.error());
  }
  return std::unique_ptr<ConfigStore>(std::move(store));
}

}  // namespace sy::store
