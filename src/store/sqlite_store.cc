// ConfigStore on one SQLite connection, serialised by a mutex. Writes use BEGIN IMMEDIATE so
// the write lock is taken before the first read of the transaction (no read-then-upgrade
// deadlock between processes sharing the file), and WAL keeps a killed writer's half-written
// transaction out of the database.

#include <cstdint>
#include <mutex>

#include <fmt/core.h>
#include <sqlite3.h>

#include "core/clock.h"
#include "store/sqlite_util.h"
#include "store/store.h"

namespace sy::store {
namespace {

using sqlite::Conn;
using sqlite::Txn;
using sqlite::Use;

// Append only: a released migration is never edited, so every database reaches the same schema.
constexpr sqlite::Migration kMigrations[] = {
    {1,
     "CREATE TABLE routers(name TEXT PRIMARY KEY, spec TEXT NOT NULL, version INTEGER NOT NULL,"
     " create_time_ms INTEGER NOT NULL, update_time_ms INTEGER NOT NULL,"
     " seed_digest TEXT NOT NULL DEFAULT '');"
     "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);"},
};
constexpr int kBusyTimeoutMs = 5000;
constexpr sqlite::ConnLabel kLabel{"config store"};
constexpr const char* kRouterColumns =
    "name, spec, version, create_time_ms, update_time_ms, seed_digest";

RouterRecord read_router(const Use& u) {  // columns in kRouterColumns order
  return {u.str(0), u.str(1), u.i64(2), u.i64(3), u.i64(4), u.str(5)};
}

class SqliteStore final : public ConfigStore {
 public:
  explicit SqliteStore(std::unique_ptr<Conn> conn) : conn_(std::move(conn)) {}

  Result<void> configure();

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
  Result<std::optional<RouterRecord>> get_locked(std::string_view name,
                                                 std::string_view what) const;
  // Inserts or overwrites the row `rec.name` (create_time_ms is kept on overwrite).
  Result<void> put_locked(const RouterRecord& rec, std::string_view what);
  // Locks, begins a write transaction, reads `name`, runs body(existing) and commits when the
  // body succeeds.
  template <class T, class Body>
  Result<T> write_router(std::string_view name, const std::string& what, Body body);

