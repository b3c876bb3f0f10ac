#include "telemetry/record_json.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "core/json_scan.h"

namespace sy::telemetry {
namespace {

// Keys come with their punctuation, written by K("name") as `,"name":` (objects open with their
// first member written out): one copy of a literal each.
#define K(name) ",\"" name "\":"

// A cost as a JSON number: fixed, at most 10 decimals, no trailing zeros.
std::string_view usd_text(char (&buf)[64], double v) {
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 10);
  std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
  if (r.ec != std::errc()) s = "0";  // not a cost (beyond 1e53): never written
  while (s.size() > 1 && s.back() == '0') s.remove_suffix(1);
  if (s.back() == '.') s.remove_suffix(1);
  return s;
}

// Writes into room the caller sized with max_json_size(): no capacity check per piece, which
// was half of the JSON lines' cost when every piece went through std::string's append.
struct Writer {
  char* p;

  void raw(std::string_view s) {
    if (!s.empty()) {  // an empty view may hold no pointer, which memcpy may not take
      std::memcpy(p, s.data(), s.size());
      p += s.size();
    }
  }
  void digits(int64_t v) { p = std::to_chars(p, p + 20, v).ptr; }
  void text(std::string_view k, std::string_view v) {
    raw(k);
    if (v.empty()) {
      raw("null");
    } else {
      p = json::write_quoted(p, v);
    }
  }
  void number(std::string_view k, int64_t v) {
    raw(k);
    digits(v);
  }
  // -1: unknown.
  void optional_number(std::string_view k, int64_t v) {
    raw(k);
    if (v < 0) {
      raw("null");
    } else {
      digits(v);
    }
  }
  void boolean(std::string_view k, bool v) {
    raw(k);
    raw(v ? std::string_view("true") : std::string_view("false"));
  }
  void usd(std::string_view k, double v) {
    raw(k);
    char buf[64];
    raw(usd_text(buf, v));
  }
};

// Room for any record's object: strings take at most max_quoted_size() each; keys, numbers and
// costs at their widest about 1 KB (an attempt 400 bytes), of which twice is allowed.
size_t max_json_size(const RequestRecord& r, bool bodies) {
  size_t room = 2048 + r.metadata_json.size();
  for (const std::string* s : {&r.id, &r.key_id, &r.user, &r.endpoint, &r.dialect, &r.router,
                               &r.route, &r.variant, &r.reason, &r.requested_model, &r.model,
                               &r.provider, &r.error_class, &r.tts_engine, &r.tts_error}) {
    room += json::max_quoted_size(s->size());
  }
  if (bodies) {
    room += json::max_quoted_size(r.request_body.size());
    room += json::max_quoted_size(r.response_body.size());
  }
  for (const AttemptRecord& a : r.attempts) {
    room += 1024 + json::max_quoted_size(a.model.size() + a.provider.size() + a.error_class.size());
  }
  return room;
}

void write_time(Writer& w, int64_t unix_ms);

// The record's members after the object's "{".
void write_json(Writer& w, const RequestRecord& r, bool bodies) {
  w.text("\"id\":", r.id);
  w.raw(K("time") "\"");
  write_time(w, r.time_ms);
  w.raw("\"");
  w.number(K("time_ms"), r.time_ms);
  w.text(K("key_id"), r.key_id);
  w.text(K("user"), r.user);
  w.text(K("endpoint"), r.endpoint);
  w.text(K("dialect"), r.dialect);
  w.text(K("router"), r.router);
  w.optional_number(K("router_version"), r.router.empty() ? -1 : r.router_version);
  w.text(K("route"), r.route);
  w.text(K("variant"), r.variant);
  w.text(K("reason"), r.reason);
  w.text(K("requested_model"), r.requested_model);
  w.text(K("model"), r.model);
  w.text(K("provider"), r.provider);
  w.boolean(K("stream"), r.stream);
  w.number(K("status"), r.status);
  w.text(K("error_class"), r.error_class);
  w.optional_number(K("ttft_ms"), r.ttft_ms);
  w.number(K("latency_ms"), r.latency_ms);
  w.number(K("tokens_in"), r.tokens_in);
  w.number(K("tokens_out"), r.tokens_out);
  w.number(K("tokens_cached"), r.tokens_cached);
  w.number(K("tokens_reasoning"), r.tokens_reasoning);
  w.usd(K("cost_usd"), r.cost_usd);
  w.raw(K("metadata"));
  w.raw(r.metadata_json.empty() ? std::string_view("{}") : std::string_view(r.metadata_json));
  w.raw(K("speech"));
  if (!r.spoken()) {
    w.raw("null");
  } else {
    w.text("{\"engine\":", r.tts_engine);
    w.number(K("chars"), r.tts_chars);
    w.usd(K("audio_seconds"), r.audio_seconds);
    w.optional_number(K("first_audio_ms"), r.tts_first_audio_ms);
    w.usd(K("cost_usd"), r.tts_cost_usd);
    w.text(K("error"), r.tts_error);
    w.raw("}");
  }
  w.raw(K("attempts") "[");
  for (size_t i = 0; i < r.attempts.size(); ++i) {
    const AttemptRecord& a = r.attempts[i];
    w.text(i == 0 ? std::string_view("{\"model\":") : std::string_view(",{\"model\":"), a.model);
    w.text(K("provider"), a.provider);
    w.number(K("status"), a.status);
    w.text(K("error_class"), a.error_class);
    w.number(K("start_ms"), a.start_ms);
    w.number(K("duration_ms"), a.duration_ms);
    w.optional_number(K("ttft_ms"), a.ttft_ms);
    w.boolean(K("served"), a.served);
    w.number(K("tokens_in"), a.tokens_in);
    w.number(K("tokens_out"), a.tokens_out);
    w.usd(K("cost_usd"), a.cost_usd);
    w.raw("}");
  }
  w.raw("]");
  if (bodies) {
    w.text(K("request_body"), r.request_body);
    w.text(K("response_body"), r.response_body);
  }
  w.raw("}");
}

}  // namespace

