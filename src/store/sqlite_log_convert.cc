// convert_rows() of the SQLite log store: a version-3 log kept a row per record (`requests`,
// bodies in `bodies`). At open, its rows are read in insertion order and appended as blocks,
// as the telemetry writer would have, then the old tables are dropped, all in one write
// transaction: an interrupted conversion leaves the rows, and the next open starts it again.

#include <fmt/core.h>
#include <sqlite3.h>

#include "store/sqlite_log_store_impl.h"

namespace sy::store::sqlite_log {
namespace {

using telemetry::RequestRecord;

constexpr size_t kConvertBatch = 4096;

const std::string kHasRows =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'requests'";
const std::string kReadRows =
    "SELECT r.id, r.time_ms, r.key_id, r.user, r.endpoint, r.dialect, r.router, r.router_version,"
    " r.route, r.variant, r.reason, r.requested_model, r.model, r.provider, r.attempts, r.stream,"
    " r.status, r.error_class, r.ttft_ms, r.latency_ms, r.tokens_in, r.tokens_out,"
    " r.tokens_cached, r.tokens_reasoning, r.cost_usd, r.metadata, r.tts_engine, r.tts_chars,"
    " r.audio_seconds, r.tts_first_audio_ms, r.tts_cost_usd, r.tts_error, b.request_body,"
    " b.response_body FROM requests r LEFT JOIN bodies b ON b.seq = r.seq ORDER BY r.seq";
constexpr const char* kDropRows =
    "DROP TRIGGER requests_bodies; DROP TABLE bodies; DROP TABLE requests;";

Result<void> read_row(const Use& u, RequestRecord& r) {
  r.id = u.view(0);
  r.time_ms = u.i64(1);
  r.key_id = u.view(2);
  r.user = u.view(3);
  r.endpoint = u.view(4);
  r.dialect = u.view(5);
  r.router = u.view(6);
  r.router_version = u.i64(7);
  r.route = u.view(8);
  r.variant = u.view(9);
  r.reason = u.view(10);
  r.requested_model = u.view(11);
  r.model = u.view(12);
  r.provider = u.view(13);
  auto attempts = decode_attempts(u.view(14), r.id);
  if (!attempts) {
    return tl::unexpected(attempts.error());
  }
  r.attempts = std::move(*attempts);
  r.stream = u.i64(15) != 0;
  r.status = static_cast<int>(u.i64(16));
  r.error_class = u.view(17);
  r.ttft_ms = u.i64(18);
  r.latency_ms = u.i64(19);
  r.tokens_in = u.i64(20);
  r.tokens_out = u.i64(21);
  r.tokens_cached = u.i64(22);
  r.tokens_reasoning = u.i64(23);
  r.cost_usd = u.dbl(24);
  r.metadata_json = u.view(25);
  r.tts_engine = u.view(26);
  r.tts_chars = u.i64(27);
  r.audio_seconds = u.dbl(28);
  r.tts_first_audio_ms = u.i64(29);
  r.tts_cost_usd = u.dbl(30);
  r.tts_error = u.view(31);
  r.request_body = u.view(32);
  r.response_body = u.view(33);
  return {};
}

}  // namespace

Result<void> SqliteLogStore::convert_rows() {
  constexpr std::string_view what = "moving version-3 records into blocks";
  auto has = writer_->stmt(kHasRows, what);
  if (!has) {
    return tl::unexpected(has.error());
  }
  {
    Use u(*has);
    if (int rc = u.step(); rc != SQLITE_ROW) {
      return writer_->error(what, rc);
    }
    if (u.i64(0) == 0) {
      return {};
    }
  }
  Txn txn(*writer_);
  if (auto r = txn.begin(true, what); !r) {
    return r;
  }
  auto rows = writer_->stmt(kReadRows, what);
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  {
    std::vector<RequestRecord> batch(kConvertBatch);
    size_t n = 0;
    auto flush = [&]() -> Result<void> {
      if (auto r = append_locked(std::span<const RequestRecord>(batch.data(), n)); !r) {
        return tl::unexpected(r.error());
      }
      n = 0;
      return {};
    };
    Use u(*rows);
    int rc;
    while ((rc = u.step()) == SQLITE_ROW) {
      if (auto r = read_row(u, batch[n]); !r) {
        return r;
      }
      if (++n == batch.size()) {
        if (auto r = flush(); !r) {
          return r;
        }
      }
    }
    if (rc != SQLITE_DONE) {
      return writer_->error(what, rc);
    }
    if (auto r = flush(); !r) {
      return r;
    }
  }
  if (auto r = writer_->exec(kDropRows, what); !r) {
    return r;
  }
  return txn.commit(what);
}

}  // namespace sy::store::sqlite_log
