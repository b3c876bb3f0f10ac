// The page query of the SQLite log store: one index range read newest first, the other
// filters tested row by row, up to a scan budget; then the page's records by seq.

#include <algorithm>

#include <fmt/core.h>
#include <sqlite3.h>

#include "store/sqlite_log_store_impl.h"

namespace sy::store::sqlite_log {
namespace {

using telemetry::RequestRecord;

constexpr size_t kMaxLimit = 1000;

// Columns of a record, in RequestRecord order; `r` is requests, `b` bodies.
constexpr const char* kRecordColumns =
    "r.id, r.time_ms, r.key_id, r.user, r.endpoint, r.dialect, r.router, r.router_version,"
    " r.route, r.variant, r.reason, r.requested_model, r.model, r.provider, r.attempts, r.stream,"
    " r.status, r.error_class, r.ttft_ms, r.latency_ms, r.tokens_in, r.tokens_out,"
    " r.tokens_cached, r.tokens_reasoning, r.cost_usd, r.metadata, r.tts_engine, r.tts_chars,"
    " r.audio_seconds, r.tts_first_audio_ms, r.tts_cost_usd, r.tts_error";

const std::string kRecordBySeq =
    fmt::format("SELECT {} FROM requests r WHERE r.seq = ?1", kRecordColumns);
const std::string kRecordBySeqWithBodies = fmt::format(
    "SELECT {}, b.request_body, b.response_body FROM requests r LEFT JOIN bodies b"
    " ON b.seq = r.seq WHERE r.seq = ?1",
    kRecordColumns);
const std::string kRecordById = fmt::format(
    "SELECT {}, b.request_body, b.response_body FROM requests r LEFT JOIN bodies b"
    " ON b.seq = r.seq WHERE r.id = ?1",
    kRecordColumns);

Result<RequestRecord> read_record(const Use& u, bool bodies) {
  RequestRecord r;
  r.id = u.str(0);
  r.time_ms = u.i64(1);
  r.key_id = u.str(2);
  r.user = u.str(3);
  r.endpoint = u.str(4);
  r.dialect = u.str(5);
  r.router = u.str(6);
  r.router_version = u.i64(7);
  r.route = u.str(8);
  r.variant = u.str(9);
  r.reason = u.str(10);
  r.requested_model = u.str(11);
  r.model = u.str(12);
  r.provider = u.str(13);
  auto attempts = decode_attempts(u.view(14), r.id);
  if (!attempts) {
    return tl::unexpected(attempts.error());
  }
  r.attempts = std::move(*attempts);
  r.stream = u.i64(15) != 0;
  r.status = static_cast<int>(u.i64(16));
  r.error_class = u.str(17);
  r.ttft_ms = u.i64(18);
  r.latency_ms = u.i64(19);
  r.tokens_in = u.i64(20);
  r.tokens_out = u.i64(21);
  r.tokens_cached = u.i64(22);
  r.tokens_reasoning = u.i64(23);
  r.cost_usd = u.dbl(24);
  r.metadata_json = u.str(25);
  r.tts_engine = u.str(26);
  r.tts_chars = u.i64(27);
  r.audio_seconds = u.dbl(28);
  r.tts_first_audio_ms = u.i64(29);
  r.tts_cost_usd = u.dbl(30);
  r.tts_error = u.str(31);
  if (bodies) {
    r.request_body = u.str(32);
    r.response_body = u.str(33);
  }
  return r;
}


// Each row comes with whether the other filters match, so that the caller can count what it
// examined and stop at the scan budget. The test is a CASE condition because SQLite
// short-circuits AND/OR only there: an absent filter on a column outside the index (model on
// requests_router) then costs no table read. One statement per index (absent filters are bound
// as '' or 0 and drop out), so a connection prepares four at most. ?1 the indexed value, ?2..?3 the
// time range, ?4..?10 the filters, ?11..?12 the cursor. "<column> != ''" lets SQLite use the
// partial indexes (user and model leave out '').
std::string page_sql(std::string_view index, std::string_view column, std::string_view day = "") {
  return fmt::format(
      "SELECT seq, time_ms, CASE WHEN (?4 = '' OR user = ?4) AND (?5 = '' OR router = ?5)"
      " AND (?6 = '' OR model = ?6) AND (?7 = '' OR route = ?7) AND (?8 = '' OR variant = ?8)"
      " AND (?9 = 0 OR status = ?9) AND (?10 = 0 OR failed = 1) THEN 1 ELSE 0 END"
      " FROM requests INDEXED BY {} WHERE {}{} time_ms >= ?2 AND time_ms < ?3"
      " AND (time_ms < ?11 OR seq < ?12) ORDER BY time_ms DESC, seq DESC",
      index, day, column.empty() ? "" : fmt::format("{0} = ?1 AND {0} != '' AND", column));
}
// ?13: the day (time_ms / kUserIndexDayMs) whose part of requests_user to read.
const std::string kPageByUser = page_sql("requests_user", "user", "time_ms / 86400000 = ?13 AND ");
// Each a single min() or max(): SQLite reads them off the ends of requests_time.
const std::string kTimeSpan =
    "SELECT (SELECT min(time_ms) FROM requests), (SELECT max(time_ms) FROM requests)";
const std::string kPageByRouter = page_sql("requests_router", "router");
const std::string kPageByModel = page_sql("requests_model", "model");
const std::string kPageByTime = page_sql("requests_time", "");

// The most selective index the query can use, and the value it is read at.
std::pair<const std::string*, std::string_view> page_index(const LogQuery& q) {
  if (!q.user.empty()) {
    return {&kPageByUser, q.user};
  }
  if (!q.router.empty()) {
    return {&kPageByRouter, q.router};
  }
  if (!q.model.empty()) {
    return {&kPageByModel, q.model};
  }
  return {&kPageByTime, {}};
}

void bind_page(Use& u, const LogQuery& q, std::string_view indexed, std::optional<Cursor> after) {
  Cursor c = after.value_or(Cursor{INT64_MAX, INT64_MAX});
  u.bind(1, indexed);
  u.bind(2, q.since_ms);
  // The cursor's time bounds the index range; ties with it are sorted out by seq.
  u.bind(3, std::min(q.until_ms, c.time_ms == INT64_MAX ? c.time_ms : c.time_ms + 1));
  int i = 3;
  for (const std::string* f : {&q.user, &q.router, &q.model, &q.route, &q.variant}) {
    u.bind(++i, std::string_view(*f));
  }
  u.bind(9, int64_t{q.status});
  u.bind(10, int64_t{q.errors_only});
  u.bind(11, c.time_ms);
  u.bind(12, c.seq);
}

// Collects one page from rows read in page order (see page_sql), up to the scan budget.
struct PageScan {
  size_t limit;
  int64_t budget;
  std::vector<Cursor> hits;
  int64_t examined = 0;
  std::string next;  // the next page's cursor, once done; "" when the rows ran out
  bool done = false;

