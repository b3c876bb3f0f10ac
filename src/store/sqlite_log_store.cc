// LogStore on SQLite. One write connection behind a mutex (the telemetry writer's batches,
// outcomes, retention) and a pool of read connections: in WAL mode readers see the last
// commit and never wait for the writer.
//
// Schema, and why:
// - blocks: a batch's records of one router, up to kBlockRecords, as one row (log_block.h): the
//   heads (what filters and the experiment figures read), the ids and the tails (the rest),
//   with the router and the records' time span. Heads come first in the row, so a scan of
//   them reads no page of the rest. A row per record cost its 27 columns and five index
//   entries, 26k instructions a record, more than all the rest of observing a request; a block
//   costs its records' encoding and one row (bench/README.md, "Cost of observing").
// - blocks_time (t_max, t_min) and blocks_router (router, t_max, t_min) find the blocks that
//   may hold a time window; the widest block seen (max_span_) bounds the range to read.
// - Records are not found by id through an index: a gateway request id carries its arrival's
//   millisecond (core/ids.h), which is the record's time, so get() reads the blocks holding
//   that time. Records whose id is of another form are listed in named_ids.
// - block_keys lists, per UTC day, the blocks holding each user's and each model's records,
//   newest block (t_max) first: a user's page reads only those, and stops once the blocks
//   left cannot hold anything newer than a full page. Keyed day first, so that appends touch
//   the few pages of today's part.
// - Page order is (time_ms, position), position = (block seq, slot): insertion order.
// - Bodies, when a router or key opts in, live in block_bodies by (block, slot).
// - outcomes carry where they count (at_router, at_ms, route, variant): a request outcome gets
//   its request's when the request is stored (whichever of the two arrives first), a user
//   outcome its own router and time. outcomes_at covers the stats read of a window.

#include <algorithm>
#include <cmath>

#include <fmt/core.h>
#include <sqlite3.h>

#include "core/clock.h"
#include "core/ids.h"
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
    {4,
     // Blocks of records replace the row per record (the design above); convert_rows() moves a
     // version-3 log's rows into them at open.
     "CREATE TABLE blocks(seq INTEGER PRIMARY KEY, router TEXT NOT NULL, t_min INTEGER NOT NULL,"
     " t_max INTEGER NOT NULL, n INTEGER NOT NULL, heads BLOB NOT NULL, ids BLOB NOT NULL,"
     " tails BLOB NOT NULL);"
     "CREATE INDEX blocks_time ON blocks(t_max, t_min);"
     "CREATE INDEX blocks_router ON blocks(router, t_max, t_min);"
     "CREATE TABLE block_keys(kind INTEGER NOT NULL, day INTEGER NOT NULL, key TEXT NOT NULL,"
     " t_max INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(kind, day, key, t_max, seq))"
     " WITHOUT ROWID;"
     "CREATE TABLE named_ids(id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(id, seq))"
     " WITHOUT ROWID;"
     "CREATE INDEX named_ids_seq ON named_ids(seq);"
     "CREATE TABLE block_bodies(seq INTEGER NOT NULL, slot INTEGER NOT NULL, request_body TEXT,"
     " response_body TEXT, PRIMARY KEY(seq, slot)) WITHOUT ROWID;"},
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

const std::string kInsertBlock =
    "INSERT INTO blocks(router, t_min, t_max, n, heads, ids, tails)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)";
const std::string kInsertKey =
    "INSERT INTO block_keys(kind, day, key, t_max, seq) VALUES(?1, ?2, ?3, ?4, ?5)";
const std::string kInsertNamedId = "INSERT OR IGNORE INTO named_ids(id, seq) VALUES(?1, ?2)";
const std::string kInsertBodies =
    "INSERT INTO block_bodies(seq, slot, request_body, response_body) VALUES(?1, ?2, ?3, ?4)";
const std::string kResolveOutcomes =
    "UPDATE outcomes SET at_router = ?2, at_ms = ?3, route = ?4, variant = ?5"
    " WHERE request_id = ?1 AND at_router IS NULL";
const std::string kPendingOutcomes =
    "SELECT DISTINCT request_id FROM outcomes WHERE at_router IS NULL";
const std::string kMaxSpan = "SELECT COALESCE(max(t_max - t_min), 0) FROM blocks";
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
    options_.now_ms = unix_now_ms;
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
  if (auto r = convert_rows(); !r) {
    return r;
  }
  constexpr std::string_view what = "opening the log";
  auto span = writer_->stmt(kMaxSpan, what);
  if (!span) {
    return tl::unexpected(span.error());
  }
  {
    Use u(*span);
    if (int rc = u.step(); rc != SQLITE_ROW) {
      return writer_->error(what, rc);
    }
    max_span_.store(u.i64(0));
  }
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

Result<void> SqliteLogStore::resolve_pending(const RequestRecord& r, std::string_view router) {
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
  u.bind(2, router);
  u.bind(3, r.time_ms);
  u.bind(4, std::string_view(r.route));
  u.bind(5, std::string_view(r.variant));
  return writer_->run(u, what);
}