  std::unique_ptr<Conn> conn_;  // guarded by mu_ (the statement cache changes on reads too)
  mutable std::mutex mu_;
};

Result<void> SqliteStore::configure() {
  if (auto r = sqlite::enable_wal(*conn_); !r) {
    return r;
  }
  if (auto r = conn_->exec("PRAGMA synchronous=NORMAL", "setting synchronous=NORMAL"); !r) {
    return r;
  }
  if (auto r = conn_->exec("PRAGMA foreign_keys=ON", "enabling foreign keys"); !r) {
    return r;
  }
  return sqlite::migrate(*conn_, "schema_migrations", kMigrations);
}

Result<std::optional<RouterRecord>> SqliteStore::get_locked(std::string_view name,
                                                            std::string_view what) const {
  auto st =
      conn_->stmt(fmt::format("SELECT {} FROM routers WHERE name = ?1", kRouterColumns), what);
  if (!st) {
    return tl::unexpected(st.error());
  }
  Use u(*st);
  u.bind(1, name);
  int rc = u.step();
  if (rc == SQLITE_DONE) {
    return std::optional<RouterRecord>();
  }
  if (rc != SQLITE_ROW) {
    return conn_->error(what, rc);
  }
  return std::optional<RouterRecord>(read_router(u));
}

Result<Page> SqliteStore::list(size_t limit, std::string_view after_name) const {
  if (limit == 0) {
    return fail(ErrorCode::kInvalidRequest, "page size must be at least 1", "limit");
  }
  std::lock_guard lock(mu_);
  constexpr std::string_view what = "listing routers";
  auto st = conn_->stmt(
      fmt::format("SELECT {} FROM routers WHERE name > ?1 ORDER BY name LIMIT ?2", kRouterColumns),
      what);
  if (!st) {
    return tl::unexpected(st.error());
  }
  Use u(*st);
  // One row past the page tells whether another page follows.
  int64_t fetch =
      limit >= static_cast<size_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(limit) + 1;
  u.bind(1, after_name);
  u.bind(2, fetch);
  Page page;
  int rc;
  while ((rc = u.step()) == SQLITE_ROW) {
    if (page.records.size() == limit) {
      page.next_after = page.records.back().name;
      break;
    }
    page.records.push_back(read_router(u));
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    return conn_->error(what, rc);
  }
  return page;
}

Result<std::vector<RouterRecord>> SqliteStore::all() const {
  std::lock_guard lock(mu_);
  constexpr std::string_view what = "listing routers";
  auto st = conn_->stmt(fmt::format("SELECT {} FROM routers ORDER BY name", kRouterColumns), what);
  if (!st) {
    return tl::unexpected(st.error());
  }
  Use u(*st);
  std::vector<RouterRecord> out;
  int rc;
  while ((rc = u.step()) == SQLITE_ROW) {
    out.push_back(read_router(u));
  }
  if (rc != SQLITE_DONE) {
    return conn_->error(what, rc);
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
  Txn txn(*conn_);
  if (auto r = txn.begin(true, what); !r) {
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
  auto st = conn_->stmt(
      "INSERT INTO routers(name, spec, version, create_time_ms, update_time_ms, seed_digest)"
      " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(name) DO UPDATE SET spec = excluded.spec,"
      " version = excluded.version, update_time_ms = excluded.update_time_ms,"
      " seed_digest = excluded.seed_digest",
      what);
  if (!st) {
    return tl::unexpected(st.error());
  }
  Use u(*st);
  u.bind(1, rec.name);
  u.bind(2, rec.spec);
  u.bind(3, rec.version);
  u.bind(4, rec.create_time_ms);
  u.bind(5, rec.update_time_ms);
  u.bind(6, rec.seed_digest);
  return conn_->run(u, what);
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
        int64_t now = unix_now_ms();
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
        rec->update_time_ms = unix_now_ms();
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
    auto st = conn_->stmt("DELETE FROM routers WHERE name = ?1", what);
    if (!st) {
      return tl::unexpected(st.error());
    }
    Use u(*st);
    u.bind(1, name);
    if (auto r = conn_->run(u, what); !r) {
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
        int64_t now = unix_now_ms();
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
  auto st = conn_->stmt("SELECT value FROM settings WHERE key = ?1", what);
  if (!st) {
    return tl::unexpected(st.error());
  }
  Use u(*st);
  u.bind(1, key);
  int rc = u.step();
  if (rc == SQLITE_DONE) {
    return std::optional<std::string>();
  }
  if (rc != SQLITE_ROW) {
    return conn_->error(what, rc);
  }
  return std::optional<std::string>(u.str(0));
}

Result<bool> SqliteStore::put_setting(std::string_view key, std::string_view value) {
  std::lock_guard lock(mu_);
  std::string what = fmt::format("writing setting '{}'", key);
  Txn txn(*conn_);
  if (auto r = txn.begin(true, what); !r) {
    return tl::unexpected(r.error());
  }
  // Writes only when the value differs, so changes() says whether anything changed.
  auto st = conn_->stmt(
      "INSERT INTO settings(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET"
      " value = excluded.value WHERE value IS NOT excluded.value",
      what);
  if (!st) {
    return tl::unexpected(st.error());
  }
  Use u(*st);
  u.bind(1, key);
  u.bind(2, value);
  if (auto r = conn_->run(u, what); !r) {
    return tl::unexpected(r.error());
  }
  bool changed = sqlite3_changes(conn_->db()) > 0;
  if (auto r = txn.commit(what); !r) {
    return tl::unexpected(r.error());
  }
  return changed;
}

}  // namespace

Result<std::unique_ptr<ConfigStore>> open_sqlite(const std::string& path) {
  auto conn = sqlite::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, kLabel,
                           kBusyTimeoutMs);
  if (!conn) {
    return tl::unexpected(conn.error());
  }
  auto store = std::make_unique<SqliteStore>(std::move(*conn));
  if (auto r = store->configure(); !r) {
    return tl::unexpected(r.error());
  }
  return std::unique_ptr<ConfigStore>(std::move(store));
}

}  // namespace sy::store
