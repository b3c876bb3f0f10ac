// query() and get() of the SQLite log store.
//
// A page reads the blocks that may hold a window of time, the newest window first, each block
// once: its matches are collected; once more than a page of them lie in the windows read, the
// page is known. Otherwise the next window (older, four times as long, less when the budget
// left says so) follows, until the page is full, the log or the asked range ends, or the scan
// budget is spent. A user's page reads the blocks block_keys lists for the user, a day at a
// time; a model's page only the listed ones among a window's blocks.

#include <algorithm>
#include <unordered_set>

#include <fmt/core.h>
#include <sqlite3.h>

#include "core/ids.h"
#include "store/sqlite_log_store_impl.h"

namespace sy::store::sqlite_log {
namespace {

using telemetry::RequestRecord;

constexpr size_t kMaxLimit = 1000;
constexpr int64_t kFirstWindowMs = 1'000;

// The log's span: no record is newer than the newest t_max, none older than the oldest t_max
// less the widest block.
// Each a single min() or max(): SQLite reads them off the ends of blocks_time.
const std::string kTimeSpan =
    "SELECT (SELECT min(t_max) FROM blocks), (SELECT max(t_max) FROM blocks)";
// The blocks that may hold records of [?2, ?3): t_min < ?3 and t_max >= ?2, where t_max is at
// most t_min + the widest span (?4 = ?3 + span).
const std::string kBlocksInWindow =
    "SELECT seq, heads, router FROM blocks INDEXED BY blocks_time"
    " WHERE t_max >= ?2 AND t_max < ?4 AND t_min < ?3";
const std::string kRouterBlocksInWindow =
    "SELECT seq, heads, router FROM blocks INDEXED BY blocks_router"
    " WHERE router = ?1 AND t_max >= ?2 AND t_max < ?4 AND t_min < ?3";
const std::string kKeyBlocks =
    "SELECT seq, t_max FROM block_keys WHERE kind = ?1 AND day = ?2 AND key = ?3"
    " ORDER BY t_max DESC, seq DESC";
const std::string kBlock = "SELECT router, heads, ids, tails FROM blocks WHERE seq = ?1";
const std::string kBlockHeads = "SELECT heads, router FROM blocks WHERE seq = ?1";
// The blocks that may hold time ?1 (?2 = ?1 + span).
const std::string kBlocksAt =
    "SELECT seq, router, heads, ids, tails FROM blocks INDEXED BY blocks_time"
    " WHERE t_max >= ?1 AND t_max <= ?2 AND t_min <= ?1";
const std::string kNamedId = "SELECT seq FROM named_ids WHERE id = ?1 ORDER BY seq";
const std::string kBodies =
    "SELECT request_body, response_body FROM block_bodies WHERE seq = ?1 AND slot = ?2";

int64_t saturating_add(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

// The record at `slot` of block `seq` (read by `b`, moving forward; `router` its row's), and
// its bodies when asked and kept, into r.
Result<void> read_record(Conn& c, std::string_view path, BlockReader& b, int64_t seq, size_t slot,
                         std::string_view router, bool bodies, RequestRecord& r) {
  while (b.slot() != slot && b.next()) {
  }
  if (b.slot() != slot || !b.record(r)) {
    return damaged(path, seq);
  }
  r.router = router;
  if (!bodies || !b.head().bodies) {
    return {};
  }
  constexpr std::string_view what = "reading a record's bodies";
  auto s = c.stmt(kBodies, what);
  if (!s) {
    return tl::unexpected(s.error());
  }
  Use u(*s);
  u.bind(1, seq);
  u.bind(2, static_cast<int64_t>(slot));
  if (int rc = u.step(); rc == SQLITE_ROW) {
    r.request_body = u.view(0);
    r.response_body = u.view(1);
  } else if (rc != SQLITE_DONE) {
    return c.error(what, rc);
  }
  return {};
}

bool matches(const BlockHead& h, const LogQuery& q) {
  return (q.user.empty() || h.user == q.user) && (q.model.empty() || h.model == q.model) &&
         (q.route.empty() || h.route == q.route) && (q.variant.empty() || h.variant == q.variant) &&
         (q.status == 0 || h.status == q.status) && (!q.errors_only || h.failed);
}

struct Hit {
  int64_t time_ms;
  int64_t pos;
  size_t page_index = 0;
  bool operator>(const Hit& o) const {
    return time_ms != o.time_ms ? time_ms > o.time_ms : pos > o.pos;
  }
};

}  // namespace

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
  const int64_t span = max_span_.load();
  // Which blocks a page reads: a user's listed ones, day by day; else those of a window of time
  // (a router's, or all), a model's listed ones among them.
  const bool by_user = !q.user.empty();
  const bool by_model = !by_user && q.router.empty() && !q.model.empty();
  const bool by_router = !by_user && !q.router.empty();
  return read("querying records", [&](Conn& c) -> Result<LogPage> {
    constexpr std::string_view what = "querying records";
    auto span_stmt = c.stmt(kTimeSpan, what);
    auto scan = c.stmt(by_router ? kRouterBlocksInWindow : kBlocksInWindow, what);
    auto keys = c.stmt(kKeyBlocks, what);
    auto heads = c.stmt(kBlockHeads, what);
    if (!span_stmt || !scan || !keys || !heads) {
      return tl::unexpected(!span_stmt ? span_stmt.error()
                            : !scan    ? scan.error()
                            : !keys    ? keys.error()
                                       : heads.error());
    }
    int64_t hi = 0;
    int64_t floor = 0;
    {
      Use u(*span_stmt);
      if (int rc = u.step(); rc != SQLITE_ROW) {
        return c.error(what, rc);
      }
      if (u.null(0)) {
        return LogPage{};  // no records
      }
      hi = std::min(q.until_ms, saturating_add(u.i64(1), 1));
      floor = std::max(q.since_ms, u.i64(0) - span);
    }
    if (after) {  // a cursor at position 0 (none is) stands for "before its time"
      hi = std::min(hi, after->pos == 0 ? after->time_ms : saturating_add(after->time_ms, 1));
    }
    const int64_t top = hi;
    std::vector<Hit> hits;
    std::unordered_set<int64_t> seen;  // blocks read
    int64_t examined = 0;
    // A block is read once: every match in it before `top` (and from `floor`) is a hit, though
    // only those from the current window on are known to be in page order yet.
    auto take = [&](int64_t seq, std::string_view block_heads) -> Result<void> {
      if (!seen.insert(seq).second) {
        return {};
      }
      BlockReader b(block_heads, {}, {});
      while (b.next()) {
        ++examined;
        const BlockHead& h = b.head();
        if (h.time_ms < floor || h.time_ms >= top || !matches(h, q)) {
          continue;
        }
        const int64_t pos = position(seq, b.slot());
        if (after && h.time_ms == after->time_ms && pos >= after->pos) {
          continue;  // shown already
        }
        hits.push_back({h.time_ms, pos});
      }
      if (!b.ok()) {
        return damaged(path_, seq);
      }
      return {};
    };
    // The blocks listed for the key on day d.
    auto listed_on = [&](int64_t d, KeyKind kind, std::string_view key,
                         auto&& each) -> Result<void> {
      Use u(*keys);
      u.bind(1, int64_t{kind});
      u.bind(2, d);
      u.bind(3, key);
      int rc;
      while ((rc = u.step()) == SQLITE_ROW) {
        auto more = each(u.i64(0), u.i64(1));
        if (!more) {
          return tl::unexpected(more.error());
        }
        if (!*more) {
          return {};
        }
      }
      return rc == SQLITE_DONE ? Result<void>() : c.error(what, rc);
    };
    auto final_hits = [&](int64_t from) {  // hits from `from` on
      return static_cast<size_t>(
          std::count_if(hits.begin(), hits.end(), [from](const Hit& h) { return h.time_ms >= from; }));
    };
    std::unordered_set<int64_t> model_blocks;  // by_model: those listed on the days loaded
    int64_t model_from_day = INT64_MAX;         // by_model: days from this one on are loaded
    int64_t width = kFirstWindowMs;
    bool out_of_budget = false;
    while (hi > floor) {
      if (examined >= options_.scan_budget_rows) {
        out_of_budget = true;
        break;
      }
      const int64_t examined_before = examined;
      int64_t lo = 0;
      if (by_user) {  // a day at a time: its listed blocks, newest first
        lo = std::max(floor, day_of(hi - 1) * kDayMs);
        auto r = listed_on(day_of(hi - 1), kUserKey, q.user,
                           [&](int64_t seq, int64_t t_max) -> Result<bool> {
          if (t_max < lo) {
            return false;
          }
          if (t_max + 1 < hi && final_hits(t_max + 1) > q.limit) {
            lo = t_max + 1;  // the blocks left hold nothing newer: the page is known
            return false;
          }
          if (seen.contains(seq)) {
            return true;
          }
          Use u(*heads);
          u.bind(1, seq);
          int rc = u.step();
          if (rc == SQLITE_DONE) {
            return true;  // gone to retention since it was listed
          }
          if (rc != SQLITE_ROW) {
            return c.error(what, rc);
          }
          if (!q.router.empty() && u.view(1) != q.router) {
            seen.insert(seq);
            return true;
          }
          if (auto taken = take(seq, u.blob(0)); !taken) {
            return tl::unexpected(taken.error());
          }
          return true;
        });
        if (!r) {
          return tl::unexpected(r.error());
        }
      } else {
        lo = hi - floor > width ? hi - width : floor;
        for (int64_t d = std::min(model_from_day, day_of(hi - 1) + 1) - 1; by_model && d >= day_of(lo);
             --d) {
          auto r = listed_on(d, kModelKey, q.model, [&](int64_t seq, int64_t) -> Result<bool> {
            model_blocks.insert(seq);
            return true;
          });
          if (!r) {
            return tl::unexpected(r.error());
          }
          model_from_day = d;
        }
        Use u(*scan);
        u.bind(1, std::string_view(q.router));
        u.bind(2, lo);
        u.bind(3, hi);
        u.bind(4, saturating_add(hi, span));
        int rc;
        while ((rc = u.step()) == SQLITE_ROW) {
          const int64_t seq = u.i64(0);
          if (seen.contains(seq) || (by_model && !model_blocks.contains(seq))) {
            continue;
          }
          if (auto r = take(seq, u.blob(1)); !r) {
            return tl::unexpected(r.error());
          }
        }
        if (rc != SQLITE_DONE) {
          return c.error(what, rc);
        }
        // Four times as long, but no more than the budget left at this window's density.
        width = width > INT64_MAX / 4 ? INT64_MAX : width * 4;
        if (const int64_t read = examined - examined_before; read > 0) {
          const double fits = static_cast<double>(options_.scan_budget_rows - examined) *
                              static_cast<double>(hi - lo) / static_cast<double>(read);
          width = std::clamp(static_cast<int64_t>(std::min(fits, 9e18)), int64_t{1}, width);
        }
      }
      hi = lo;
      if (final_hits(lo) > q.limit) {
        break;  // one more match than the page: the page is known
      }
    }
    if (hi > floor) {  // older records are still to read: hits before hi may miss some between
      std::erase_if(hits, [hi](const Hit& h) { return h.time_ms < hi; });
    }
    std::sort(hits.begin(), hits.end(), std::greater<>());
    LogPage page;
    if (hits.size() > q.limit) {  // one more match: another page follows
      hits.resize(q.limit);
      page.next_cursor = encode_cursor({hits.back().time_ms, hits.back().pos});
    } else if (out_of_budget) {
      page.next_cursor = encode_cursor({hi, 0});  // every record from hi on was looked at
    }
    // The page's records, block by block, each block's in its order.
    for (size_t i = 0; i < hits.size(); ++i) {
      hits[i].page_index = i;
    }
    std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.pos < b.pos; });
    page.records.resize(hits.size());
    auto block = c.stmt(kBlock, what);
    if (!block) {
      return tl::unexpected(block.error());
    }
    for (size_t i = 0; i < hits.size();) {
      const int64_t seq = hits[i].pos >> kSlotBits;
      Use u(*block);
      u.bind(1, seq);
      if (int brc = u.step(); brc != SQLITE_ROW) {
        return c.error(what, brc == SQLITE_DONE ? SQLITE_INTERNAL : brc);
      }
      BlockReader b(u.blob(1), u.blob(2), u.blob(3));
      for (; i < hits.size() && hits[i].pos >> kSlotBits == seq; ++i) {
        const auto slot = static_cast<size_t>(hits[i].pos & ((int64_t{1} << kSlotBits) - 1));
        if (auto ok = read_record(c, path_, b, seq, slot, u.view(0), q.with_bodies,
                                  page.records[hits[i].page_index]);
            !ok) {
          return tl::unexpected(ok.error());
        }
      }
    }
    return page;
  });
}

