#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/log_store.h"

#include <unistd.h>

namespace sy::store {
namespace {

using telemetry::AttemptRecord;
using telemetry::OutcomeEvent;
using telemetry::RequestRecord;

constexpr int64_t kT0 = 1'700'000'000'000;  // a fixed "now" for the data sets
constexpr int64_t kDay = 86'400'000;

RequestRecord rec(std::string id, int64_t time_ms, std::string router = "r", std::string route = "main",
                  std::string variant = "a", std::string user = "u1", int status = 200) {
  RequestRecord r;
  r.id = std::move(id);
  r.time_ms = time_ms;
  r.router = std::move(router);
  r.route = std::move(route);
  r.variant = std::move(variant);
  r.user = std::move(user);
  r.status = status;
  r.model = "openai/gpt-4o";
  r.metadata_json = "{}";
  return r;
}

OutcomeEvent outcome(std::string event_id, std::string request_id, std::string user, std::string name,
                     double value, int64_t time_ms = kT0, std::string router = "") {
  return {std::move(event_id), time_ms, std::move(request_id), std::move(user), std::move(router),
          std::move(name), value};
}

std::vector<std::string> ids(const LogPage& p) {
  std::vector<std::string> out;
  for (const auto& r : p.records) {
    out.push_back(r.id);
  }
  return out;
}

void expect_same(const RequestRecord& a, const RequestRecord& b) {
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.time_ms, b.time_ms);
  EXPECT_EQ(a.key_id, b.key_id);
  EXPECT_EQ(a.user, b.user);
  EXPECT_EQ(a.endpoint, b.endpoint);
  EXPECT_EQ(a.dialect, b.dialect);
  EXPECT_EQ(a.router, b.router);
  EXPECT_EQ(a.router_version, b.router_version);
  EXPECT_EQ(a.route, b.route);
  EXPECT_EQ(a.variant, b.variant);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.requested_model, b.requested_model);
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.provider, b.provider);
  ASSERT_EQ(a.attempts.size(), b.attempts.size());
  for (size_t i = 0; i < a.attempts.size(); ++i) {
    const AttemptRecord& x = a.attempts[i];
    const AttemptRecord& y = b.attempts[i];
    EXPECT_EQ(x.model, y.model) << i;
    EXPECT_EQ(x.provider, y.provider) << i;
    EXPECT_EQ(x.status, y.status) << i;
    EXPECT_EQ(x.error_class, y.error_class) << i;
    EXPECT_EQ(x.start_ms, y.start_ms) << i;
    EXPECT_EQ(x.duration_ms, y.duration_ms) << i;
    EXPECT_EQ(x.ttft_ms, y.ttft_ms) << i;
    EXPECT_EQ(x.served, y.served) << i;
    EXPECT_EQ(x.tokens_in, y.tokens_in) << i;
    EXPECT_EQ(x.tokens_out, y.tokens_out) << i;
    EXPECT_EQ(x.cost_usd, y.cost_usd) << i;  // exact: shortest round-trip text
  }
  EXPECT_EQ(a.stream, b.stream);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.error_class, b.error_class);
  EXPECT_EQ(a.ttft_ms, b.ttft_ms);
  EXPECT_EQ(a.latency_ms, b.latency_ms);
  EXPECT_EQ(a.tokens_in, b.tokens_in);
  EXPECT_EQ(a.tokens_out, b.tokens_out);
  EXPECT_EQ(a.tokens_cached, b.tokens_cached);
  EXPECT_EQ(a.tokens_reasoning, b.tokens_reasoning);
  EXPECT_EQ(a.cost_usd, b.cost_usd);
  EXPECT_EQ(a.metadata_json, b.metadata_json);
  EXPECT_EQ(a.request_body, b.request_body);
  EXPECT_EQ(a.response_body, b.response_body);
}

class LogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sy_log_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "log.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<LogStore> open(LogStoreOptions o = {}, std::string path = {}) {
    if (!o.now_ms) {
      o.now_ms = [this] { return now_; };
    }
    auto s = open_sqlite_log(path.empty() ? path_ : path, std::move(o));
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }

  void append(LogStore& s, std::vector<RequestRecord> records) {
    auto n = s.append(records);
    ASSERT_TRUE(n) << n.error().message;
  }

  LogPage page(const LogStore& s, LogQuery q) {
    auto p = s.query(q);
    EXPECT_TRUE(p) << p.error().message;
    return p ? std::move(*p) : LogPage{};
  }

  // Every record matching q, page by page.
  std::vector<std::string> all_pages(const LogStore& s, LogQuery q) {
    std::vector<std::string> out;
    for (int guard = 0; guard < 1000; ++guard) {
      LogPage p = page(s, q);
      for (auto& id : ids(p)) {
        out.push_back(id);
      }
      if (p.next_cursor.empty()) {
        break;
      }
      q.cursor = p.next_cursor;
    }
    return out;
  }

  int64_t raw_count(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  }

  std::filesystem::path dir_;
  std::string path_;
  int64_t now_ = kT0;
};

