#include "export/bigquery.h"

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>

#include "export/http_poster.h"
#include "export/internal/record_json.h"

namespace sy::exports {
namespace json = boost::json;

namespace {

// The row's insertId: the id itself when BigQuery takes it, else its SHA-256.
std::string insert_id(std::string_view id) {
  if (!id.empty() && id.size() <= kBigQueryMaxInsertId) return std::string(id);
  return sha256_hex(id);
}

Result<std::string> finish_row(std::string_view id, json::object row, size_t max_bytes) {
  json::object out{{"insertId", insert_id(id)}, {"json", std::move(row)}};
  std::string text = json::serialize(out);
  if (text.size() > max_bytes) {
    return fail(ErrorCode::kPayloadTooLarge, fmt::format("bigquery: row '{}' is {} bytes, over the batch limit of {}", id, text.size(), max_bytes));
  }
  return text;
}

// Transient per-row failures: the row itself is fine.
bool retryable_reason(std::string_view reason) {
  return reason == "backendError" || reason == "internalError" || reason == "timeout" || reason == "stopped";
}

// error.errors[0].reason of a Google API error body ("quotaExceeded", "notFound", ...).
std::string google_error_reason(std::string_view body) {
  std::error_code ec;
  json::value v = json::parse(body, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  const json::value* error = o != nullptr ? o->if_contains("error") : nullptr;
  const json::object* eo = error != nullptr ? error->if_object() : nullptr;
  const json::value* errors = eo != nullptr ? eo->if_contains("errors") : nullptr;
  if (errors == nullptr || !errors->is_array() || errors->as_array().empty()) return {};
  const json::value& first = errors->as_array().front();
  const json::value* reason = first.is_object() ? first.as_object().if_contains("reason") : nullptr;
  return reason != nullptr && reason->is_string() ? std::string(reason->as_string()) : std::string();
}

std::string tables_path(const std::string& project, const std::string& dataset) {
  return fmt::format("/bigquery/v2/projects/{}/datasets/{}/tables", project, dataset);
}

Result<ServiceAccountKey> load_key(const BigQueryOptions& o) {
  if (!o.credentials_json.empty()) return ServiceAccountKey::parse(o.credentials_json);
  if (o.credentials_file.empty()) {
    return fail(ErrorCode::kInvalidRequest, "export.bigquery: set `credentials_file` (a service account's JSON key)", "credentials_file");
  }
  return ServiceAccountKey::load(o.credentials_file);
}

class BigQueryDestination final : public Destination {
 public:
  BigQueryDestination(const BigQueryOptions& o, const std::string& project, ServiceAccountKey key, http::Url url)
      : url_(std::move(url)),
        poster_(o.http),
        tokens_(std::move(key), std::string(kScopeBigQueryInsert), o.clock),
        targets_{tables_path(project, o.dataset) + "/" + o.table + "/insertAll",
                 tables_path(project, o.dataset) + "/" + o.outcomes_table + "/insertAll"} {}

  Delivery deliver(uint8_t channel, std::span<const std::string> items) override {
    Delivery d;
    auto token = tokens_.token(poster_);
    if (!token) {
      // A key the token endpoint refuses cannot succeed later: the batch is skipped.
      const bool refused = token.error().code == ErrorCode::kUnauthorized;
      d.outcome = refused ? Delivery::Outcome::kDone : Delivery::Outcome::kRetry;
      d.failed = refused ? items.size() : 0;
      d.error = fmt::format("bigquery: {}", token.error().message);
      return d;
    }
    const std::string body = join_items(
        R"({"kind":"bigquery#tableDataInsertAllRequest","skipInvalidRows":true,"ignoreUnknownValues":false,"rows":[)", items, "]}");
    const std::string authorization = "Bearer " + *token;
    const std::array<http::Header, 3> headers{http::Header{"authorization", authorization},
                                              http::Header{"content-type", "application/json"},
                                              http::Header{"accept", "application/json"}};
    auto reply = poster_.send(url_, "POST", targets_[channel == 0 ? 0 : 1], headers, body);
    if (!reply) return retry_later(fmt::format("bigquery: {}", reply.error().message));
    return judge(*reply, items.size());
  }

  void cancel() override { poster_.cancel(); }

 private:
  Delivery judge(const HttpReply& reply, size_t n) {
    Delivery d;
    if (reply.status == 200) {
      retried_401_ = false;
      return row_errors(reply.body, n);
    }
    d.error = fmt::format("bigquery: {} from {}: {}", reply.status, url_.origin(), body_excerpt(reply.body));
    const std::string reason = reply.status == 403 ? google_error_reason(reply.body) : std::string();
    if (reply.status == 401 && !retried_401_) {
      retried_401_ = true;  // the token may have been revoked: one more try with a new one
      tokens_.invalidate();
      d.outcome = Delivery::Outcome::kRetry;
    } else if (reply.status == 413) {
      d.outcome = Delivery::Outcome::kTooLarge;
    } else if (retryable_status(reply.status) || reason == "rateLimitExceeded" || reason == "quotaExceeded") {
      d.outcome = Delivery::Outcome::kRetry;
      d.retry_after = parse_retry_after(reply.retry_after);
    } else {
      retried_401_ = false;
      d.failed = n;  // 400, 403, 404 (no such table: see create_bigquery_tables): skipped
    }
    return d;
  }

  // A 200 may still list rows that were not inserted (insertErrors).
  static Delivery row_errors(std::string_view body, size_t n) {
    Delivery d;
    std::error_code ec;
    json::value v = json::parse(body, ec);
    const json::value* errors = !ec && v.is_object() ? v.as_object().if_contains("insertErrors") : nullptr;
    if (errors != nullptr && errors->is_array()) {
      for (const json::value& entry : errors->as_array()) {
        const json::object* e = entry.if_object();
        const json::value* index = e != nullptr ? e->if_contains("index") : nullptr;
        if (index == nullptr || !index->is_int64() || index->as_int64() < 0 || static_cast<size_t>(index->as_int64()) >= n) continue;
        bool transient = true;
        std::string message;
        if (const json::value* list = e->if_contains("errors"); list != nullptr && list->is_array()) {
          for (const json::value& err : list->as_array()) {
            const json::object* eo = err.if_object();
            const json::value* reason = eo != nullptr ? eo->if_contains("reason") : nullptr;
            const std::string r = reason != nullptr && reason->is_string() ? std::string(reason->as_string()) : "";
            if (!retryable_reason(r)) transient = false;
            if (message.empty()) message = body_excerpt(json::serialize(err));
          }
        }
        if (transient) d.again.push_back(static_cast<size_t>(index->as_int64()));
        else ++d.failed;
        if (d.error.empty()) d.error = fmt::format("bigquery: row {} not inserted: {}", index->as_int64(), message);
      }
    }
    d.sent = n - d.failed - d.again.size();
    return d;
  }

  http::Url url_;
  HttpPoster poster_;
  GoogleTokenSource tokens_;
  std::array<std::string, 2> targets_;  // channel 0: requests, 1: outcomes
  bool retried_401_ = false;
};

struct Checked {
  ServiceAccountKey key;
  std::string project;
  http::Url url;
};

Result<Checked> check(const BigQueryOptions& o) {
  auto key = load_key(o);
  if (!key) return tl::unexpected(key.error());
  Checked c{*key, o.project.empty() ? key->project_id : o.project, {}};
  if (c.project.empty()) return fail(ErrorCode::kInvalidRequest, "export.bigquery: set `project` (the key names none)", "project");
  if (o.dataset.empty()) return fail(ErrorCode::kInvalidRequest, "export.bigquery: set `dataset`", "dataset");
  if (o.table.empty() || o.outcomes_table.empty()) {
    return fail(ErrorCode::kInvalidRequest, "export.bigquery: `table` and `outcomes_table` must not be empty", "table");
  }
  auto url = http::Url::parse(o.base_url);
  if (!url) return fail(ErrorCode::kInvalidRequest, fmt::format("export.bigquery: base_url: {}", url.error().message), "base_url");
  c.url = *url;
  return c;
}

Result<bool> create_table(HttpPoster& poster, GoogleTokenSource& tokens, const Checked& c, const BigQueryOptions& o,
                          const std::string& table, const std::string& schema, json::array clustering) {
  auto token = tokens.token(poster);
  if (!token) return tl::unexpected(token.error());
  const json::object request{
      {"tableReference", {{"projectId", c.project}, {"datasetId", o.dataset}, {"tableId", table}}},
      {"schema", {{"fields", json::parse(schema)}}},
      {"timePartitioning", {{"type", "DAY"}, {"field", "time"}}},
      {"clustering", {{"fields", std::move(clustering)}}},
  };
  const std::string authorization = "Bearer " + *token;
  const std::array<http::Header, 2> headers{http::Header{"authorization", authorization},
                                            http::Header{"content-type", "application/json"}};
  auto reply = poster.send(c.url, "POST", tables_path(c.project, o.dataset), headers, json::serialize(request));
  if (!reply) return fail(ErrorCode::kUpstreamUnreachable, fmt::format("bigquery: creating table '{}': {}", table, reply.error().message));
  if (reply->status == 200 || reply->status == 409) return true;  // 409: it exists already
  return fail(ErrorCode::kUpstreamError,
              fmt::format("bigquery: creating table '{}': {} from {}: {}", table, reply->status, c.url.origin(), body_excerpt(reply->body)));
}

}  // namespace

Result<std::string> bigquery_request_row(const telemetry::RequestRecord& r, const BigQueryOptions& options) {
  json::object row = record_object(r, {.bodies = options.bodies, .max_body_bytes = options.max_body_bytes});
  row.erase("time_ms");
  row["time"] = utc_timestamp(r.time_ms);
  // A JSON column takes its value as JSON text.
  row["metadata"] = json::serialize(row["metadata"]);
  return finish_row(r.id, std::move(row), options.batch_bytes);
}

Result<std::string> bigquery_outcome_row(const telemetry::OutcomeEvent& e, const BigQueryOptions& options) {
  json::object row = outcome_object(e);
  row.erase("time_ms");
  row["time"] = utc_timestamp(e.time_ms);
  // Without an event_id the row's content is its identity, so a re-send is still recognised.
  if (e.event_id.empty()) {
    const std::string id = sha256_hex(json::serialize(row));
    row["event_id"] = id;  // a REQUIRED column
    return finish_row(id, std::move(row), options.batch_bytes);
  }
  return finish_row(e.event_id, std::move(row), options.batch_bytes);
}

Result<std::unique_ptr<Exporter>> make_bigquery_exporter(BigQueryOptions options) {
  auto c = check(options);
  if (!c) return tl::unexpected(c.error());
  if (options.batch_rows == 0 || options.batch_rows > kBigQueryMaxRows) {
    return fail(ErrorCode::kInvalidRequest, fmt::format("export.bigquery: `batch` must be 1..{}", kBigQueryMaxRows), "batch");
  }
  // Room for the envelope and the commas within the 10 MB request limit.
  options.batch_bytes = std::min(options.batch_bytes, kBigQueryMaxBytes - options.batch_rows - 200);
  auto spool = Spool::open(options.spool);
  if (!spool) return tl::unexpected(spool.error());
  Renderers renderers{.request_channel = 0, .outcome_channel = 1};
  renderers.request = [options](const telemetry::RequestRecord& r) { return bigquery_request_row(r, options); };
  renderers.outcome = [options](const telemetry::OutcomeEvent& e) { return bigquery_outcome_row(e, options); };
  auto destination = std::make_unique<BigQueryDestination>(options, c->project, c->key, c->url);
  const BatchLimits limits{.max_items = options.batch_rows, .max_bytes = options.batch_bytes};
  return std::unique_ptr<Exporter>(std::make_unique<SpoolingExporter>("bigquery", std::move(*spool), std::move(destination),
                                                                      std::move(renderers), limits, options.sender));
}

Result<bool> create_bigquery_tables(const BigQueryOptions& options) {
  auto c = check(options);
  if (!c) return tl::unexpected(c.error());
  HttpPoster poster(options.http);
  GoogleTokenSource tokens(c->key, std::string(kScopeBigQuery), options.clock);
  if (auto made = create_table(poster, tokens, *c, options, options.table, bigquery_requests_schema(), {"router", "model"}); !made) {
    return made;
  }
  return create_table(poster, tokens, *c, options, options.outcomes_table, bigquery_outcomes_schema(), {"name"});
}

}  // namespace sy::exports
