#pragma once
// The BigQuery exporter: request records and outcomes as rows of two tables, streamed with
// tabledata.insertAll (at most 500 rows and 10 MB per request, an insertId per row), with a
// service account's OAuth 2.0 token (google_auth.h).
//
//   BigQueryOptions o{.credentials_file = "sa.json", .dataset = "switchyard", .spool = {.dir = "spool/bigquery"}};
//   if (auto made = create_bigquery_tables(o); !made) die(made.error().message);   // once, optional
//   auto exporter = make_bigquery_exporter(o);   (*exporter)->submit(records);
//
// Rows follow bigquery_requests_schema() and bigquery_outcomes_schema() (docs/export.md):
// the record's fields, `time` a TIMESTAMP, `attempts` a REPEATED RECORD, `metadata` a JSON
// column. insertId is the request id (the outcome's event_id); BigQuery drops a repeated
// insertId on a best-effort basis, for about a minute.

#include <memory>
#include <string>

#include "core/result.h"
#include "export/exporter.h"
#include "export/google_auth.h"
#include "export/spool.h"
#include "export/spooling_exporter.h"
#include "http/client.h"

namespace sy::exports {

inline constexpr size_t kBigQueryMaxRows = 500;           // rows per insertAll request (Google's recommendation)
inline constexpr size_t kBigQueryMaxBytes = 10'000'000;   // HTTP request size limit of insertAll
inline constexpr size_t kBigQueryMaxInsertId = 128;       // characters of an insertId

struct BigQueryOptions {
  std::string credentials_file;         // the service account's JSON key file
  std::string credentials_json;         // or the key's content itself
  std::string project;                  // "" → the key's project_id
  std::string dataset;
  std::string table = "requests";
  std::string outcomes_table = "outcomes";
  std::string base_url = "https://bigquery.googleapis.com";  // tests point it at a fake
  size_t batch_rows = kBigQueryMaxRows;  // 1..500
  size_t batch_bytes = 9'000'000;        // rendered row bytes per request (the envelope is small)
  bool bodies = true;                    // request_body / response_body columns (empty unless logged)
  size_t max_body_bytes = 1 << 20;       // each body cut to this
  SpoolOptions spool;                    // spool.dir is required
  SenderOptions sender;
  http::ClientOptions http = {.read_timeout = std::chrono::milliseconds(60'000)};
  GoogleTokenSource::WallClock clock = std::chrono::system_clock::now;  // JWT iat/exp, token expiry
};

// Checks the options, reads the key, opens the spool and starts the sender thread.
Result<std::unique_ptr<Exporter>> make_bigquery_exporter(BigQueryOptions options);

// Creates the two tables (tables.insert with the documented schemas, partitioned by day on
// `time`); a table that exists already is fine. Blocking; needs the `bigquery` scope
// (roles/bigquery.dataEditor on the dataset).
Result<bool> create_bigquery_tables(const BigQueryOptions& options);

// The tables' schemas: the `fields` arrays of tables.insert, as JSON text.
std::string bigquery_requests_schema();
std::string bigquery_outcomes_schema();

// One row as spooled: {"insertId": ..., "json": {...}}.
Result<std::string> bigquery_request_row(const telemetry::RequestRecord& r, const BigQueryOptions& options);
Result<std::string> bigquery_outcome_row(const telemetry::OutcomeEvent& e, const BigQueryOptions& options);

}  // namespace sy::exports
