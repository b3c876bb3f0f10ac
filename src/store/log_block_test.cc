#include "store/log_block.h"

#include <vector>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "telemetry/record_json.h"

namespace sy::store::sqlite_log {
namespace {

using telemetry::RequestRecord;

std::string json(const RequestRecord& r) {
  std::string out;
  telemetry::append_json(out, r, false);
  return out;
}

// Records that repeat some strings of the one before and change others, in every field.
std::vector<RequestRecord> records() {
  std::vector<RequestRecord> out;
  for (int i = 0; i < 40; ++i) {
    RequestRecord r;
    r.id = fmt::format("req_{:03}", i);
    r.time_ms = 1'700'000'000'000 + (i % 5 == 3 ? -7'000 : i * 13);  // some out of order
    r.key_id = i % 3 ? "k_1" : "k_2";
    r.user = i % 4 == 0 ? "" : fmt::format("user \"{}\"\n", i / 2);
    r.endpoint = "chat.completions";
    r.dialect = i % 2 ? "openai" : "anthropic";
    r.router_version = i % 6;
    r.route = i % 7 ? "main" : "";
    r.variant = i % 2 ? "a" : "b";
    r.reason = fmt::format("weight {}", i % 3);
    r.requested_model = "switchyard/r";
    r.model = i % 9 == 0 ? "" : "openai/gpt-4o";
    r.provider = r.model.empty() ? "" : "openai";
    r.stream = i % 2 == 0;
    r.status = i % 9 == 0 ? 502 : 200;
    r.error_class = i % 9 == 0 ? "upstream_5xx" : "";
    r.ttft_ms = i % 4 == 1 ? -1 : i * 10;
    r.latency_ms = i * 100;
    r.tokens_in = i * 1000;
    r.tokens_out = -i;
    r.tokens_cached = i % 2;
    r.tokens_reasoning = int64_t{1} << 40;
    r.cost_usd = (0.1 + 0.2) * i;
    r.metadata_json = i % 5 ? "{}" : R"({"plan":"free"})";
    for (int k = 0; k < i % 3; ++k) {
      r.attempts.push_back({.model = fmt::format("m{}", k), .provider = "p", .status = 429 + k,
                            .error_class = k ? "" : "rate_limited", .start_ms = k * 5,
                            .duration_ms = 40, .ttft_ms = k ? 12 : -1, .served = k == 1,
                            .tokens_in = 10, .tokens_out = 20, .cost_usd = 1e-300});
    }
    if (i % 8 == 5) {
      r.tts_engine = "espeak";
      r.tts_chars = 88;
      r.audio_seconds = 5.25;
      r.tts_first_audio_ms = 140;
      r.tts_cost_usd = 0.001;
      r.tts_error = i % 16 == 5 ? "openai-tts: 503" : "";
    }
    if (i % 10 == 4) r.request_body = "{}";
    out.push_back(std::move(r));
  }
  return out;
}

TEST(LogBlock, EveryRecordComesBackWhole) {
  const std::vector<RequestRecord> in = records();
  BlockWriter w;
  for (const RequestRecord& r : in) w.add(r);
  EXPECT_EQ(w.size(), in.size());
  BlockReader b(w.heads(), w.ids(), w.tails());
  size_t n = 0;
  for (; b.next(); ++n) {
    ASSERT_LT(n, in.size());
    const RequestRecord& want = in[n];
    const BlockHead& h = b.head();
    EXPECT_EQ(b.slot(), n);
    EXPECT_EQ(find_id(w.ids(), want.id), n);
    EXPECT_EQ(h.time_ms, want.time_ms);
    EXPECT_EQ(h.user, want.user);
    EXPECT_EQ(h.route, want.route);
    EXPECT_EQ(h.variant, want.variant);
    EXPECT_EQ(h.model, want.model);
    EXPECT_EQ(h.failed, want.status >= 400);
    EXPECT_EQ(h.bodies, !want.request_body.empty());
    EXPECT_EQ(h.spoken, want.spoken());
    EXPECT_EQ(h.cost_usd, want.cost_usd);
    if (n % 3 == 2) continue;  // skipped tails still carry the strings later records repeat
    RequestRecord got;
    ASSERT_TRUE(b.record(got)) << n;
    RequestRecord expected = want;
    expected.request_body.clear();  // bodies are stored beside the block
    EXPECT_EQ(json(got), json(expected)) << n;
    EXPECT_EQ(got.attempts.size(), want.attempts.size());
    EXPECT_FALSE(b.record(got)) << "a tail is read once";
  }
  EXPECT_TRUE(b.ok());
  EXPECT_EQ(n, in.size());
}

TEST(LogBlock, AClearedWriterStartsAFreshBlock) {
  const std::vector<RequestRecord> in = records();
  BlockWriter w;
  w.add(in[1]);
  w.clear();
  w.add(in[2]);  // repeats nothing of in[1]: the reader has no previous record
  BlockReader b(w.heads(), w.ids(), w.tails());
  ASSERT_TRUE(b.next());
  RequestRecord got;
  ASSERT_TRUE(b.record(got));
  EXPECT_EQ(json(got), json(in[2]));
  EXPECT_FALSE(b.next());
  EXPECT_TRUE(b.ok());
}

// Every truncation and a few corruptions: the reader stops and says so, never reads past.
TEST(LogBlock, ADamagedBlockIsReportedNotOverread) {
  const std::vector<RequestRecord> in = records();
  BlockWriter w;
  for (const RequestRecord& r : in) w.add(r);
  const std::string heads(w.heads()), ids(w.ids()), tails(w.tails());
  for (size_t cut = 0; cut < heads.size(); cut += 7) {
    BlockReader b(std::string_view(heads).substr(0, cut), ids, tails);
    size_t n = 0;
    while (b.next()) ++n;
    EXPECT_LT(n, in.size()) << cut;  // the store then sees fewer than the block's count
  }
  for (size_t cut = 0; cut < tails.size(); cut += 5) {
    BlockReader b(heads, ids, std::string_view(tails).substr(0, cut));
    bool all = true;
    while (b.next()) {
      RequestRecord got;
      all = b.record(got) && all;
    }
    EXPECT_FALSE(all) << cut;
  }
  for (size_t cut = 0; cut < ids.size(); cut += 3) {
    const std::string_view cut_ids = std::string_view(ids).substr(0, cut);
    BlockReader b(heads, cut_ids, tails);
    bool all = true;
    while (b.next()) {
      RequestRecord got;
      all = b.record(got) && all;
    }
    EXPECT_FALSE(all) << cut;
    EXPECT_EQ(find_id(cut_ids, in.back().id), SIZE_MAX) << cut;
  }
  std::string bad = heads;
  bad[0] = static_cast<char>(0xff);  // a record's size far beyond the block
  BlockReader b(bad, ids, tails);
  EXPECT_FALSE(b.next());
  EXPECT_FALSE(b.ok());
  EXPECT_EQ(find_id(std::string(1, '\xff'), "req_000"), SIZE_MAX);
  EXPECT_EQ(find_id(ids, "req_999"), SIZE_MAX);
}

}  // namespace
}  // namespace sy::store::sqlite_log