TEST_F(LogStoreTest, RoundTripsEveryField) {
  auto s = open();
  ASSERT_TRUE(s);
  RequestRecord r;
  r.id = "req_01JD3K8Z4X7Q2M9N5P6R7S8T9V";
  r.time_ms = kT0 + 123;
  r.key_id = "k_9f2c";
  r.user = "user \"42\"";
  r.endpoint = "chat.completions";
  r.dialect = "openai";
  r.router = "support";
  r.router_version = 7;
  r.route = "premium";
  r.variant = "b";
  r.reason = "route 'premium': metadata.tier == 'gold'\n";
  r.requested_model = "switchyard/support";
  r.model = "anthropic/claude-sonnet-4-5";
  r.provider = "anthropic";
  r.attempts = {
      {"openai/gpt-4o", "openai", 503, "upstream_5xx", 0, 812, -1, false, 0, 0, 0},
      {"anthropic/claude-sonnet-4-5", "anthropic", 200, "", 815, 2400, 310, true, 1200, 345,
       0.1 + 0.2},
      {"x/\"quoted\"\\\t\x01 ünï", "", 0, "ttft_timeout", -5, 0, 0, false, -1, 1, 1e-300},
  };
  r.stream = true;
  r.status = 200;
  r.error_class = "stream_broke";
  r.ttft_ms = 1125;
  r.latency_ms = 3215;
  r.tokens_in = 1200;
  r.tokens_out = 345;
  r.tokens_cached = 1024;
  r.tokens_reasoning = 99;
  r.cost_usd = 0.0123456789012345;
  r.metadata_json = R"({"tier":"gold","n":[1,2]})";
  r.request_body = R"({"model":"switchyard/support","messages":[]})";
  r.response_body = std::string("data: {}\n\n\0tail", 15);
  RequestRecord bare = rec("req_bare", kT0, "", "", "", "", 0);
  bare.metadata_json = "";
  bare.model = "";
  append(*s, {r, bare});

  auto got = s->get(r.id);
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_TRUE(*got);
  expect_same(**got, r);
  auto got_bare = s->get("req_bare");
  ASSERT_TRUE(got_bare && *got_bare);
  expect_same(**got_bare, bare);
  auto missing = s->get("req_missing");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);

  // Pages leave the bodies out unless asked.
  LogPage p = page(*s, {.user = r.user});
  ASSERT_EQ(p.records.size(), 1u);
  EXPECT_EQ(p.records[0].request_body, "");
  EXPECT_EQ(p.records[0].response_body, "");
  EXPECT_EQ(p.records[0].attempts.size(), 3u);
  p = page(*s, {.user = r.user, .with_bodies = true});
  ASSERT_EQ(p.records.size(), 1u);
  expect_same(p.records[0], r);
}

TEST_F(LogStoreTest, StoresEveryRecordWithAnId) {
  auto s = open();
  ASSERT_TRUE(s);
  std::vector<RequestRecord> batch = {rec("a", kT0), rec("b", kT0), rec("a", kT0 + 5), rec("", kT0)};
  auto n = s->append(batch);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 3u);  // ids are the gateway's, unique: a repeated one is kept, a missing one not
  auto a = s->get("a");
  ASSERT_TRUE(a && *a);
  EXPECT_EQ((*a)->time_ms, kT0);  // the first stored
  EXPECT_EQ(all_pages(*s, {}), (std::vector<std::string>{"a", "b", "a"}));
}

// A gateway request id as new_request_id() makes it: the millisecond `ms`, then `n`.
std::string gateway_id(int64_t ms, int n) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::string id = "req_";
  for (int i = 9; i >= 0; --i) id += kAlphabet[(ms >> (i * 5)) & 31];
  for (int i = 15; i >= 0; --i) id += i < 13 ? kAlphabet[(static_cast<uint64_t>(n) >> (i * 5)) & 31] : '0';
  return id;
}

// A batch of more than two blocks' worth, of three routers (one of them none), with spoken
// records, bodies, ids of the gateway's form (found through their time), others (and one of
// the gateway's form whose time differs), and a record whose outcome came first: every field
// comes back, and pages list them in the order stored: router by router, each in the batch's
// order, after the record stored before.
TEST_F(LogStoreTest, ALargeBatchKeepsEveryRecordAndItsOrder) {
  auto s = open();
  ASSERT_TRUE(s);
  auto make = [](int i) {
    const std::string router = i % 3 == 0 ? "" : i % 3 == 1 ? "r" : "s";
    RequestRecord r = rec(i % 2 ? gateway_id(kT0, i) : fmt::format("m{:04}", i), kT0, router, "main",
                          i % 2 ? "a" : "b", fmt::format("u{}", i % 7), i % 9 == 0 ? 502 : 200);
    r.key_id = "k_1";
    r.endpoint = "chat.completions";
    r.dialect = "openai";
    r.reason = fmt::format("weight {}", i % 4);
    r.requested_model = "switchyard/r";
    r.provider = "openai";
    r.attempts = {{.model = "openai/gpt-4o", .provider = "openai", .status = r.status, .duration_ms = i,
                   .served = true, .tokens_in = i, .tokens_out = 2 * i, .cost_usd = i * 1e-6}};
    r.error_class = i % 9 == 0 ? "upstream_5xx" : "";
    r.ttft_ms = i % 5 == 0 ? -1 : i;
    r.latency_ms = 10 * i;
    r.tokens_in = i;
    r.tokens_out = 2 * i;
    r.cost_usd = i * 1e-6;
    r.metadata_json = fmt::format(R"({{"n":{}}})", i % 3);
    return r;
  };
  append(*s, {make(10)});
  ASSERT_TRUE(s->append_outcomes(std::vector<OutcomeEvent>{outcome("o-22", "m0022", "", "csat", 5)}));
  std::vector<RequestRecord> batch;
  for (int i = 0; i < 1600; ++i) {
    if (i != 10) batch.push_back(make(i));
  }
  batch[40].tts_engine = "espeak";
  batch[40].tts_chars = 12;
  batch[120].request_body = "{}";
  batch[121].response_body = "data: [DONE]";
  batch[123].time_ms = kT0 + 1;  // a gateway id whose record has another time: found by name
  auto n = s->append(batch);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, batch.size());

  std::vector<std::string> want;
  want.push_back(batch[123].id);  // the newest
  for (const char* router : {"s", "r", ""}) {  // stored router by router, first seen first
    for (size_t i = batch.size(); i-- > 0;) {
      if (batch[i].router == router && i != 123) want.push_back(batch[i].id);
    }
  }
  want.push_back(make(10).id);  // stored first
  EXPECT_EQ(all_pages(*s, {.limit = 70}), want);
  for (const RequestRecord& r : batch) {
    auto got = s->get(r.id);
    ASSERT_TRUE(got && *got) << r.id;
    expect_same(**got, r);
    EXPECT_EQ((*got)->tts_chars, r.tts_chars) << r.id;
  }
  auto stats = s->variant_stats("r", kT0, kT0 + 2);
  ASSERT_TRUE(stats);
  ASSERT_EQ(stats->size(), 2u);
  EXPECT_EQ((*stats)[0].requests + (*stats)[1].requests, 533);  // i % 3 == 1, 10 included
  EXPECT_TRUE((*stats)[0].outcomes.empty());  // variant a
  ASSERT_EQ((*stats)[1].outcomes.size(), 1u);  // variant b: m0022's csat, which came before it
  EXPECT_EQ((*stats)[1].outcomes[0].name, "csat");
  EXPECT_EQ((*stats)[1].outcomes[0].sum, 5);
}

