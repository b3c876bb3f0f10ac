#include "telemetry/record_json.h"

#include <chrono>

#include <fmt/format.h>

#include "core/json_scan.h"

namespace sy::telemetry {
namespace {

void key(std::string& out, std::string_view k) {
  if (out.back() != '{') out += ',';
  out += '"';
  out += k;
  out += "\":";
}

void text(std::string& out, std::string_view k, std::string_view v) {
  key(out, k);
  if (v.empty()) {
    out += "null";
  } else {
    json::append_quoted(out, v);
  }
}

void number(std::string& out, std::string_view k, int64_t v) {
  key(out, k);
  fmt::format_to(std::back_inserter(out), "{}", v);
}

// -1: unknown.
void optional_number(std::string& out, std::string_view k, int64_t v) {
  key(out, k);
  if (v < 0) {
    out += "null";
  } else {
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
}

void usd(std::string& out, std::string_view k, double v) {
  key(out, k);
  std::string s = fmt::format("{:.10f}", v);
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  out += s;
}

}  // namespace

void append_time(std::string& out, int64_t unix_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(unix_ms)};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> time{t - day};
  fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                 static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), time.hours().count(),
                 time.minutes().count(), time.seconds().count(), time.subseconds().count());
}

void append_json(std::string& out, const RequestRecord& r, bool bodies) {
  out += '{';
  text(out, "id", r.id);
  key(out, "time");
  out += '"';
  append_time(out, r.time_ms);
  out += '"';
  number(out, "time_ms", r.time_ms);
  text(out, "key_id", r.key_id);
  text(out, "user", r.user);
  text(out, "endpoint", r.endpoint);
  text(out, "dialect", r.dialect);
  text(out, "router", r.router);
  optional_number(out, "router_version", r.router.empty() ? -1 : r.router_version);
  text(out, "route", r.route);
  text(out, "variant", r.variant);
  text(out, "reason", r.reason);
  text(out, "requested_model", r.requested_model);
  text(out, "model", r.model);
  text(out, "provider", r.provider);
  key(out, "stream");
  out += r.stream ? "true" : "false";
  number(out, "status", r.status);
  text(out, "error_class", r.error_class);
  optional_number(out, "ttft_ms", r.ttft_ms);
  number(out, "latency_ms", r.latency_ms);
  number(out, "tokens_in", r.tokens_in);
  number(out, "tokens_out", r.tokens_out);
  number(out, "tokens_cached", r.tokens_cached);
  number(out, "tokens_reasoning", r.tokens_reasoning);
  usd(out, "cost_usd", r.cost_usd);
  key(out, "metadata");
  out += r.metadata_json.empty() ? std::string_view("{}") : std::string_view(r.metadata_json);
  key(out, "attempts");
  out += '[';
  for (const auto& a : r.attempts) {
    if (out.back() != '[') out += ',';
    out += '{';
    text(out, "model", a.model);
    text(out, "provider", a.provider);
    number(out, "status", a.status);
    text(out, "error_class", a.error_class);
    number(out, "start_ms", a.start_ms);
    number(out, "duration_ms", a.duration_ms);
    optional_number(out, "ttft_ms", a.ttft_ms);
    key(out, "served");
    out += a.served ? "true" : "false";
    number(out, "tokens_in", a.tokens_in);
    number(out, "tokens_out", a.tokens_out);
    usd(out, "cost_usd", a.cost_usd);
    out += '}';
  }
  out += ']';
  if (bodies) {
    text(out, "request_body", r.request_body);
    text(out, "response_body", r.response_body);
  }
  out += '}';
}

void append_json(std::string& out, const OutcomeEvent& e) {
  out += '{';
  text(out, "event_id", e.event_id);
  key(out, "time");
  out += '"';
  append_time(out, e.time_ms);
  out += '"';
  number(out, "time_ms", e.time_ms);
  text(out, "request_id", e.request_id);
  text(out, "user", e.user);
  text(out, "router", e.router);
  text(out, "name", e.name);
  key(out, "value");
  fmt::format_to(std::back_inserter(out), "{}", e.value);
  out += '}';
}

}  // namespace sy::telemetry