  void stop_at(Cursor c) {
    next = encode_cursor(c);
    done = true;
  }
  // Reads the statement's rows until the page is full or the budget spent; SQLite's code.
  int feed(Use& u) {
    int rc;
    while ((rc = u.step()) == SQLITE_ROW) {
      Cursor at{u.i64(1), u.i64(0)};
      if (u.i64(2) != 0) {
        if (hits.size() == limit) {  // one more match: another page follows
          stop_at(hits.back());
          return SQLITE_DONE;
        }
        hits.push_back(at);
      }
      if (++examined >= budget) {
        stop_at(at);  // go on after the last row looked at
        return SQLITE_DONE;
      }
    }
    return rc;
  }
};

int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b < 0 ? 1 : 0); }

}  // namespace

Result<std::pair<int64_t, int64_t>> SqliteLogStore::user_days(Conn& c, const LogQuery& q,
                                                              std::optional<Cursor> after) {
  constexpr std::string_view what = "querying records";
  auto s = c.stmt(kTimeSpan, what);
  if (!s) {
    return tl::unexpected(s.error());
  }
  Use u(*s);
  if (int rc = u.step(); rc != SQLITE_ROW) {
    return c.error(what, rc);
  }
  if (u.null(0)) {
    return std::pair<int64_t, int64_t>(0, 1);  // no records
  }
  int64_t top = std::min(q.until_ms, u.i64(1) + 1);  // exclusive
  if (after && after->time_ms < top) {
    top = after->time_ms + 1;
  }
  int64_t bottom = std::max(q.since_ms, u.i64(0));
  if (top <= bottom) {
    return std::pair<int64_t, int64_t>(0, 1);
  }
  return std::pair(floor_div(top - 1, kUserIndexDayMs), floor_div(bottom, kUserIndexDayMs));
}