TEST_F(LogStoreTest, EachFilter) {
  auto s = open();
  ASSERT_TRUE(s);
  auto with_model = [](RequestRecord r, std::string model) {
    r.model = std::move(model);
    return r;
  };
  auto with_error = [](RequestRecord r, std::string error_class) {
    r.error_class = std::move(error_class);
    return r;
  };
  append(*s, {
                 rec("1", kT0 + 1, "r", "main", "a", "u1"),
                 rec("2", kT0 + 2, "r", "main", "b", "u2", 429),
                 rec("3", kT0 + 3, "r", "cheap", "a", "u1"),
                 with_model(rec("4", kT0 + 4, "q", "main", "a", "u3"), "anthropic/claude"),
                 with_error(rec("5", kT0 + 5, "q", "main", "a", "u1"), "stream_broke"),
                 rec("6", kT0 + 6, "", "", "", "u2", 500),
             });
  using V = std::vector<std::string>;
  EXPECT_EQ(ids(page(*s, {})), (V{"6", "5", "4", "3", "2", "1"}));
  EXPECT_EQ(ids(page(*s, {.since_ms = kT0 + 2, .until_ms = kT0 + 5})), (V{"4", "3", "2"}));
  EXPECT_EQ(ids(page(*s, {.router = "r"})), (V{"3", "2", "1"}));
  EXPECT_EQ(ids(page(*s, {.router = "r", .route = "main"})), (V{"2", "1"}));
  EXPECT_EQ(ids(page(*s, {.router = "r", .variant = "a"})), (V{"3", "1"}));
  EXPECT_EQ(ids(page(*s, {.route = "main", .variant = "a"})), (V{"5", "4", "1"}));
  EXPECT_EQ(ids(page(*s, {.model = "anthropic/claude"})), (V{"4"}));
  EXPECT_EQ(ids(page(*s, {.router = "q", .model = "openai/gpt-4o"})), (V{"5"}));
  EXPECT_EQ(ids(page(*s, {.user = "u1"})), (V{"5", "3", "1"}));
  EXPECT_EQ(ids(page(*s, {.router = "q", .user = "u1"})), (V{"5"}));
  EXPECT_EQ(ids(page(*s, {.status = 429})), (V{"2"}));
  EXPECT_EQ(ids(page(*s, {.errors_only = true})), (V{"6", "5", "2"}));
  EXPECT_EQ(ids(page(*s, {.user = "u2", .errors_only = true, .limit = 1})), (V{"6"}));
  EXPECT_EQ(ids(page(*s, {.router = "nope"})), V{});
}

TEST_F(LogStoreTest, PaginatesNewestFirstWhileRecordsArrive) {
  auto s = open();
  ASSERT_TRUE(s);
  std::vector<RequestRecord> batch;
  for (int i = 0; i < 25; ++i) {
    batch.push_back(rec(fmt::format("old{:02}", i), kT0 + i / 3));  // ties of three
  }
  append(*s, batch);
  std::vector<std::string> seen;
  LogQuery q{.router = "r", .limit = 10};
  LogPage p = page(*s, q);
  ASSERT_EQ(p.records.size(), 10u);
  EXPECT_EQ(p.records.front().id, "old24");
  for (auto& id : ids(p)) {
    seen.push_back(id);
  }
  // Between pages: newer records (after the page: never shown on later pages) and a late one
  // older than the cursor (shown where it belongs).
  append(*s, {rec("new1", kT0 + 100), rec("late", kT0 + 1)});
  for (q.cursor = p.next_cursor; !q.cursor.empty(); q.cursor = p.next_cursor) {
    p = page(*s, q);
    for (auto& id : ids(p)) {
      seen.push_back(id);
    }
    append(*s, {rec(fmt::format("new{}", seen.size()), kT0 + 200)});
  }
  ASSERT_EQ(seen.size(), 26u);
  std::vector<std::string> sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "a record shown twice";
  EXPECT_NE(std::find(seen.begin(), seen.end(), "late"), seen.end());
  EXPECT_EQ(std::find(seen.begin(), seen.end(), "new1"), seen.end());
  // Newest first, insertion order breaking ties (late: same time as old03..05, stored after them).
  auto at = [&](const std::string& id) { return std::find(seen.begin(), seen.end(), id) - seen.begin(); };
  EXPECT_LT(at("old05"), at("old04"));
  EXPECT_LT(at("late"), at("old05"));
  EXPECT_LT(at("old03"), at("old02"));
  EXPECT_EQ(seen.back(), "old00");
}

TEST_F(LogStoreTest, ScanBudgetEndsAPageEarlyAndPagingGoesOn) {
  auto s = open({.scan_budget_rows = 4});
  ASSERT_TRUE(s);
  std::vector<RequestRecord> batch;
  for (int i = 0; i < 20; ++i) {
    batch.push_back(rec(fmt::format("{:02}", i), kT0 + i * 1000, "r", "main", "a", "u", i % 7 == 0 ? 500 : 200));
  }
  append(*s, batch);
  LogPage first = page(*s, {.status = 500, .limit = 50});
  EXPECT_EQ(ids(first), std::vector<std::string>{});  // 19, then 18..16 examined: no 500 among them
  EXPECT_FALSE(first.next_cursor.empty());
  EXPECT_EQ(all_pages(*s, {.status = 500}), (std::vector<std::string>{"14", "07", "00"}));
  EXPECT_EQ(all_pages(*s, {.limit = 3}).size(), 20u);
}

