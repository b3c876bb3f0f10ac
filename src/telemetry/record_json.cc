#include "telemetry/record_json.h"

#include <algorithm>
#include <charconv>
#include <chrono>

#include <fmt/format.h>

#include "core/json_scan.h"

namespace sy::telemetry {
namespace {

// Keys come with their punctuation, written by K("name") as `,"name":` (objects open with their
// first member written out): one append of a literal each.
#define K(name) ",\"" name "\":"

void key(std::string& out, std::string_view k) { out.append(k.data(), k.size()); }

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
  text(out, "{\"id\":", r.id);
  key(out, K("time"));
  out += '"';
  append_time(out, r.time_ms);
  out += '"';
  number(out, K("time_ms"), r.time_ms);
  text(out, K("key_id"), r.key_id);
  text(out, K("user"), r.user);
  text(out, K("endpoint"), r.endpoint);
  text(out, K("dialect"), r.dialect);
  text(out, K("router"), r.router);
  optional_number(out, K("router_version"), r.router.empty() ? -1 : r.router_version);
  text(out, K("route"), r.route);
  text(out, K("variant"), r.variant);
  text(out, K("reason"), r.reason);
  text(out, K("requested_model"), r.requested_model);
  text(out, K("model"), r.model);
  text(out, K("provider"), r.provider);
  key(out, K("stream"));
  out += r.stream ? "true" : "false";
  number(out, K("status"), r.status);
  text(out, K("error_class"), r.error_class);
  optional_number(out, K("ttft_ms"), r.ttft_ms);
  number(out, K("latency_ms"), r.latency_ms);
  number(out, K("tokens_in"), r.tokens_in);
  number(out, K("tokens_out"), r.tokens_out);
  number(out, K("tokens_cached"), r.tokens_cached);
  number(out, K("tokens_reasoning"), r.tokens_reasoning);
  usd(out, K("cost_usd"), r.cost_usd);
  key(out, K("metadata"));
  out += r.metadata_json.empty() ? std::string_view("{}") : std::string_view(r.metadata_json);
  key(out, K("speech"));
  if (!r.spoken()) {
    out += "null";
  } else {
    text(out, "{\"engine\":", r.tts_engine);
    number(out, K("chars"), r.tts_chars);
    usd(out, K("audio_seconds"), r.audio_seconds);
    optional_number(out, K("first_audio_ms"), r.tts_first_audio_ms);
    usd(out, K("cost_usd"), r.tts_cost_usd);
    text(out, K("error"), r.tts_error);
    out += '}';
  }
  key(out, K("attempts"));
  out += '[';
  for (const auto& a : r.attempts) {
    if (out.back() != '[') out += ',';
    text(out, "{\"model\":", a.model);
    text(out, K("provider"), a.provider);
    number(out, K("status"), a.status);
    text(out, K("error_class"), a.error_class);
    number(out, K("start_ms"), a.start_ms);
    number(out, K("duration_ms"), a.duration_ms);
    optional_number(out, K("ttft_ms"), a.ttft_ms);
    key(out, K("served"));
    out += a.served ? "true" : "false";
    number(out, K("tokens_in"), a.tokens_in);
    number(out, K("tokens_out"), a.tokens_out);
    usd(out, K("cost_usd"), a.cost_usd);
    out += '}';
  }
  out += ']';
  if (bodies) {
    text(out, K("request_body"), r.request_body);
    text(out, K("response_body"), r.response_body);
  }
  out += '}';
}

void append_json(std::string& out, const OutcomeEvent& e) {
  text(out, "{\"event_id\":", e.event_id);
  key(out, K("time"));
  out += '"';
  append_time(out, e.time_ms);
  out += '"';
  number(out, K("time_ms"), e.time_ms);
  text(out, K("request_id"), e.request_id);
  text(out, K("user"), e.user);
  text(out, K("router"), e.router);
  text(out, K("name"), e.name);
  key(out, K("value"));
  fmt::format_to(std::back_inserter(out), "{}", e.value);
  out += '}';
}

#undef K

}  // namespace sy::telemetry