namespace {

void put_digits(char* at, size_t width, int64_t v) {
  for (size_t i = width; i-- > 0; v /= 10) at[i] = static_cast<char>('0' + v % 10);
}

// "YYYY-MM-DDTHH:MM:SS.mmmZ" (years 0 to 9999). Records come in time order, so the part to the
// second is worked out once a second per thread and copied for the records within it.
void write_time(Writer& w, int64_t unix_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(unix_ms)};
  const auto second = floor<seconds>(t);
  thread_local sys_seconds cached_second = sys_seconds::min();
  thread_local char cached[] = "0000-00-00T00:00:00";
  if (second != cached_second) {
    const auto day = floor<days>(second);
    const year_month_day ymd{day};
    const hh_mm_ss<seconds> time{second - day};
    put_digits(cached, 4, std::clamp(static_cast<int>(ymd.year()), 0, 9999));
    put_digits(cached + 5, 2, static_cast<unsigned>(ymd.month()));
    put_digits(cached + 8, 2, static_cast<unsigned>(ymd.day()));
    put_digits(cached + 11, 2, time.hours().count());
    put_digits(cached + 14, 2, time.minutes().count());
    put_digits(cached + 17, 2, time.seconds().count());
    cached_second = second;
  }
  char ms[] = ".000Z";
  put_digits(ms + 1, 3, (t - second).count());
  w.raw(std::string_view(cached, 19));
  w.raw(std::string_view(ms, 5));
}

}  // namespace

void append_time(std::string& out, int64_t unix_ms) {
  char buf[24];
  Writer w{buf};
  write_time(w, unix_ms);
  out.append(buf, 24);
}

void append_json(std::string& out, const RequestRecord& r, bool bodies, std::string_view first) {
  // Written into a per-thread buffer that only grows, then appended: resizing `out` to the
  // bound first would fill it with zeros (C++20 has no resize_and_overwrite).
  thread_local std::vector<char> room;
  if (const size_t need = max_json_size(r, bodies) + first.size(); room.size() < need) {
    room.resize(std::max(need, 2 * room.size()));
  }
  Writer w{room.data()};
  w.raw("{");
  w.raw(first);
  write_json(w, r, bodies);
  out.append(room.data(), w.p);
}

void append_json(std::string& out, const OutcomeEvent& e, std::string_view first) {
  size_t room = 256 + first.size();  // keys, numbers, the value (24 characters at most)
  for (const std::string* str : {&e.event_id, &e.request_id, &e.user, &e.router, &e.name}) {
    room += json::max_quoted_size(str->size());
  }
  const size_t at = out.size();
  out.resize(at + room);  // outcomes are rare: the zeros cost nothing that matters
  Writer w{out.data() + at};
  w.raw("{");
  w.raw(first);
  w.text("\"event_id\":", e.event_id);
  w.raw(K("time") "\"");
  write_time(w, e.time_ms);
  w.raw("\"");
  w.number(K("time_ms"), e.time_ms);
  w.text(K("request_id"), e.request_id);
  w.text(K("user"), e.user);
  w.text(K("router"), e.router);
  w.text(K("name"), e.name);
  w.raw(K("value"));
  w.p = fmt::format_to(w.p, "{}", e.value);
  w.raw("}");
  out.resize(static_cast<size_t>(w.p - out.data()));
}

#undef K

}  // namespace sy::telemetry