Result<LogPage> SqliteLogStore::query(const LogQuery& q) const {
  if (q.limit < 1 || q.limit > kMaxLimit) {
    return fail(ErrorCode::kInvalidRequest,
                fmt::format("limit must be between 1 and {} (got {})", kMaxLimit, q.limit),
                "limit");
  }
  if (q.since_ms > q.until_ms) {
    return fail(ErrorCode::kInvalidRequest,
                fmt::format("since ({}) is after until ({}); swap them", q.since_ms, q.until_ms),
                "since");
  }
  if (q.status != 0 && (q.status < 100 || q.status > 599)) {
    return fail(ErrorCode::kInvalidRequest,
                fmt::format("status must be an HTTP status 100..599 (got {})", q.status),
                "status");
  }
  std::optional<Cursor> after;
  if (!q.cursor.empty() && !(after = decode_cursor(q.cursor))) {
    return fail(ErrorCode::kInvalidRequest,
                "cursor is not one this server issued; pass next_cursor of the previous page "
                "unchanged, or leave it out for the first page",
                "cursor");
  }
  auto [sql, indexed] = page_index(q);
  return read("querying records", [&](Conn& c) -> Result<LogPage> {
    constexpr std::string_view what = "querying records";
    auto scan = c.stmt(*sql, what);
    auto fetch = c.stmt(q.with_bodies ? kRecordBySeqWithBodies : kRecordBySeq, what);
    if (!scan || !fetch) {
      return tl::unexpected(!scan ? scan.error() : fetch.error());
    }
    PageScan page_scan{q.limit, options_.scan_budget_rows};
    if (q.user.empty()) {
      Use u(*scan);
      bind_page(u, q, indexed, after);
      if (int rc = page_scan.feed(u); rc != SQLITE_DONE) {
        return c.error(what, rc);
      }
    } else {
      auto days = user_days(c, q, after);
      if (!days) {
        return tl::unexpected(days.error());
      }
      for (int64_t d = days->first; d >= days->second && !page_scan.done; --d) {
        Use u(*scan);
        bind_page(u, q, indexed, after);
        u.bind(13, d);
        if (int rc = page_scan.feed(u); rc != SQLITE_DONE) {
          return c.error(what, rc);
        }
        if (!page_scan.done && ++page_scan.examined >= options_.scan_budget_rows) {
          page_scan.stop_at(Cursor{d * kUserIndexDayMs, 0});  // before day d
        }
      }
    }
    LogPage page;
    page.next_cursor = std::move(page_scan.next);
    const std::vector<Cursor>& hits = page_scan.hits;
    for (const Cursor& h : hits) {
      Use f(*fetch);
      f.bind(1, h.seq);
      if (int frc = f.step(); frc != SQLITE_ROW) {
        return c.error(what, frc == SQLITE_DONE ? SQLITE_INTERNAL : frc);
      }
      auto rec = read_record(f, q.with_bodies);
      if (!rec) {
        return tl::unexpected(rec.error());
      }
      page.records.push_back(std::move(*rec));
    }
    return page;
  });
}

Result<std::optional<RequestRecord>> SqliteLogStore::get(std::string_view id) const {
  using Out = std::optional<RequestRecord>;
  return read("reading a record", [&](Conn& c) -> Result<Out> {
    constexpr std::string_view what = "reading a record";
    auto s = c.stmt(kRecordById, what);
    if (!s) {
      return tl::unexpected(s.error());
    }
    Use u(*s);
    u.bind(1, id);
    int rc = u.step();
    if (rc == SQLITE_DONE) {
      return Out();
    }
    if (rc != SQLITE_ROW) {
      return c.error(what, rc);
    }
    auto rec = read_record(u, true);
    if (!rec) {
      return tl::unexpected(rec.error());
    }
    return Out(std::move(*rec));
  });
}

}  // namespace sy::store::sqlite_log