// A user's blocks are listed by day: pages across days, gaps of empty days, a time range, and
// a budget that runs out between them.
TEST_F(LogStoreTest, UserPagesSpanDays) {
  std::vector<RequestRecord> batch;
  std::vector<std::string> expected;  // newest first
  for (int d : {0, 1, 5, 6, 30}) {
    for (int i = 0; i < 3; ++i) {
      std::string id = fmt::format("d{:02}-{}", d, i);
      batch.push_back(rec(id, kT0 - d * kDay + i, "r", "main", "a", "u1"));
      batch.push_back(rec("other-" + id, kT0 - d * kDay + i, "r", "main", "a", "u2"));
    }
    for (int i = 2; i >= 0; --i) {
      expected.push_back(fmt::format("d{:02}-{}", d, i));
    }
  }
  for (int64_t budget : {int64_t{100'000}, int64_t{2}}) {
    auto s = open({.scan_budget_rows = budget}, fmt::format("{}-{}", path_, budget));
    ASSERT_TRUE(s);
    append(*s, batch);
    EXPECT_EQ(all_pages(*s, {.user = "u1", .limit = 4}), expected) << budget;
    EXPECT_EQ(all_pages(*s, {.since_ms = kT0 - 6 * kDay + 1, .until_ms = kT0 + 3, .user = "u1", .limit = 2}),
              (std::vector<std::string>{"d00-2", "d00-1", "d00-0", "d01-2", "d01-1", "d01-0", "d05-2", "d05-1",
                                        "d05-0", "d06-2", "d06-1"}))
        << budget;
    EXPECT_EQ(all_pages(*s, {.until_ms = kT0 - 100 * kDay, .user = "u1"}), std::vector<std::string>{});
    EXPECT_EQ(all_pages(*s, {.user = "nobody"}), std::vector<std::string>{});
  }
}

TEST_F(LogStoreTest, RejectsBadQueries) {
  auto s = open();
  ASSERT_TRUE(s);
  append(*s, {rec("a", kT0), rec("b", kT0 + 1)});
  LogPage p = page(*s, {.limit = 1});
  ASSERT_FALSE(p.next_cursor.empty());
  auto expect_invalid = [&](LogQuery q, std::string_view param, std::string_view words) {
    auto r = s->query(q);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidRequest);
    EXPECT_EQ(r.error().param, param);
    EXPECT_NE(r.error().message.find(words), std::string::npos) << r.error().message;
  };
  expect_invalid({.limit = 0}, "limit", "between 1 and 1000");
  expect_invalid({.limit = 1001}, "limit", "(got 1001)");
  expect_invalid({.cursor = "garbage"}, "cursor", "pass next_cursor");
  expect_invalid({.cursor = p.next_cursor + "A"}, "cursor", "pass next_cursor");
  std::string flipped = p.next_cursor;
  flipped[0] = flipped[0] == 'A' ? 'B' : 'A';  // another version byte
  expect_invalid({.cursor = flipped}, "cursor", "pass next_cursor");
  std::string bad_char = p.next_cursor;
  bad_char[5] = '+';  // base64, not base64url
  expect_invalid({.cursor = bad_char}, "cursor", "pass next_cursor");
  expect_invalid({.since_ms = 5, .until_ms = 4}, "since", "swap them");
  expect_invalid({.status = 42}, "status", "100..599");
  EXPECT_EQ(ids(page(*s, {.limit = 1, .cursor = p.next_cursor})), std::vector<std::string>{"a"});
  EXPECT_EQ(ids(page(*s, {.limit = 1000})).size(), 2u);
  auto stats = s->variant_stats("", 0, 1);
  ASSERT_FALSE(stats);
  EXPECT_EQ(stats.error().code, ErrorCode::kInvalidRequest);
}

TEST_F(LogStoreTest, OutcomesAreIdempotentByEventId) {
  auto s = open();
  ASSERT_TRUE(s);
  std::vector<OutcomeEvent> batch = {outcome("e1", "req1", "", "csat", 4), outcome("e2", "", "u1", "conversion", 1),
                                     outcome("e1", "req1", "", "csat", 1)};
  auto n = s->append_outcomes(batch);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 2u);
  n = s->append_outcomes(batch);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
  // The request arrives after its outcome: the first e1 counts, once.
  append(*s, {rec("req1", kT0), rec("req2", kT0, "r", "main", "a", "u1")});
  auto stats = s->variant_stats("r", kT0, kT0 + 1);
  ASSERT_TRUE(stats) << stats.error().message;
  ASSERT_EQ(stats->size(), 1u);
  ASSERT_EQ((*stats)[0].outcomes.size(), 2u);
  EXPECT_EQ((*stats)[0].outcomes[1].name, "csat");
  EXPECT_EQ((*stats)[0].outcomes[1].n, 1);
  EXPECT_EQ((*stats)[0].outcomes[1].sum, 4);
}

TEST_F(LogStoreTest, RefusesInvalidOutcomeBatches) {
  auto s = open();
  ASSERT_TRUE(s);
  struct Case {
    OutcomeEvent e;
    std::string_view words;
  };
  std::vector<Case> cases = {
      {outcome("", "req", "", "csat", 1), "no event_id"},
      {outcome("e", "req", "", "", 1), "no name"},
      {outcome("e", "", "", "csat", 1), "neither request_id nor user"},
      {outcome("e", "req", "", "csat", std::nan("")), "not a finite number"},
  };
  for (const Case& c : cases) {
    std::vector<OutcomeEvent> batch = {outcome("ok", "req", "", "csat", 1), c.e};
    auto n = s->append_outcomes(batch);
    ASSERT_FALSE(n) << c.words;
    EXPECT_EQ(n.error().code, ErrorCode::kInvalidRequest);
    EXPECT_NE(n.error().message.find("outcome 1"), std::string::npos) << n.error().message;
    EXPECT_NE(n.error().message.find(c.words), std::string::npos) << n.error().message;
  }
  auto n = s->append_outcomes(std::vector<OutcomeEvent>{outcome("ok", "req", "", "csat", 1)});
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);  // nothing of the refused batches was written
}

