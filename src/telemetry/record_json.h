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
#include <string_view>

#include "telemetry/record.h"

namespace sy::telemetry {

// `first`: members written before the record's own, with their comma, e.g. R"("type":"request",)".
void append_json(std::string& out, const RequestRecord& record, bool bodies,
                 std::string_view first = {});
void append_json(std::string& out, const OutcomeEvent& event, std::string_view first = {});
// RFC 3339 UTC with milliseconds: "2026-12-03T16:03:14.123Z".
void append_time(std::string& out, int64_t unix_ms);

}  // namespace sy::telemetry
