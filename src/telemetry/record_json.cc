#include "telemetry/record_json.h"

#include <algorithm>
#include <charconv>
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

void digits(std::string& out, int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void number(std::string& out, std::string_view k, int64_t v) {
  key(out, k);
  digits(out, v);
}

// -1: unknown.
void optional_number(std::string& out, std::string_view k, int64_t v) {
  key(out, k);
  if (v < 0) {
    out += "null";
  } else {
    digits(out, v);
  }
}

void usd(std::string& out, std::string_view k, double v) {
  key(out, k);
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 10);
  std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
  if (r.ec != std::errc()) s = "0";  // not a cost (beyond 1e53): never written
  while (s.size() > 1 && s.back() == '0') s.remove_suffix(1);
  if (s.back() == '.') s.remove_suffix(1);
  out += s;
}

}  // namespace

void append_time(std::string& out, int64_t unix_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(unix_ms)};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> time{t - day};
  // "YYYY-MM-DDTHH:MM:SS.mmmZ", written digit by digit (years 0 to 9999).
  char buf[] = "0000-00-00T00:00:00.000Z";
  auto put = [&buf](size_t at, size_t width, int64_t v) {
    for (size_t i = at + width; i-- > at; v /= 10) buf[i] = static_cast<char>('0' + v % 10);
  };
  put(0, 4, std::clamp(static_cast<int>(ymd.year()), 0, 9999));
  put(5, 2, static_cast<unsigned>(ymd.month()));
  put(8, 2, static_cast<unsigned>(ymd.day()));
  put(11, 2, time.hours().count());
  put(14, 2, time.minutes().count());
  put(17, 2, time.seconds().count());
  put(20, 3, time.subseconds().count());
  out.append(buf, 24);
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
  key(out, "speech");
  if (!r.spoken()) {
    out += "null";
  } else {
    out += '{';
    text(out, "engine", r.tts_engine);
    number(out, "chars", r.tts_chars);
    usd(out, "audio_seconds", r.audio_seconds);
    optional_number(out, "first_audio_ms", r.tts_first_audio_ms);
    usd(out, "cost_usd", r.tts_cost_usd);
    text(out, "error", r.tts_error);
    out += '}';
  }
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
