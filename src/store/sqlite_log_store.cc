// LogStore on SQLite. One write connection behind a mutex (the telemetry writer's batches,
// outcomes, retention) and a pool of read connections: in WAL mode readers see the last
// commit and never wait for the writer.
//
// Schema, and why:
// - requests: one row per record, `seq` (the rowid) is the insertion order and the cursor's
//   tie-breaker; ids are unique. Bodies live in `bodies`, a row only when one is non-empty, so
//   the rows the page queries read stay small.
// - Page queries read one index range newest first, chosen by the most selective filter:
//   requests_user, else requests_router, else requests_model, else requests_time. Each index
//   ends in (time_ms, seq), so ORDER BY time_ms DESC, seq DESC needs no sort.
// - requests_user is keyed (day, user, time_ms): appends then touch the few pages of today's
//   part of the index instead of a random page per record (the largest cost of an append with
//   (user, time_ms): a WAL frame and a checkpoint write each). A user's page reads the days
//   newest first, one index seek per day of the log.
// - requests_router also covers variant_stats: a router's window is one contiguous index range
//   holding every column the figures need (route, variant, failed, ttft, latency, cost, user),
//   so no table row is read. Percentiles and distinct users are computed exactly from it. Like
//   requests_user and requests_model it leaves out '' (requests that named a model).
// - Appends insert plain records 32 to a statement (kRowsPerInsert): the table's and the
//   indexes' cursors are opened once for all of them.
// - outcomes carry where they count (at_router, at_ms, route, variant): a request outcome gets
//   its request's when the request is stored (whichever of the two arrives first), a user
//   outcome its own router and time. outcomes_at covers the stats read of a window.

#include <bit>
#include <cmath>

#include <fmt/core.h>
#include <sqlite3.h>

#include "core/assert.h"
#include "store/sqlite_log_store_impl.h"