// A fixed data set, computed by hand. Router "r", window [kT0, kT0 + 1000).
//   main/a: a1..a5 TTFT 100,200,300,400,500 (a5 none: -1 → 4 values), latency 1000..5000, a3
//           failed (status 502); cost 0.01 each; users u1,u1,u2,u3,"".
//   main/b: b1..b3 TTFT 50,60,70, latency 700,800,900, b2 error_class set (status 200);
//           cost 0.02 each; users u1,u2,u2.
//   Outside: a record at kT0+1000 (window end), one at kT0-1, one of router "other".
// Nearest rank (the ceil(p·n)-th smallest):
//   a TTFT {100,200,300,400}: p50 rank 2 → 200, p95 rank 4 → 400. Latency of the non-failed
//   {1000,2000,4000,5000}: p50 rank 2 → 2000, p95 rank 4 → 5000.
//   b TTFT {50,60,70}: p50 rank 2 → 60, p95 rank 3 → 70. Latency {700,900}: p50 → 700, p95 → 900.
// Users: u1 saw a twice (last kT0+2), b once (kT0+10) → a. u2 saw a once (kT0+3), b twice → b.
//   u3 saw a once → a. Distinct: a {u1,u2,u3} = 3; b {u1,u2} = 2.
// Outcomes: csat 4 on a1, csat 2 on b1, csat 5 on b3 (before b3 is stored), csat 1 on the
//   outside record (not counted); conversion 1 by u1 (router r) → a, conversion 1 by u2 (router
//   "") → b, conversion 0 by u3 at kT0+2000 (outside the window) → not counted, conversion 1 by
//   u1 of router "other" → not counted, conversion 1 by u9 (not served) → not counted.
TEST_F(LogStoreTest, VariantStatsMatchAHandComputation) {
  auto s = open();
  ASSERT_TRUE(s);
  auto r = [](std::string id, int64_t t, std::string variant, std::string user, int64_t ttft, int64_t latency,
              double cost, int status = 200, std::string error_class = "") {
    RequestRecord x = rec(std::move(id), kT0 + t, "r", "main", std::move(variant), std::move(user), status);
    x.ttft_ms = ttft;
    x.latency_ms = latency;
    x.cost_usd = cost;
    x.error_class = std::move(error_class);
    return x;
  };
  auto e = s->append_outcomes(std::vector<OutcomeEvent>{outcome("o-b3", "b3", "", "csat", 5)});
  ASSERT_TRUE(e);
  append(*s, {
                 r("a1", 1, "a", "u1", 100, 1000, 0.01),
                 r("a2", 2, "a", "u1", 200, 2000, 0.01),
                 r("a3", 3, "a", "u2", 300, 3000, 0.01, 502, "upstream_5xx"),
                 r("a4", 4, "a", "u3", 400, 4000, 0.01),
                 r("a5", 5, "a", "", -1, 5000, 0.01),
                 r("b1", 6, "b", "u1", 50, 700, 0.02),
                 r("b2", 7, "b", "u2", 60, 800, 0.02, 200, "stream_broke"),
                 r("b3", 10, "b", "u2", 70, 900, 0.02),
                 r("late", 1000, "a", "u1", 1, 1, 1),
                 r("early", -1, "b", "u1", 1, 1, 1),
                 rec("other", kT0 + 5, "other", "main", "a", "u1"),
             });
  e = s->append_outcomes(std::vector<OutcomeEvent>{
      outcome("o-a1", "a1", "", "csat", 4),
      outcome("o-b1", "b1", "", "csat", 2),
      outcome("o-late", "late", "", "csat", 1),
      outcome("c-u1", "", "u1", "conversion", 1, kT0 + 500, "r"),
      outcome("c-u2", "", "u2", "conversion", 1, kT0 + 600, ""),
      outcome("c-u3", "", "u3", "conversion", 0, kT0 + 2000, "r"),
      outcome("c-u1-other", "", "u1", "conversion", 1, kT0 + 500, "other"),
      outcome("c-u9", "", "u9", "conversion", 1, kT0 + 500, "r"),
  });
  ASSERT_TRUE(e) << e.error().message;
  auto stats = s->variant_stats("r", kT0, kT0 + 1000);
  ASSERT_TRUE(stats) << stats.error().message;
  ASSERT_EQ(stats->size(), 2u);
  const VariantStats& a = (*stats)[0];
  const VariantStats& b = (*stats)[1];
  EXPECT_EQ(a.route, "main");
  EXPECT_EQ(a.variant, "a");
  EXPECT_EQ(a.requests, 5);
  EXPECT_EQ(a.users, 3);
  EXPECT_EQ(a.errors, 1);
  EXPECT_EQ(a.ttft_p50_ms, 200);
  EXPECT_EQ(a.ttft_p95_ms, 400);
  EXPECT_EQ(a.latency_p50_ms, 2000);
  EXPECT_EQ(a.latency_p95_ms, 5000);
  EXPECT_NEAR(a.cost_usd, 0.05, 1e-12);
  ASSERT_EQ(a.outcomes.size(), 2u);
  EXPECT_EQ(a.outcomes[0].name, "conversion");
  EXPECT_EQ(a.outcomes[0].n, 1);  // u1
  EXPECT_EQ(a.outcomes[0].sum, 1);
  EXPECT_EQ(a.outcomes[1].name, "csat");
  EXPECT_EQ(a.outcomes[1].n, 1);
  EXPECT_EQ(a.outcomes[1].sum, 4);
  EXPECT_EQ(a.outcomes[1].sum_sq, 16);

  EXPECT_EQ(b.variant, "b");
  EXPECT_EQ(b.requests, 3);
  EXPECT_EQ(b.users, 2);
  EXPECT_EQ(b.errors, 1);
  EXPECT_EQ(b.ttft_p50_ms, 60);
  EXPECT_EQ(b.ttft_p95_ms, 70);
  EXPECT_EQ(b.latency_p50_ms, 700);
  EXPECT_EQ(b.latency_p95_ms, 900);
  EXPECT_NEAR(b.cost_usd, 0.06, 1e-12);
  ASSERT_EQ(b.outcomes.size(), 2u);
  EXPECT_EQ(b.outcomes[0].name, "conversion");
  EXPECT_EQ(b.outcomes[0].n, 1);  // u2
  EXPECT_EQ(b.outcomes[1].name, "csat");
  EXPECT_EQ(b.outcomes[1].n, 2);
  EXPECT_EQ(b.outcomes[1].sum, 7);
  EXPECT_EQ(b.outcomes[1].sum_sq, 29);

  // A tie: u5 saw a and b once each; the later one (a) takes the outcome.
  append(*s, {r("t1", 20, "b", "u5", 1, 1, 0), r("t2", 21, "a", "u5", 1, 1, 0)});
  ASSERT_TRUE(s->append_outcomes(std::vector<OutcomeEvent>{outcome("c-u5", "", "u5", "retained", 1, kT0 + 30)}));
  stats = s->variant_stats("r", kT0, kT0 + 1000);
  ASSERT_TRUE(stats);
  ASSERT_EQ((*stats)[0].outcomes.size(), 3u);
  EXPECT_EQ((*stats)[0].outcomes[2].name, "retained");
  EXPECT_EQ((*stats)[1].outcomes.size(), 2u);

  auto empty = s->variant_stats("r", kT0 + 5000, kT0 + 6000);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST_F(LogStoreTest, RetentionByAge) {
  auto s = open({.retention_chunk_rows = 7});
  ASSERT_TRUE(s);
  for (int d = 0; d < 10; ++d) {  // a day a batch: a block each
    std::vector<RequestRecord> batch;
    for (int i = 0; i < 5; ++i) {
      RequestRecord r = rec(fmt::format("d{}-{}", d, i), kT0 - d * kDay - i, "r", "main", "a", fmt::format("u{}", i));
      r.request_body = "body";
      batch.push_back(r);
    }
    append(*s, batch);
  }
  ASSERT_TRUE(s->append_outcomes(std::vector<OutcomeEvent>{
      outcome("old", "d8-0", "", "csat", 1), outcome("new", "d1-0", "", "csat", 1),
      outcome("old-user", "", "u1", "conversion", 1, kT0 - 9 * kDay)}));
  auto n = s->enforce_retention(3 * kDay + kDay / 2, 0);  // keeps days 0..3
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 30);
  EXPECT_EQ(all_pages(*s, {.limit = 7}).size(), 20u);
  auto kept = s->get("d3-4");
  ASSERT_TRUE(kept && *kept);
  EXPECT_EQ((*kept)->request_body, "body");
  auto gone = s->get("d4-0");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(*gone);
  EXPECT_EQ(raw_count("SELECT count(*) FROM block_bodies"), 20);
  EXPECT_EQ(raw_count("SELECT count(*) FROM block_keys WHERE day < 19672"), 0);  // kT0 - 3 days
  EXPECT_EQ(raw_count("SELECT count(*) FROM outcomes"), 1);
  n = s->enforce_retention(3 * kDay + kDay / 2, 0);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0);
  now_ += 100 * kDay;  // everything is old now
  n = s->enforce_retention(kDay, 0);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 20);
}

