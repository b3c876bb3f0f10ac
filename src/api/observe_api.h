#pragma once
// What the gateway observed, over HTTP (see docs/observability.md):
//
//   GET  /v1/logs?since=&until=&router=&route=&variant=&model=&user=&status=&errors=&limit=&cursor=
//   GET  /v1/logs/{id}                         one record, bodies included (when kept)
//   POST /v1/feedback                          outcomes: {"event_id", "request_id" | "user", "name", "value"}
//   GET  /metrics                              Prometheus text format
//   GET  /router/v1/routers/{name}/stats?since=&until=   per route and variant, with intervals
//
// Queries run on the observability thread pool, never on a worker. The caller checks the keys.

#include <string_view>

#include "api/observability.h"
#include "http/message.h"

namespace sy::api {

bool is_logs_path(std::string_view path);
http::Task<void> serve_logs(http::Request& req, http::Response& res, std::string_view request_id, Observability& obs);
http::Task<void> serve_feedback(http::Request& req, http::Response& res, std::string_view request_id,
                                Observability& obs);
http::Task<void> serve_metrics(http::Response& res, std::string_view request_id, Observability& obs);
// `path` ends with "/stats".
bool is_stats_path(std::string_view path);
http::Task<void> serve_stats(http::Request& req, http::Response& res, std::string_view request_id,
                             Observability& obs);

// A time in a query: unix ms, RFC 3339 ("2026-12-03T16:00:00Z", fractions and offsets
// allowed), or a duration before `now_ms` ("90s", "15m", "1h", "7d"). nullopt when it is none.
std::optional<int64_t> parse_time(std::string_view text, int64_t now_ms);

}  // namespace sy::api
