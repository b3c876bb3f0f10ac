#pragma once
// Internal to src/store: the SQLite plumbing both stores share (the config store and the log
// store). Not a public interface; other modules see store.h and log_store.h only.
//
//   auto conn = sqlite::open(path, SQLITE_OPEN_READWRITE, {"log store"}, /*busy_timeout_ms=*/5000);
//   sqlite::Txn txn(**conn);  if (auto r = txn.begin(/*write=*/true, "appending"); !r) ...
//   auto s = (*conn)->stmt(kSql, "appending");  sqlite::Use u(*s);  u.bind(1, id);  ...
//
// Errors name the store, its file, the operation and SQLite's message, e.g.
// `log store '/var/lib/sy/log.db': appending records: database is locked`.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include <sqlite3.h>

#include "core/result.h"

namespace sy::store::sqlite {

// A cached statement while in use: binds and column reads; reset (bindings cleared) when done.
// Text is bound without a copy, so what it points to must outlive the step.
class Use {
 public:
  explicit Use(sqlite3_stmt* s) : s_(s) {}
  ~Use() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  void bind(int i, std::string_view v) {  // never NULL: an empty view binds ''
    sqlite3_bind_text(s_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void bind(int i, double v);  // NaN and infinities bind 0 (SQLite stores NaN as NULL)
  void bind_null(int i) { sqlite3_bind_null(s_, i); }
  void bind_or_null(int i, std::string_view v) { v.empty() ? bind_null(i) : bind(i, v); }
  void bind_blob(int i, std::string_view v) {  // an empty view binds a zero-length blob
    sqlite3_bind_blob(s_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(s_); }

  int64_t i64(int c) const { return sqlite3_column_int64(s_, c); }
  double dbl(int c) const { return sqlite3_column_double(s_, c); }
  bool null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  std::string_view view(int c) const;  // valid until the next step or the end of the Use
  std::string_view blob(int c) const;  // the same for a BLOB column
  std::string str(int c) const { return std::string(view(c)); }

 private:
  sqlite3_stmt* s_;
};

// What a connection's errors say and how they are classed.
struct ConnLabel {
  std::string_view store;  // "config store", "log store": the start of every message
  // SQLITE_FULL is kUnavailable (a degraded mode that passes) rather than kInternal.
  bool full_is_unavailable = false;
};

// One connection and its prepared statements, kept across calls (preparing costs more than
// running the small statements of the stores). Statement texts must come from a small fixed
// set (constants of the caller), so the cache stays small and a statement in use is never
// finalized. Not thread-safe: the owner serialises its use.
class Conn {
 public:
  Conn(sqlite3* db, std::string path, ConnLabel label)
      : db_(db), path_(std::move(path)), label_(label) {}
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  sqlite3* db() const { return db_; }
  const std::string& path() const { return path_; }
  std::string_view store() const { return label_.store; }

  // An error naming the store, the file, the operation and SQLite's message; busy or locked
  // (and a full disk, if the label says so) is kUnavailable, anything else kInternal.
  tl::unexpected<Error> error(std::string_view what, int rc) const;
  Result<void> exec(const char* sql, std::string_view what);
  // The cached statement for `sql`, prepared on first use.
  Result<sqlite3_stmt*> stmt(const std::string& sql, std::string_view what);
  // Steps a statement to its end, ignoring rows (PRAGMAs that return some).
  Result<void> run(Use& u, std::string_view what);
  // The integer value of `PRAGMA <name>`.
  Result<int64_t> pragma(const std::string& name, std::string_view what);

 private:
  struct Finalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  sqlite3* db_;
  std::string path_;
  ConnLabel label_;
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, Finalizer>> stmts_;
};

// Opens `path` with `flags` (SQLITE_OPEN_NOMUTEX is added: a Conn is used by one thread at a
// time) and sets the busy timeout; the error says to check the directory.
Result<std::unique_ptr<Conn>> open(const std::string& path, int flags, ConnLabel label,
                                   int busy_timeout_ms);

// Switches the connection to WAL journaling; fails (naming the journal mode) when the file
// system cannot do it. In-memory databases stay in "memory" mode, which is accepted.
Result<void> enable_wal(Conn& c);

// A transaction on `c`, rolled back unless committed.
class Txn {
 public:
  explicit Txn(Conn& c) : c_(c) {}
  ~Txn();
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  // Writes take the lock first (BEGIN IMMEDIATE): no read-then-upgrade deadlock between
  // connections sharing the file.
  Result<void> begin(bool write, std::string_view what);
  Result<void> commit(std::string_view what);

 private:
  Conn& c_;
  bool open_ = false;
};

struct Migration {
  int64_t version;
  const char* sql;
};

// Applies the migrations not yet recorded in `table` (created if needed), each in its own
// write transaction, in order. A database whose recorded version is newer than the last of
// `migrations` is refused. Migrations are append only: a released one is never edited.
Result<void> migrate(Conn& c, std::string_view table, std::span<const Migration> migrations);

}  // namespace sy::store::sqlite
