#pragma once
// The Mixpanel exporter: request records and outcomes as events, through the Import API
// (POST /import?strict=1, a JSON array of at most 2000 events and 10 MB uncompressed, gzip).
//
//   auto exporter = make_mixpanel_exporter({.project_token = token, .spool = {.dir = "spool/mixpanel"}});
//   if (!exporter) die(exporter.error().message);
//   (*exporter)->submit(records);
//
// Events: "llm_request" for a record (every field a property, `attempts` a list of objects,
// bodies left out); "outcome:<name>" for an outcome ("outcome:csat"). `time` is the record's
// unix ms; `distinct_id` the record's user, else its key id, else "" (Mixpanel rejects
// placeholders such as "anonymous"); `$insert_id` the request id or the outcome's event_id
// (see mixpanel_insert_id), so that Mixpanel drops the copies a retry or a restart sends.

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "export/exporter.h"
#include "export/spool.h"
#include "export/spooling_exporter.h"
#include "http/client.h"

namespace sy::exports {

inline constexpr size_t kMixpanelMaxEvents = 2000;           // per /import request
inline constexpr size_t kMixpanelMaxBytes = 10'000'000;      // uncompressed JSON per request
inline constexpr size_t kMixpanelMaxEventBytes = 1'000'000;  // uncompressed JSON per event (exclusive)

struct MixpanelOptions {
  // Authentication: a service account (Owner or Admin; all three fields), or the project token.
  std::string service_account_username;
  std::string service_account_secret;
  std::string project_id;
  std::string project_token;
  std::string region = "us";            // us | eu | in: api.mixpanel.com, api-eu..., api-in...
  std::string base_url;                 // overrides `region` (tests: "http://127.0.0.1:<port>")
  size_t batch_events = kMixpanelMaxEvents;  // events per request, 1..2000
  size_t batch_bytes = 9'000'000;       // uncompressed event bytes per request, ≤ 10 MB with the brackets
  bool gzip = true;                     // content-encoding: gzip
  std::string request_event = "llm_request";
  std::string outcome_prefix = "outcome:";
  SpoolOptions spool;                   // spool.dir is required
  SenderOptions sender;
  http::ClientOptions http = {.read_timeout = std::chrono::milliseconds(60'000)};
};

// Checks the options (auth, region, limits), opens the spool and starts the sender thread.
Result<std::unique_ptr<Exporter>> make_mixpanel_exporter(MixpanelOptions options);

// The Import API host of a region: "https://api-eu.mixpanel.com" for "eu".
Result<std::string> mixpanel_base_url(std::string_view region);

// Mixpanel accepts `$insert_id`s of at most 36 characters of [A-Za-z0-9-]: an id is kept
// with '_' made '-' ("req_01J..." → "req-01J...") when that fits, else it becomes the first
// 32 hex digits of its SHA-256. Stable: the same id always maps to the same insert id.
std::string mixpanel_insert_id(std::string_view id);

// `user`, else `key_id`, else "": ids Mixpanel rejects as placeholders ("anonymous", "null",
// ...) count as absent; ids past 255 characters become their SHA-256.
std::string mixpanel_distinct_id(std::string_view user, std::string_view key_id);

// One event as spooled (a JSON object); an error when it cannot fit under 1 MB.
Result<std::string> mixpanel_request_event(const telemetry::RequestRecord& r, const MixpanelOptions& options);
Result<std::string> mixpanel_outcome_event(const telemetry::OutcomeEvent& e, const MixpanelOptions& options);

}  // namespace sy::exports