TEST_F(LogStoreTest, RetentionBySizeShrinksTheFile) {
  auto s = open({.retention_chunk_rows = 500});
  ASSERT_TRUE(s);
  EXPECT_EQ(raw_count("PRAGMA auto_vacuum"), 2);  // incremental, set at creation
  std::string body(2000, 'x');
  for (int b = 0; b < 10; ++b) {
    std::vector<RequestRecord> batch;
    for (int i = 0; i < 1000; ++i) {
      int k = b * 1000 + i;
      RequestRecord r = rec(fmt::format("req{:05}", k), kT0 + k, fmt::format("r{}", k % 3), "main", "a",
                            fmt::format("u{}", k % 97));
      r.response_body = body;
      batch.push_back(std::move(r));
    }
    append(*s, batch);
  }
  auto on_disk = [&] {
    return static_cast<int64_t>(std::filesystem::file_size(path_) + std::filesystem::file_size(path_ + "-wal"));
  };
  EXPECT_GT(on_disk(), 20 << 20);  // the database and its WAL
  constexpr int64_t kMax = 8 << 20;
  auto n = s->enforce_retention(0, kMax);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_GT(*n, 5000);
  EXPECT_LT(*n, 9500);
  EXPECT_LE(static_cast<int64_t>(std::filesystem::file_size(path_)), kMax);  // checkpointed, truncated
  EXPECT_LE(on_disk(), kMax + (64 << 20));  // the WAL is cut back to 64 MiB when it restarts
  int64_t used = (raw_count("PRAGMA page_count") - raw_count("PRAGMA freelist_count")) * raw_count("PRAGMA page_size");
  EXPECT_LE(used, kMax);
  // The newest stay, the oldest went.
  auto newest = s->get("req09999");
  ASSERT_TRUE(newest && *newest);
  auto oldest = s->get("req00000");
  ASSERT_TRUE(oldest);
  EXPECT_FALSE(*oldest);
  EXPECT_EQ(raw_count("SELECT sum(n) FROM blocks"), 10000 - *n);
  EXPECT_EQ(raw_count("SELECT count(*) FROM block_bodies"), 10000 - *n);
  // Within the limit now: nothing more goes.
  n = s->enforce_retention(0, kMax);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0);
}

