#pragma once
// A request record as one JSON object: the shape of GET /v1/logs and of the JSON-lines export.
//
//   std::string out;
//   append_json(out, record, /*bodies=*/false);
//   // {"id":"req_…","time":"2026-12-03T16:03:14.123Z","time_ms":…,"router":"support",…}
//
// Fields keep the record's names (telemetry/record.h); empty strings and unknown numbers
// (ttft_ms -1) are written as null, so that a consumer can tell "none" from "zero".

#include <string>

#include "telemetry/record.h"

namespace sy::telemetry {

void append_json(std::string& out, const RequestRecord& record, bool bodies);
void append_json(std::string& out, const OutcomeEvent& event);
// RFC 3339 UTC with milliseconds: "2026-12-03T16:03:14.123Z".
void append_time(std::string& out, int64_t unix_ms);

}  // namespace sy::telemetry
