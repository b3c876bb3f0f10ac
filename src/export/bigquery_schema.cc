// The BigQuery tables' schemas (the `fields` of tables.insert). docs/export.md shows the same
// text; bigquery_test.cc checks that every rendered row matches it.
#include "export/bigquery.h"

namespace sy::exports {

std::string bigquery_requests_schema() {
  return R"json([
  {"name": "request_id", "type": "STRING", "mode": "REQUIRED", "description": "x-switchyard-request-id"},
  {"name": "time", "type": "TIMESTAMP", "mode": "REQUIRED", "description": "when the request arrived"},
  {"name": "key_id", "type": "STRING", "description": "the gateway key's id (never the key)"},
  {"name": "user", "type": "STRING", "description": "the stickiness key's value"},
  {"name": "endpoint", "type": "STRING"},
  {"name": "dialect", "type": "STRING"},
  {"name": "router", "type": "STRING"},
  {"name": "router_version", "type": "INTEGER"},
  {"name": "route", "type": "STRING"},
  {"name": "variant", "type": "STRING"},
  {"name": "reason", "type": "STRING"},
  {"name": "requested_model", "type": "STRING"},
  {"name": "model", "type": "STRING"},
  {"name": "provider", "type": "STRING"},
  {"name": "attempts", "type": "RECORD", "mode": "REPEATED", "fields": [
    {"name": "model", "type": "STRING"},
    {"name": "provider", "type": "STRING"},
    {"name": "status", "type": "INTEGER"},
    {"name": "error_class", "type": "STRING"},
    {"name": "start_ms", "type": "INTEGER"},
    {"name": "duration_ms", "type": "INTEGER"},
    {"name": "ttft_ms", "type": "INTEGER"},
    {"name": "served", "type": "BOOLEAN"},
    {"name": "tokens_in", "type": "INTEGER"},
    {"name": "tokens_out", "type": "INTEGER"},
    {"name": "cost_usd", "type": "FLOAT"}
  ]},
  {"name": "stream", "type": "BOOLEAN"},
  {"name": "status", "type": "INTEGER"},
  {"name": "error_class", "type": "STRING"},
  {"name": "ttft_ms", "type": "INTEGER"},
  {"name": "latency_ms", "type": "INTEGER"},
  {"name": "tokens_in", "type": "INTEGER"},
  {"name": "tokens_out", "type": "INTEGER"},
  {"name": "tokens_cached", "type": "INTEGER"},
  {"name": "tokens_reasoning", "type": "INTEGER"},
  {"name": "cost_usd", "type": "FLOAT"},
  {"name": "metadata", "type": "JSON"},
  {"name": "speech", "type": "RECORD", "description": "the answer's speech (requests with audio)", "fields": [
    {"name": "engine", "type": "STRING"},
    {"name": "chars", "type": "INTEGER"},
    {"name": "audio_seconds", "type": "FLOAT"},
    {"name": "first_audio_ms", "type": "INTEGER"},
    {"name": "cost_usd", "type": "FLOAT"},
    {"name": "error", "type": "STRING"}
  ]},
  {"name": "request_body", "type": "STRING"},
  {"name": "response_body", "type": "STRING"}
])json";
}

std::string bigquery_outcomes_schema() {
  return R"json([
  {"name": "event_id", "type": "STRING", "mode": "REQUIRED"},
  {"name": "time", "type": "TIMESTAMP", "mode": "REQUIRED"},
  {"name": "request_id", "type": "STRING"},
  {"name": "user", "type": "STRING"},
  {"name": "router", "type": "STRING"},
  {"name": "name", "type": "STRING", "mode": "REQUIRED"},
  {"name": "value", "type": "FLOAT"}
])json";
}

}  // namespace sy::exports