// A log written by a version-3 build (a row per record) is moved into blocks at open: every
// field, bodies, speech, a pending outcome and the page order come through; the rows go.
TEST_F(LogStoreTest, AVersion3LogIsConvertedAtOpen) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  const std::string v3 = fmt::format(
      "PRAGMA page_size=8192; PRAGMA auto_vacuum=INCREMENTAL;"
      "CREATE TABLE log_schema_migrations(version INTEGER PRIMARY KEY, applied_at INTEGER);"
      "INSERT INTO log_schema_migrations VALUES(1, 0), (2, 0), (3, 0);"
      "CREATE TABLE requests(seq INTEGER PRIMARY KEY, id TEXT NOT NULL, time_ms INTEGER NOT NULL,"
      " key_id TEXT NOT NULL, user TEXT NOT NULL, endpoint TEXT NOT NULL, dialect TEXT NOT NULL,"
      " router TEXT NOT NULL, router_version INTEGER NOT NULL, route TEXT NOT NULL,"
      " variant TEXT NOT NULL, reason TEXT NOT NULL, requested_model TEXT NOT NULL,"
      " model TEXT NOT NULL, provider TEXT NOT NULL, attempts TEXT NOT NULL,"
      " stream INTEGER NOT NULL, status INTEGER NOT NULL, error_class TEXT NOT NULL,"
      " failed INTEGER NOT NULL, ttft_ms INTEGER NOT NULL, latency_ms INTEGER NOT NULL,"
      " tokens_in INTEGER NOT NULL, tokens_out INTEGER NOT NULL, tokens_cached INTEGER NOT NULL,"
      " tokens_reasoning INTEGER NOT NULL, cost_usd REAL NOT NULL, metadata TEXT NOT NULL,"
      " tts_engine TEXT NOT NULL DEFAULT '', tts_chars INTEGER NOT NULL DEFAULT 0,"
      " audio_seconds REAL NOT NULL DEFAULT 0, tts_first_audio_ms INTEGER NOT NULL DEFAULT -1,"
      " tts_cost_usd REAL NOT NULL DEFAULT 0, tts_error TEXT NOT NULL DEFAULT '');"
      "CREATE UNIQUE INDEX requests_id ON requests(id);"
      "CREATE TABLE bodies(seq INTEGER PRIMARY KEY, request_body TEXT, response_body TEXT);"
      "CREATE TRIGGER requests_bodies AFTER DELETE ON requests BEGIN"
      " DELETE FROM bodies WHERE seq = old.seq; END;"
      "CREATE TABLE outcomes(event_id TEXT NOT NULL, time_ms INTEGER NOT NULL,"
      " request_id TEXT NOT NULL, user TEXT NOT NULL, router TEXT NOT NULL, name TEXT NOT NULL,"
      " value REAL NOT NULL, at_router TEXT, at_ms INTEGER NOT NULL, route TEXT, variant TEXT);"
      "CREATE UNIQUE INDEX outcomes_event ON outcomes(event_id);"
      "CREATE INDEX outcomes_pending ON outcomes(request_id) WHERE at_router IS NULL;"
      "CREATE INDEX outcomes_at ON outcomes(at_router, at_ms, route, variant, user, name, value);"
      "CREATE INDEX outcomes_age ON outcomes(at_ms);"
      "INSERT INTO requests VALUES(1, 'old-1', {0}, 'k_1', 'ana', 'chat.completions', 'openai',"
      " 'support', 3, 'main', 'b', 'sticky', 'switchyard/support', 'openai/gpt-4o', 'openai',"
      " '[{{\"model\":\"openai/gpt-4o\",\"provider\":\"openai\",\"status\":200,"
      "\"ttft_ms\":80,\"served\":true,\"cost_usd\":0.25}}]', 1, 200, '', 0, 90, 400,"
      " 10, 20, 0, 0, 0.25, '{{\"plan\":\"free\"}}', '', 0, 0, -1, 0, '');"
      "INSERT INTO bodies VALUES(1, '{{}}', NULL);"
      "INSERT INTO requests VALUES(2, '{1}', {2}, '', '', 'messages', 'anthropic', '', 0, '', '',"
      " '', 'claude', 'anthropic/claude', 'anthropic', '[]', 0, 502, 'upstream_5xx', 1, -1, 30,"
      " 0, 0, 0, 0, 0, '{{}}', 'espeak', 12, 1.5, 70, 0.001, '');"
      "INSERT INTO outcomes VALUES('e1', {0}, 'old-1', '', '', 'csat', 4, 'support', {0}, 'main',"
      " 'b');"
      "INSERT INTO outcomes VALUES('e2', {0}, 'later', '', '', 'csat', 2, NULL, {0}, NULL, NULL);",
      kT0, gateway_id(kT0 + 5, 1), kT0 + 5);
  ASSERT_EQ(sqlite3_exec(db, v3.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);

  auto s = open();
  ASSERT_TRUE(s);
  EXPECT_EQ(raw_count("SELECT count(*) FROM sqlite_master WHERE name IN ('requests', 'bodies')"), 0);
  EXPECT_EQ(raw_count("SELECT max(version) FROM log_schema_migrations"), 4);
  EXPECT_EQ(all_pages(*s, {}), (std::vector<std::string>{gateway_id(kT0 + 5, 1), "old-1"}));
  auto old = s->get("old-1");
  ASSERT_TRUE(old && *old);
  const RequestRecord& r = **old;
  EXPECT_EQ(r.user, "ana");
  EXPECT_EQ(r.router, "support");
  EXPECT_EQ(r.router_version, 3);
  EXPECT_EQ(r.metadata_json, R"({"plan":"free"})");
  EXPECT_EQ(r.request_body, "{}");
  ASSERT_EQ(r.attempts.size(), 1u);
  EXPECT_EQ(r.attempts[0].ttft_ms, 80);
  EXPECT_TRUE(r.attempts[0].served);
  EXPECT_EQ(r.attempts[0].cost_usd, 0.25);
  auto spoken = s->get(gateway_id(kT0 + 5, 1));  // found through its time
  ASSERT_TRUE(spoken && *spoken);
  EXPECT_EQ((*spoken)->tts_engine, "espeak");
  EXPECT_EQ((*spoken)->audio_seconds, 1.5);
  EXPECT_EQ((*spoken)->error_class, "upstream_5xx");
  EXPECT_EQ(raw_count("SELECT count(*) FROM named_ids"), 1);  // old-1 only
  auto stats = s->variant_stats("support", kT0, kT0 + 1);
  ASSERT_TRUE(stats);
  ASSERT_EQ(stats->size(), 1u);
  EXPECT_EQ((*stats)[0].requests, 1);
  EXPECT_EQ((*stats)[0].users, 1);
  ASSERT_EQ((*stats)[0].outcomes.size(), 1u);
  EXPECT_EQ((*stats)[0].outcomes[0].sum, 4);
  // The outcome still waiting for its request finds it when it comes.
  RequestRecord later = rec("later", kT0 + 9, "support", "main", "a");
  append(*s, {later});
  stats = s->variant_stats("support", kT0, kT0 + 10);
  ASSERT_TRUE(stats);
  ASSERT_EQ(stats->size(), 2u);
  ASSERT_EQ((*stats)[0].outcomes.size(), 1u);
  EXPECT_EQ((*stats)[0].outcomes[0].sum, 2);  // variant a
}

