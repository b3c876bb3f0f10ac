#pragma once
// The JSON form of a RequestRecord and an OutcomeEvent that the Mixpanel and BigQuery
// exporters start from (internal to export/: Boost.JSON does not leave the module).
//
//   boost::json::object o = record_object(record, {.bodies = true});
//   o["time"] = utc_timestamp(record.time_ms);   // each destination adjusts a few fields
//
// Built from the canonical record JSON (telemetry/record_json.h, the /v1/logs shape), so a
// field added to the record reaches every destination (and bigquery_test.cc asks for the
// schema to follow): `id` is renamed `request_id`, the RFC 3339 `time` is dropped in favour
// of `time_ms`; empty strings and unknown numbers are null; `metadata` is the object (a
// string when metadata_json does not parse).

#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "telemetry/record.h"

namespace sy::exports {

struct RecordJsonOptions {
  bool bodies = false;                         // request_body and response_body
  size_t max_body_bytes = SIZE_MAX;            // each body is cut to this (at a UTF-8 boundary)
};

boost::json::object record_object(const telemetry::RequestRecord& r, const RecordJsonOptions& options);
boost::json::object outcome_object(const telemetry::OutcomeEvent& e);

// `text` cut to at most `max` bytes without splitting a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view text, size_t max);

// "2024-05-01 12:34:56.789 UTC": BigQuery's canonical TIMESTAMP text.
std::string utc_timestamp(int64_t unix_ms);

// The lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace sy::exports