Result<void> SqliteLogStore::write_block(std::string_view router,
                                         std::span<const RequestRecord* const> records) {
  constexpr std::string_view what = "appending records";
  BlockWriter& b = block_;
  b.clear();
  int64_t t_min = INT64_MAX;
  int64_t t_max = INT64_MIN;
  for (const RequestRecord* r : records) {
    b.add(*r);
    t_min = std::min(t_min, r->time_ms);
    t_max = std::max(t_max, r->time_ms);
  }
  auto ins = writer_->stmt(kInsertBlock, what);
  if (!ins) {
    return tl::unexpected(ins.error());
  }
  {
    Use u(*ins);
    u.bind(1, router);
    u.bind(2, t_min);
    u.bind(3, t_max);
    u.bind(4, static_cast<int64_t>(records.size()));
    u.bind_blob(5, b.heads());
    u.bind_blob(6, b.ids());
    u.bind_blob(7, b.tails());
    if (int rc = u.step(); rc != SQLITE_DONE) {
      return writer_->error(what, rc);
    }
  }
  const int64_t seq = sqlite3_last_insert_rowid(writer_->db());
  if (t_max - t_min > max_span_.load(std::memory_order_relaxed)) {
    max_span_.store(t_max - t_min);
  }
  // The block's users and models, once per day each.
  for (KeyKind kind : {kUserKey, kModelKey}) {
    keys_.clear();
    for (const RequestRecord* r : records) {
      const std::string& key = kind == kUserKey ? r->user : r->model;
      if (!key.empty() && (keys_.empty() || keys_.back().second != key)) {
        keys_.emplace_back(day_of(r->time_ms), key);
      }
    }
    std::sort(keys_.begin(), keys_.end());
    keys_.erase(std::unique(keys_.begin(), keys_.end()), keys_.end());
    for (const auto& [day, key] : keys_) {
      auto k = writer_->stmt(kInsertKey, what);
      if (!k) {
        return tl::unexpected(k.error());
      }
      Use u(*k);
      u.bind(1, int64_t{kind});
      u.bind(2, day);
      u.bind(3, key);
      u.bind(4, t_max);
      u.bind(5, seq);
      if (auto r = writer_->run(u, what); !r) {
        return r;
      }
    }
  }
  for (size_t slot = 0; slot < records.size(); ++slot) {
    const RequestRecord& r = *records[slot];
    if (request_id_ms(r.id) != r.time_ms) {  // not found through its time
      auto n = writer_->stmt(kInsertNamedId, what);
      if (!n) {
        return tl::unexpected(n.error());
      }
      Use u(*n);
      u.bind(1, std::string_view(r.id));
      u.bind(2, seq);
      if (auto ok = writer_->run(u, what); !ok) {
        return ok;
      }
    }
    if (!r.request_body.empty() || !r.response_body.empty()) {
      auto bodies = writer_->stmt(kInsertBodies, what);
      if (!bodies) {
        return tl::unexpected(bodies.error());
      }
      Use u(*bodies);
      u.bind(1, seq);
      u.bind(2, static_cast<int64_t>(slot));
      u.bind_or_null(3, r.request_body);
      u.bind_or_null(4, r.response_body);
      if (auto ok = writer_->run(u, what); !ok) {
        return ok;
      }
    }
    if (auto ok = resolve_pending(r, router); !ok) {
      return ok;
    }
  }
  return {};
}

Result<size_t> SqliteLogStore::append_locked(std::span<const RequestRecord> records) {
  for (Group& g : groups_) {
    g.records.clear();
  }
  size_t used = 0;  // groups_[0, used) hold this batch's routers
  size_t last = 0;
  size_t stored = 0;
  for (const RequestRecord& r : records) {
    if (r.id.empty()) {
      continue;  // not addressable; documented as skipped
    }
    if (last >= used || groups_[last].router != r.router) {
      last = 0;
      while (last < used && groups_[last].router != r.router) {
        ++last;
      }
      if (last == used) {
        if (used == groups_.size()) {
          groups_.emplace_back();
        }
        groups_[used++].router = r.router;
      }
    }
    groups_[last].records.push_back(&r);
    ++stored;
  }
  for (size_t g = 0; g < used; ++g) {
    std::span<const RequestRecord* const> rest(groups_[g].records);
    while (!rest.empty()) {
      const size_t n = std::min(rest.size(), kBlockRecords);
      if (auto r = write_block(groups_[g].router, rest.first(n)); !r) {
        return tl::unexpected(r.error());
      }
      rest = rest.subspan(n);
    }
  }
  return stored;
}

Result<size_t> SqliteLogStore::append(std::span<const RequestRecord> records) {
  constexpr std::string_view what = "appending records";
  std::lock_guard lock(write_mu_);
  Txn txn(*writer_);
  if (auto r = txn.begin(true, what); !r) {
    return tl::unexpected(r.error());
  }
  auto stored = append_locked(records);
  if (!stored) {
    return stored;
  }
  if (auto r = txn.commit(what); !r) {
    return tl::unexpected(r.error());
  }
  return stored;
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
  auto ins = writer_->stmt(kInsertOutcome, what);
  if (!ins) {
    return tl::unexpected(ins.error());
  }
  size_t added = 0;
  for (const OutcomeEvent& e : events) {
    std::optional<RequestRecord> request;
    if (!e.request_id.empty()) {
      auto found = find(*writer_, e.request_id, false);
      if (!found) {
        return tl::unexpected(found.error());
      }
      request = std::move(*found);
    }
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
    } else if (request) {  // the request is stored: count it at the request's place
      u.bind(8, std::string_view(request->router));
      u.bind(9, request->time_ms);
      u.bind(10, std::string_view(request->route));
      u.bind(11, std::string_view(request->variant));
    } else {  // pending: at_router NULL until append() stores the request
      pending_.emplace(e.request_id);
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