TEST_F(LogStoreTest, ReopensAndRefusesANewerSchema) {
  {
    auto s = open();
    ASSERT_TRUE(s);
    append(*s, {rec("a", kT0)});
  }
  {
    auto s = open();  // migrations already applied: opens, keeps the data
    ASSERT_TRUE(s);
    auto a = s->get("a");
    ASSERT_TRUE(a && *a);
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO log_schema_migrations VALUES(99, 0)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = open_sqlite_log(path_);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("schema version 99 is newer"), std::string::npos) << s.error().message;
}

TEST_F(LogStoreTest, AnOutcomeWaitsForItsRequestAcrossARestart) {
  {
    auto s = open();
    ASSERT_TRUE(s);
    ASSERT_TRUE(s->append_outcomes(std::vector<OutcomeEvent>{outcome("o-x", "x", "", "csat", 3)}));
  }
  auto s = open();  // the outcome is still pending: the request it names has not come
  ASSERT_TRUE(s);
  append(*s, {rec("y", kT0 + 1, "r", "main", "a", "u1")});
  EXPECT_EQ(raw_count("SELECT count(*) FROM outcomes WHERE at_router IS NULL"), 1);
  append(*s, {rec("x", kT0 + 2, "r", "main", "b", "u2")});
  EXPECT_EQ(raw_count("SELECT count(*) FROM outcomes WHERE at_router IS NULL"), 0);
  auto stats = s->variant_stats("r", kT0, kT0 + 1000);
  ASSERT_TRUE(stats) << stats.error().message;
  ASSERT_EQ(stats->size(), 2u);
  ASSERT_EQ((*stats)[1].outcomes.size(), 1u);
  EXPECT_EQ((*stats)[1].outcomes[0].sum, 3);
}

TEST_F(LogStoreTest, ALockedDatabaseIsUnavailableAndReadsGoOn) {
  auto s = open({.busy_timeout_ms = 50});
  ASSERT_TRUE(s);
  append(*s, {rec("a", kT0)});
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto n = s->append(std::vector<RequestRecord>{rec("b", kT0)});
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(n.error().message.find(path_), std::string::npos) << n.error().message;
  auto o = s->append_outcomes(std::vector<OutcomeEvent>{outcome("e", "a", "", "csat", 1)});
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(ids(page(*s, {})), std::vector<std::string>{"a"});  // WAL: readers do not wait
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  n = s->append(std::vector<RequestRecord>{rec("b", kT0)});
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1u);
}

TEST_F(LogStoreTest, OpenFailsWithTheFileNamed) {
  auto s = open_sqlite_log((dir_ / "missing-dir" / "log.db").string());
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("missing-dir"), std::string::npos);
  EXPECT_NE(s.error().message.find("directory exists"), std::string::npos);
}

TEST_F(LogStoreTest, InMemory) {
  auto s = open({}, ":memory:");
  ASSERT_TRUE(s);
  append(*s, {rec("a", kT0), rec("b", kT0 + 1)});
  EXPECT_EQ(ids(page(*s, {})), (std::vector<std::string>{"b", "a"}));
  auto n = s->enforce_retention(1, 1);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 2);
}

// One writer appending while readers page and compute statistics on their own connections.
TEST_F(LogStoreTest, ConcurrentWriterAndReaders) {
  auto s = open();
  ASSERT_TRUE(s);
  constexpr int kBatches = 40;
  constexpr int kPerBatch = 50;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread writer([&] {
    for (int b = 0; b < kBatches; ++b) {
      std::vector<RequestRecord> batch;
      for (int i = 0; i < kPerBatch; ++i) {
        int k = b * kPerBatch + i;
        batch.push_back(rec(fmt::format("c{:05}", k), kT0 + k, "r", "main", k % 2 ? "a" : "b", fmt::format("u{}", k % 13)));
      }
      if (!s->append(batch)) {
        failures++;
      }
    }
    done = true;
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!done) {
        auto p = s->query({.router = "r", .limit = 20});
        auto st = s->variant_stats("r", 0, INT64_MAX);
        if (!p || !st) {
          failures++;
        }
      }
    });
  }
  writer.join();
  for (auto& t : readers) {
    t.join();
  }
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(all_pages(*s, {.router = "r", .limit = 1000}).size(), static_cast<size_t>(kBatches * kPerBatch));
  auto st = s->variant_stats("r", 0, INT64_MAX);
  ASSERT_TRUE(st);
  ASSERT_EQ(st->size(), 2u);
  EXPECT_EQ((*st)[0].requests + (*st)[1].requests, kBatches * kPerBatch);
}

}  // namespace
}  // namespace sy::store