Result<std::optional<RequestRecord>> SqliteLogStore::find(Conn& c, std::string_view id,
                                                          bool bodies) const {
  using Out = std::optional<RequestRecord>;
  constexpr std::string_view what = "reading a record";
  // Looks for the id in one block (the row's router, heads, ids, tails from column `first`);
  // its record, or nullopt when not there.
  auto look = [&](int64_t seq, const Use& u, int first) -> Result<Out> {
    const size_t slot = find_id(u.blob(first + 2), id);
    if (slot == SIZE_MAX) {
      return Out();
    }
    BlockReader b(u.blob(first + 1), u.blob(first + 2), u.blob(first + 3));
    RequestRecord r;
    if (auto ok = read_record(c, path_, b, seq, slot, u.view(first), bodies, r); !ok) {
      return tl::unexpected(ok.error());
    }
    return Out(std::move(r));
  };
  std::vector<int64_t> named;
  {
    auto s = c.stmt(kNamedId, what);
    if (!s) {
      return tl::unexpected(s.error());
    }
    Use u(*s);
    u.bind(1, id);
    int rc;
    while ((rc = u.step()) == SQLITE_ROW) {
      named.push_back(u.i64(0));
    }
    if (rc != SQLITE_DONE) {
      return c.error(what, rc);
    }
  }
  for (int64_t seq : named) {
    auto s = c.stmt(kBlock, what);
    if (!s) {
      return tl::unexpected(s.error());
    }
    Use u(*s);
    u.bind(1, seq);
    if (int rc = u.step(); rc == SQLITE_ROW) {
      auto found = look(seq, u, 0);
      if (!found || *found) {
        return found;
      }
    } else if (rc != SQLITE_DONE) {
      return c.error(what, rc);
    }
  }
  const int64_t ms = request_id_ms(id);
  if (ms < 0) {
    return Out();
  }
  auto s = c.stmt(kBlocksAt, what);
  if (!s) {
    return tl::unexpected(s.error());
  }
  Use u(*s);
  u.bind(1, ms);
  u.bind(2, saturating_add(ms, max_span_.load()));
  int rc;
  while ((rc = u.step()) == SQLITE_ROW) {
    auto found = look(u.i64(0), u, 1);
    if (!found || *found) {
      return found;
    }
  }
  if (rc != SQLITE_DONE) {
    return c.error(what, rc);
  }
  return Out();
}

Result<std::optional<RequestRecord>> SqliteLogStore::get(std::string_view id) const {
  return read("reading a record", [&](Conn& c) { return find(c, id, true); });
}

}  // namespace sy::store::sqlite_log