namespace sy::store::sqlite_log {
namespace {

using telemetry::OutcomeEvent;
using telemetry::RequestRecord;

// Append only: a released migration is never edited. Its own table name, so that a log and
// the config store sharing a file by mistake cannot take each other's migrations as applied.
constexpr sqlite::Migration kMigrations[] = {
    {1,
     "CREATE TABLE requests(seq INTEGER PRIMARY KEY, id TEXT NOT NULL, time_ms INTEGER NOT NULL,"
     " key_id TEXT NOT NULL, user TEXT NOT NULL, endpoint TEXT NOT NULL, dialect TEXT NOT NULL,"
     " router TEXT NOT NULL, router_version INTEGER NOT NULL, route TEXT NOT NULL,"
     " variant TEXT NOT NULL, reason TEXT NOT NULL, requested_model TEXT NOT NULL,"
     " model TEXT NOT NULL, provider TEXT NOT NULL,"
     " attempts TEXT NOT NULL,"  // a JSON array of attempts; members at their default left out
     " stream INTEGER NOT NULL, status INTEGER NOT NULL, error_class TEXT NOT NULL,"
     " failed INTEGER NOT NULL,"  // error_class != '' OR status >= 400
     " ttft_ms INTEGER NOT NULL, latency_ms INTEGER NOT NULL, tokens_in INTEGER NOT NULL,"
     " tokens_out INTEGER NOT NULL, tokens_cached INTEGER NOT NULL,"
     " tokens_reasoning INTEGER NOT NULL, cost_usd REAL NOT NULL, metadata TEXT NOT NULL);"
     "CREATE UNIQUE INDEX requests_id ON requests(id);"
     "CREATE INDEX requests_time ON requests(time_ms);"
     "CREATE INDEX requests_router ON requests(router, time_ms, seq, route, variant, status,"
     " failed, ttft_ms, latency_ms, cost_usd, user);"
     // By UTC day first (kUserIndexDayMs): a day of entries is a small, hot part of the
     // index, where (user, time_ms) alone would take a random page per record.
     "CREATE INDEX requests_user ON requests(time_ms / 86400000, user, time_ms) WHERE user != '';"
     "CREATE INDEX requests_model ON requests(model, time_ms) WHERE model != '';"
     "CREATE TABLE bodies(seq INTEGER PRIMARY KEY, request_body TEXT, response_body TEXT);"
     "CREATE TRIGGER requests_bodies AFTER DELETE ON requests BEGIN"
     " DELETE FROM bodies WHERE seq = old.seq; END;"
     "CREATE TABLE outcomes(event_id TEXT NOT NULL, time_ms INTEGER NOT NULL,"
     " request_id TEXT NOT NULL, user TEXT NOT NULL, router TEXT NOT NULL, name TEXT NOT NULL,"
     " value REAL NOT NULL,"
     // Where it counts. Request outcomes: the request's router, time_ms, route and variant,
     // NULL router until the request is stored (at_ms is then the event's time). User outcomes:
     // the event's router and time, route and variant NULL.
     " at_router TEXT, at_ms INTEGER NOT NULL, route TEXT, variant TEXT);"
     "CREATE UNIQUE INDEX outcomes_event ON outcomes(event_id);"
     "CREATE INDEX outcomes_pending ON outcomes(request_id) WHERE at_router IS NULL;"
     "CREATE INDEX outcomes_at ON outcomes(at_router, at_ms, route, variant, user, name, value);"
     "CREATE INDEX outcomes_age ON outcomes(at_ms);"},
    {2,
     // The answer's speech (records of requests with `audio`; the defaults otherwise).
     "ALTER TABLE requests ADD COLUMN tts_engine TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE requests ADD COLUMN tts_chars INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE requests ADD COLUMN audio_seconds REAL NOT NULL DEFAULT 0;"
     "ALTER TABLE requests ADD COLUMN tts_first_audio_ms INTEGER NOT NULL DEFAULT -1;"
     "ALTER TABLE requests ADD COLUMN tts_cost_usd REAL NOT NULL DEFAULT 0;"
     "ALTER TABLE requests ADD COLUMN tts_error TEXT NOT NULL DEFAULT '';"},
    {3,
     // Requests that named a model (no router) leave requests_router: no page or stats query
     // reads them there, and its eleven columns were a sixth of an append's cost.
     "DROP INDEX requests_router;"
     "CREATE INDEX requests_router ON requests(router, time_ms, seq, route, variant, status, failed,"
     " ttft_ms, latency_ms, cost_usd, user) WHERE router != '';"},
};
constexpr sqlite::ConnLabel kLabel{"log store", /*full_is_unavailable=*/true};
// 8 KiB pages: a cold range scan (a router's day for variant_stats) reads half as many pages
// as with SQLite's 4 KiB at about the same cost per read (measured: 0.15 ms per random 4 KiB
// read, 0.16 ms per 16 KiB); appends write about as many pages, each larger (16 KiB pages cost
// a fifth of the append rate with the old random-page user index).
constexpr int64_t kPageSize = 8192;
constexpr int64_t kWalLimitBytes = 64LL << 20;
// Pages in the WAL before a checkpoint copies them into the database: 64 MiB, where SQLite's
// default is 1000 pages. A wider window copies a page changed by several batches once.
constexpr int64_t kCheckpointPages = kWalLimitBytes / kPageSize;

bool failed(const RequestRecord& r) { return !r.error_class.empty() || r.status >= 400; }

// A record's row: kRecordColumns values, bound in this order by bind_record().
constexpr std::string_view kRecordColumnList =
    "id, time_ms, key_id, user, endpoint, dialect, router, router_version, route, variant, reason,"
    " requested_model, model, provider, attempts, stream, status, error_class, ttft_ms, latency_ms,"
    " tokens_in, tokens_out, tokens_cached, tokens_reasoning, cost_usd, metadata, failed";
constexpr int kRecordColumns = 27;
// A spoken answer's record has the speech columns too (others leave them at their defaults).
constexpr std::string_view kSpeechColumnList =
    ", tts_engine, tts_chars, audio_seconds, tts_first_audio_ms, tts_cost_usd, tts_error";
constexpr int kSpeechColumns = 6;

std::string insert_sql(size_t rows, bool spoken) {
  const int columns = kRecordColumns + (spoken ? kSpeechColumns : 0);
  std::string row = "(?";
  for (int i = 1; i < columns; ++i) {
    row += ", ?";
  }
  row += ')';
  // OR IGNORE, not ON CONFLICT(id) DO NOTHING: the same for a stored id (no value is ever NULL,
  // the only other constraint it would skip a row for), and a statement that cannot abort
  // halfway needs no statement journal, which cost a multi-row INSERT more than its rows.
  std::string sql = fmt::format("INSERT OR IGNORE INTO requests({}{}) VALUES{}", kRecordColumnList,
                                spoken ? kSpeechColumnList : "", row);
  for (size_t i = 1; i < rows; ++i) {
    sql += ", ";
    sql += row;
  }
  return sql;
}

// kInsertRecords[k] inserts 2^k rows: a batch goes in statements of 32 rows, then of the powers
// of two that make up the rest (29 = 16 + 8 + 4 + 1).
const std::array<std::string, std::bit_width(kRowsPerInsert)> kInsertRecords = [] {
  std::array<std::string, std::bit_width(kRowsPerInsert)> sql;
  for (size_t k = 0; k < sql.size(); ++k) {
    sql[k] = insert_sql(size_t{1} << k, false);
  }
  return sql;
}();
const std::string kInsertSpokenRecord = insert_sql(1, true);

// Binds r's row from parameter i + 1 on (attempts: encode_attempts' text of r.attempts); returns
// the last parameter bound.
int bind_record(Use& u, int i, const RequestRecord& r, std::string_view attempts) {
  u.bind(++i, std::string_view(r.id));
  u.bind(++i, r.time_ms);
  for (const std::string* s : {&r.key_id, &r.user, &r.endpoint, &r.dialect, &r.router}) {
    u.bind(++i, std::string_view(*s));
  }
  u.bind(++i, r.router_version);
  for (const std::string* s : {&r.route, &r.variant, &r.reason, &r.requested_model, &r.model, &r.provider}) {
    u.bind(++i, std::string_view(*s));
  }
  u.bind(++i, attempts);
  u.bind(++i, int64_t{r.stream});
  u.bind(++i, int64_t{r.status});
  u.bind(++i, std::string_view(r.error_class));
  for (int64_t v : {r.ttft_ms, r.latency_ms, r.tokens_in, r.tokens_out, r.tokens_cached, r.tokens_reasoning}) {
    u.bind(++i, v);
  }
  u.bind(++i, r.cost_usd);
  u.bind(++i, std::string_view(r.metadata_json));
  u.bind(++i, int64_t{failed(r)});
  return i;
}

const std::string kInsertBodies =
    "INSERT INTO bodies(seq, request_body, response_body) VALUES(?1, ?2, ?3)";
const std::string kResolveOutcomes =
    "UPDATE outcomes SET at_router = ?2, at_ms = ?3, route = ?4, variant = ?5"
    " WHERE request_id = ?1 AND at_router IS NULL";
const std::string kPendingOutcomes =
    "SELECT DISTINCT request_id FROM outcomes WHERE at_router IS NULL";
const std::string kFindRequest =
    "SELECT router, time_ms, route, variant FROM requests WHERE id = ?1";
const std::string kInsertOutcome =
    "INSERT INTO outcomes(event_id, time_ms, request_id, user, router, name, value, at_router,"
    " at_ms, route, variant) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    " ON CONFLICT(event_id) DO NOTHING";

Result<void> validate_outcome(const OutcomeEvent& e, size_t i) {
  std::string_view problem;
  if (e.event_id.empty()) {
    problem = "has no event_id; give every event a unique id so that a retry is not counted twice";
  } else if (e.name.empty()) {
    problem = "has no name; name the metric, e.g. \"csat\"";
  } else if (e.request_id.empty() && e.user.empty()) {
    problem = "has neither request_id nor user; attach it to one of them";
  } else if (!std::isfinite(e.value)) {
    problem = "has a value that is not a finite number";
  }
  if (problem.empty()) {
    return {};
  }
  return fail(ErrorCode::kInvalidRequest,
              fmt::format("outcome {} ('{}') {}", i, e.event_id, problem));
}

}  // namespace

SqliteLogStore::SqliteLogStore(std::string path, LogStoreOptions options)
    : path_(std::move(path)), options_(std::move(options)), memory_(path_ == ":memory:") {
  if (!options_.now_ms) {
    options_.now_ms = sqlite::system_now_ms;
  }
}

Result<std::unique_ptr<Conn>> SqliteLogStore::open_conn(bool writer) const {
  int flags = SQLITE_OPEN_READWRITE | (writer ? SQLITE_OPEN_CREATE : 0);
  auto conn = sqlite::open(path_, flags, kLabel, options_.busy_timeout_ms);
  if (!conn) {
    return tl::unexpected(conn.error());
  }
  std::string setup =
      fmt::format("PRAGMA cache_size=-{}; PRAGMA mmap_size={}; PRAGMA temp_store=MEMORY;",
                  options_.cache_mib * 1024, options_.mmap_mib << 20);
  if (writer) {
    // page_size and auto_vacuum only take effect before the first table exists: they go first.
    setup = fmt::format("PRAGMA page_size={}; PRAGMA auto_vacuum=INCREMENTAL; {}"
                        " PRAGMA synchronous=NORMAL; PRAGMA journal_size_limit={};"
                        " PRAGMA wal_autocheckpoint={};",
                        kPageSize, setup, kWalLimitBytes, kCheckpointPages);
  } else {
    setup += " PRAGMA query_only=1;";
  }
  if (auto r = (*conn)->exec(setup.c_str(), "configuring the connection"); !r) {
    return tl::unexpected(r.error());
  }
  return conn;
}

Result<void> SqliteLogStore::open_writer() {
  auto w = open_conn(true);
  if (!w) {
    return tl::unexpected(w.error());
  }
  writer_ = std::move(*w);
  if (auto r = sqlite::enable_wal(*writer_); !r) {
    return r;
  }
  if (auto r = sqlite::migrate(*writer_, "log_schema_migrations", kMigrations); !r) {
    return r;
  }
  std::lock_guard lock(write_mu_);
  return load_pending_locked();
}

Result<void> SqliteLogStore::load_pending_locked() {
  constexpr std::string_view what = "reading pending outcomes";
  auto s = writer_->stmt(kPendingOutcomes, what);
  if (!s) {
    return tl::unexpected(s.error());
  }
  pending_.clear();
  Use u(*s);
  int rc;
  while ((rc = u.step()) == SQLITE_ROW) {
    pending_.emplace(u.view(0));
  }
  if (rc != SQLITE_DONE) {
    return writer_->error(what, rc);
  }
  return {};
}

Result<bool> SqliteLogStore::append_one(const RequestRecord& r) {
  constexpr std::string_view what = "appending records";
  auto ins = writer_->stmt(r.spoken() ? kInsertSpokenRecord : kInsertRecords[0], what);
  if (!ins) {
    return tl::unexpected(ins.error());
  }
  std::string& attempts = attempts_[0];
  encode_attempts(r.attempts, attempts);
  {
    Use u(*ins);
    int i = bind_record(u, 0, r, attempts);
    if (r.spoken()) {
      u.bind(++i, std::string_view(r.tts_engine));
      u.bind(++i, r.tts_chars);
      u.bind(++i, r.audio_seconds);
      u.bind(++i, r.tts_first_audio_ms);
      u.bind(++i, r.tts_cost_usd);
      u.bind(++i, std::string_view(r.tts_error));
    }
    if (int rc = u.step(); rc != SQLITE_DONE) {
      return writer_->error(what, rc);
    }
  }
  if (sqlite3_changes(writer_->db()) == 0) {
    return false;  // stored before
  }
  int64_t seq = sqlite3_last_insert_rowid(writer_->db());
  if (!r.request_body.empty() || !r.response_body.empty()) {
    auto b = writer_->stmt(kInsertBodies, what);
    if (!b) {
      return tl::unexpected(b.error());
    }
    Use u(*b);
    u.bind(1, seq);
    u.bind_or_null(2, r.request_body);
    u.bind_or_null(3, r.response_body);
    if (auto rr = writer_->run(u, what); !rr) {
      return tl::unexpected(rr.error());
    }
  }
  if (auto ok = resolve_pending(r); !ok) {
    return tl::unexpected(ok.error());
  }
  return true;
}

Result<void> SqliteLogStore::resolve_pending(const RequestRecord& r) {
  if (pending_.empty() || pending_.erase(r.id) == 0) {
    return {};
  }
  constexpr std::string_view what = "appending records";
  auto res = writer_->stmt(kResolveOutcomes, what);
  if (!res) {
    return tl::unexpected(res.error());
  }
  Use u(*res);
  u.bind(1, std::string_view(r.id));
  u.bind(2, std::string_view(r.router));
  u.bind(3, r.time_ms);
  u.bind(4, std::string_view(r.route));
  u.bind(5, std::string_view(r.variant));
  return writer_->run(u, what);
}

Result<size_t> SqliteLogStore::append_rows(std::span<const RequestRecord* const> rows) {
  constexpr std::string_view what = "appending records";
  SY_ASSERT(std::has_single_bit(rows.size()) && rows.size() <= kRowsPerInsert);
  auto ins = writer_->stmt(kInsertRecords[static_cast<size_t>(std::countr_zero(rows.size()))], what);
  if (!ins) {
    return tl::unexpected(ins.error());
  }
  Use u(*ins);
  int i = 0;
  for (size_t k = 0; k < rows.size(); ++k) {
    encode_attempts(rows[k]->attempts, attempts_[k]);
    i = bind_record(u, i, *rows[k], attempts_[k]);
  }
  if (int rc = u.step(); rc != SQLITE_DONE) {
    return writer_->error(what, rc);
  }
  const auto added = static_cast<size_t>(sqlite3_changes(writer_->db()));
  // A waiting outcome's request was not stored before, so its row is new (the first of its id).
  for (const RequestRecord* r : rows) {
    if (auto ok = resolve_pending(*r); !ok) {
      return tl::unexpected(ok.error());
    }
  }
  return added;
}

bool SqliteLogStore::needs_own_insert(const RequestRecord& r) {
  return r.spoken() || !r.request_body.empty() || !r.response_body.empty();
}

Result<size_t> SqliteLogStore::append(std::span<const RequestRecord> records) {
  constexpr std::string_view what = "appending records";
  std::lock_guard lock(write_mu_);
  Txn txn(*writer_);
  if (auto r = txn.begin(true, what); !r) {
    return tl::unexpected(r.error());
  }
  // Plain records go up to kRowsPerInsert to a statement; the others (speech columns, bodies: a
  // row of their own) one by one. Rows keep the batch's order.
  std::array<const RequestRecord*, kRowsPerInsert> rows;
  size_t waiting = 0;
  size_t added = 0;
  auto flush = [&]() -> Result<void> {  // the waiting rows, in power-of-two statements
    for (std::span<const RequestRecord* const> rest(rows.data(), waiting); !rest.empty();) {
      const size_t n = std::bit_floor(rest.size());
      auto fresh = append_rows(rest.first(n));
      if (!fresh) {
        return tl::unexpected(fresh.error());
      }
      added += *fresh;
      rest = rest.subspan(n);
    }
    waiting = 0;
    return {};
  };
  for (const RequestRecord& r : records) {
    if (r.id.empty()) {
      continue;  // not addressable; documented as skipped
    }
    if (!needs_own_insert(r)) {
      rows[waiting++] = &r;
      if (waiting == kRowsPerInsert) {
        if (auto ok = flush(); !ok) {
          return tl::unexpected(ok.error());
        }
      }
      continue;
    }
    if (auto ok = flush(); !ok) {
      return tl::unexpected(ok.error());
    }
    auto fresh = append_one(r);
    if (!fresh) {
      return tl::unexpected(fresh.error());
    }
    added += *fresh ? 1 : 0;
  }
  if (auto ok = flush(); !ok) {
    return tl::unexpected(ok.error());
  }
  if (auto r = txn.commit(what); !r) {
    return tl::unexpected(r.error());
  }
  return added;
}

Result<size_t> SqliteLogStore::append_outcomes(std::span<const OutcomeEvent> events) {
  for (size_t i = 0; i < events.size(); ++i) {
    if (auto r = validate_outcome(events[i], i); !r) {
      return tl::unexpected(r.error());
    }
  }
  constexpr std::string_view what = "appending outcomes";
  std::lock_guard lock(write_mu_);
  Txn txn(*writer_);
  if (auto r = txn.begin(true, what); !r) {
    return tl::unexpected(r.error());
  }
  auto find = writer_->stmt(kFindRequest, what);
  auto ins = writer_->stmt(kInsertOutcome, what);
  if (!find || !ins) {
    return tl::unexpected(!find ? find.error() : ins.error());
  }
  size_t added = 0;
  for (const OutcomeEvent& e : events) {
    Use f(*find);
    Use u(*ins);
    u.bind(1, std::string_view(e.event_id));
    u.bind(2, e.time_ms);
    u.bind(3, std::string_view(e.request_id));
    u.bind(4, std::string_view(e.user));
    u.bind(5, std::string_view(e.router));
    u.bind(6, std::string_view(e.name));
    u.bind(7, e.value);
    u.bind(9, e.time_ms);
    if (e.request_id.empty()) {
      u.bind(8, std::string_view(e.router));  // a user outcome counts where and when it says
    } else {
      f.bind(1, std::string_view(e.request_id));
      int rc = f.step();
      if (rc == SQLITE_ROW) {  // the request is stored: count it at the request's place
        u.bind(8, f.view(0));
        u.bind(9, f.i64(1));
        u.bind(10, f.view(2));
        u.bind(11, f.view(3));
      } else if (rc != SQLITE_DONE) {
        return writer_->error(what, rc);
      } else {  // pending: at_router NULL until append() stores the request
        pending_.emplace(e.request_id);
      }
    }
    if (auto r = writer_->run(u, what); !r) {
      return tl::unexpected(r.error());
    }
    added += static_cast<size_t>(sqlite3_changes(writer_->db()));
  }
  if (auto r = txn.commit(what); !r) {
    return tl::unexpected(r.error());
  }
  return added;
}

}  // namespace sy::store::sqlite_log

namespace sy::store {

Result<std::unique_ptr<LogStore>> open_sqlite_log(const std::string& path,
                                                  LogStoreOptions options) {
  auto store = std::make_unique<sqlite_log::SqliteLogStore>(path, std::move(options));
  if (auto r = store->open_writer(); !r) {
    return tl::unexpected(r.error());
  }
  return std::unique_ptr<LogStore>(std::move(store));
}

}  // namespace sy::store
