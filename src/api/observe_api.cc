// GET /v1/logs, POST /v1/feedback, GET /metrics and the experiments' stats (see observe_api.h).
#include "api/observe_api.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "api/routers_api.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/json_scan.h"
#include "http/wire.h"
#include "telemetry/record_json.h"
#include "telemetry/stats.h"

namespace sy::api {
namespace {

using http::Header;
using http::Method;
using http::Task;

// Runs `f` (blocking: SQLite) on the observability pool; the caller resumes on its worker.
template <class F>
Task<std::invoke_result_t<F>> off_worker(Observability& obs, F f) {
  co_return co_await boost::asio::co_spawn(
      obs.pool(), [&f]() -> Task<std::invoke_result_t<F>> { co_return f(); }, boost::asio::use_awaitable);
}

Task<void> reply(http::Response& res, std::string_view request_id, int status, std::string_view body,
                 std::string_view content_type = "application/json") {
  const std::array<Header, 1> h{Header{"x-switchyard-request-id", request_id}};
  co_await res.send(status, content_type, body, h);
}

// With the log off (log.enabled: false) there is nothing to read.
const Error kLogOff{ErrorCode::kUnavailable, "The request log is off (log.enabled: false in the config).", {}, 0};

// Callers build the error as a named value first: a temporary with a destructor inside a
// co_await expression is miscompiled by GCC 12.
Task<void> reply_error(http::Response& res, std::string_view request_id, const Error& e) {
  const std::string body = admin_error_body(e);
  co_await reply(res, request_id, http_status(e.code), body);
}

Task<void> not_allowed(http::Response& res, std::string_view request_id, std::string_view allow) {
  {
    const Error e = Error{ErrorCode::kMethodNotAllowed, fmt::format("This path accepts {} only.", allow), {}, 0};
    co_await reply_error(res, request_id, e);
  }
}

// The log a GET reads; null (and the client answered) for another method or with the log off.
Task<store::LogStore*> readable_log(http::Request& req, http::Response& res, std::string_view request_id,
                                    Observability& obs) {
  if (req.method() != Method::kGet) {
    co_await not_allowed(res, request_id, "GET");
    co_return nullptr;
  }
  if (obs.log() == nullptr) co_await reply_error(res, request_id, kLogOff);
  co_return obs.log();
}

// A number as JSON; NaN (undefined) as null.
void number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "null";
  } else if (std::isinf(v)) {
    out += v > 0 ? "1e308" : "-1e308";
  } else {
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
}

void interval(std::string& out, double lo, double hi) {
  out += '[';
  number(out, lo);
  out += ',';
  number(out, hi);
  out += ']';
}

// The window of a stats or logs query: `since` (default: `default_span_ms` before now) and
// `until` (default: now).
Result<std::pair<int64_t, int64_t>> window(const http::Request& req, int64_t default_span_ms, bool open_ended) {
  const int64_t now = unix_now_ms();
  std::pair<int64_t, int64_t> w{now - default_span_ms, open_ended ? std::numeric_limits<int64_t>::max() : now};
  for (const auto& [key, slot] : {std::pair{"since", &w.first}, std::pair{"until", &w.second}}) {
    const std::string v = http::query_param(req.target(), key);
    if (v.empty()) continue;
    const auto t = parse_time(v, now);
    if (!t) {
      return fail(ErrorCode::kInvalidRequest,
                  fmt::format("'{}' is not a time: use unix milliseconds, RFC 3339 (2026-12-03T16:00:00Z) or a "
                              "duration before now (15m, 1h, 7d).",
                              v),
                  key);
    }
    *slot = *t;
  }
  if (w.first > w.second) return fail(ErrorCode::kInvalidRequest, "'since' must not be after 'until'.", "since");
  return w;
}

}  // namespace

std::optional<int64_t> parse_time(std::string_view text, int64_t now) {
  if (text.empty()) return std::nullopt;
  int64_t n = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, n);
  if (ec == std::errc() && p == end) return n;  // unix ms
  if (ec == std::errc() && p + 1 == end && n >= 0) {  // a duration before now
    switch (*p) {
      case 's': return now - n * 1000;
      case 'm': return now - n * 60'000;
      case 'h': return now - n * 3'600'000;
      case 'd': return now - n * 86'400'000;
      default: return std::nullopt;
    }
  }
  // RFC 3339: YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (text.size() < 19 || std::sscanf(std::string(text.substr(0, 19)).c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h,
                                      &mi, &s) != 6) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(19);
  int64_t ms = 0;
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (digits++ < 3) ms = ms * 10 + (rest.front() - '0');
      rest.remove_prefix(1);
    }
    while (digits++ < 3) ms *= 10;
  }
  int64_t offset_min = 0;
  if (rest == "Z" || rest == "z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset_min = (rest[0] == '+' ? 1 : -1) * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  const auto days = std::chrono::sys_days(ymd).time_since_epoch();
  return std::chrono::duration_cast<std::chrono::milliseconds>(days).count() +
         ((h * 60 + mi - offset_min) * 60 + s) * 1000 + ms;
}

bool is_logs_path(std::string_view path) { return path == "/v1/logs" || path.starts_with("/v1/logs/"); }

Task<void> serve_logs(http::Request& req, http::Response& res, std::string_view request_id, Observability& obs) {
  store::LogStore* log = co_await readable_log(req, res, request_id, obs);
  if (log == nullptr) co_return;
  const std::string_view path = req.path();
  if (path.size() > 9) {  // /v1/logs/{id}
    const std::string id = http::percent_decode(path.substr(9));
    auto found = co_await off_worker(obs, [&] { return log->get(id); });
    if (!found) {
      co_await reply_error(res, request_id, found.error());
    } else if (!*found) {
      {
        const Error e = Error{ErrorCode::kNotFound, fmt::format("No request '{}' in the log (or retention removed it).", id), {}, 0};
        co_await reply_error(res, request_id, e);
      }
    } else {
      std::string body;
      telemetry::append_json(body, **found, /*bodies=*/true);
      co_await reply(res, request_id, 200, body);
    }
    co_return;
  }
  auto w = window(req, /*default_span_ms=*/std::numeric_limits<int64_t>::max() / 2, /*open_ended=*/true);
  if (!w) {
    co_await reply_error(res, request_id, w.error());
    co_return;
  }
  store::LogQuery q;
  q.since_ms = std::max<int64_t>(0, w->first);
  q.until_ms = w->second;
  const std::string_view target = req.target();
  q.router = http::query_param(target, "router");
  q.route = http::query_param(target, "route");
  q.variant = http::query_param(target, "variant");
  q.model = http::query_param(target, "model");
  q.user = http::query_param(target, "user");
  q.cursor = http::query_param(target, "cursor");
  const std::string errors = http::query_param(target, "errors");
  q.errors_only = errors == "true" || errors == "1";
  int64_t numbers[2] = {0, 50};  // status, limit
  for (int i = 0; i < 2; ++i) {
    const std::string_view key = i == 0 ? "status" : "limit";
    const std::string v = http::query_param(target, key);
    if (v.empty()) continue;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), numbers[i]);
    if (ec != std::errc() || p != v.data() + v.size() || numbers[i] < 0) {
      {
        const Error e = Error::invalid(fmt::format("'{}' must be a whole number.", key), std::string(key));
        co_await reply_error(res, request_id, e);
      }
      co_return;
    }
  }
  q.status = static_cast<int>(numbers[0]);
  q.limit = static_cast<size_t>(numbers[1]);
  auto page = co_await off_worker(obs, [&] { return log->query(q); });
  if (!page) {
    co_await reply_error(res, request_id, page.error());
    co_return;
  }
  std::string body = R"({"object":"list","data":[)";
  for (const auto& r : page->records) {
    if (body.back() != '[') body += ',';
    telemetry::append_json(body, r, /*bodies=*/false);
  }
  body += R"(],"next_cursor":)";
  if (page->next_cursor.empty()) {
    body += "null";
  } else {
    json::append_quoted(body, page->next_cursor);
  }
  body += '}';
  co_await reply(res, request_id, 200, body);
}

Task<void> serve_feedback(http::Request& req, http::Response& res, std::string_view request_id, Observability& obs) {
  if (req.method() != Method::kPost) {
    co_await not_allowed(res, request_id, "POST");
    co_return;
  }
  telemetry::Pipeline* pipeline = obs.pipeline();
  if (pipeline == nullptr) {
    co_await reply_error(res, request_id, kLogOff);
    co_return;
  }
  // One event, or {"events": [...]}.
  const std::string& body = req.body();
  static constexpr std::array<std::string_view, 1> kEvents{"events"};
  std::array<json::Field, 1> top;
  std::vector<json::Field> items;
  if (auto r = json::scan_object(body, kEvents, top); !r) {
    {
      const Error e = Error::invalid(fmt::format("The body is not a JSON object: {}", r.error().message));
      co_await reply_error(res, request_id, e);
    }
    co_return;
  }
  if (top[0].kind == json::Kind::kArray) {
    if (!json::scan_array(top[0].raw, items)) items.clear();  // validated with the body: cannot fail
  } else {
    items.push_back({body, json::Kind::kObject});
  }
  if (items.empty() || items.size() > 1000) {
    {
      const Error e = Error::invalid("Send one event, or {\"events\": [...]} with 1 to 1000 events.", "events");
      co_await reply_error(res, request_id, e);
    }
    co_return;
  }
  static constexpr std::array<std::string_view, 7> kKeys{"event_id", "request_id", "user", "router", "name", "value", "time"};
  const int64_t now = unix_now_ms();
  std::vector<telemetry::OutcomeEvent> events;
  std::string problems;
  auto problem = [&](size_t i, std::string_view what) {
    if (!problems.empty()) problems += "; ";
    problems += items.size() > 1 ? fmt::format("events[{}]: {}", i, what) : std::string(what);
  };
  for (size_t i = 0; i < items.size(); ++i) {
    std::array<json::Field, kKeys.size()> f;
    if (items[i].kind != json::Kind::kObject || !json::scan_object(items[i].raw, kKeys, f)) {
      problem(i, "must be an object");
      continue;
    }
    telemetry::OutcomeEvent e;
    auto string_field = [&](size_t k, std::string& out) {
      if (f[k].kind == json::Kind::kString) out = json::unescape(f[k].raw);
      else if (f[k].present() && f[k].kind != json::Kind::kNull) problem(i, fmt::format("'{}' must be a string", kKeys[k]));
    };
    string_field(0, e.event_id);
    string_field(1, e.request_id);
    string_field(2, e.user);
    string_field(3, e.router);
    string_field(4, e.name);
    if (e.request_id.empty() && e.user.empty()) problem(i, "give the outcome a 'request_id' or a 'user'");
    if (e.name.empty()) problem(i, "'name' is required: the outcome metric, such as \"csat\" or \"conversion\"");
    if (f[5].kind == json::Kind::kNumber) {
      e.value = std::strtod(std::string(f[5].raw).c_str(), nullptr);
    } else if (f[5].kind == json::Kind::kTrue || f[5].kind == json::Kind::kFalse) {
      e.value = f[5].kind == json::Kind::kTrue ? 1 : 0;
    } else {
      problem(i, "'value' is required: a number (a rating, 1 or 0 for a conversion) or true/false");
    }
    if (e.name == "csat" && (e.value < 1 || e.value > 5 || e.value != std::floor(e.value))) {
      problem(i, "a 'csat' value is a whole number from 1 to 5");
    }
    e.time_ms = now;
    if (f[6].kind == json::Kind::kNumber || f[6].kind == json::Kind::kString) {
      const std::string t = f[6].kind == json::Kind::kString ? json::unescape(f[6].raw) : std::string(f[6].raw);
      if (auto ms = parse_time(t, now)) {
        e.time_ms = *ms;
      } else {
        problem(i, "'time' must be unix milliseconds or RFC 3339");
      }
    }
    // Without an id of the client's, the event cannot be told from a retry: give it one.
    if (e.event_id.empty()) e.event_id = "evt_" + new_request_id().substr(4);
    events.push_back(std::move(e));
  }
  if (!problems.empty()) {
    {
      const Error e = Error::invalid(problems);
      co_await reply_error(res, request_id, e);
    }
    co_return;
  }
  std::string out = fmt::format(R"({{"accepted":{},"event_ids":[)", events.size());
  for (auto& e : events) {
    if (out.back() != '[') out += ',';
    json::append_quoted(out, e.event_id);
    pipeline->submit(std::move(e));
  }
  out += "]}";
  co_await reply(res, request_id, 202, out);
}

Task<void> serve_metrics(http::Response& res, std::string_view request_id, Observability& obs) {
  std::string body;
  obs.metrics().render(body);
  co_await reply(res, request_id, 200, body, telemetry::Metrics::kContentType);
}

bool is_stats_path(std::string_view path) {
  return path.starts_with("/router/v1/routers/") && path.ends_with("/stats");
}

Task<void> serve_stats(http::Request& req, http::Response& res, std::string_view request_id, Observability& obs) {
  store::LogStore* log = co_await readable_log(req, res, request_id, obs);
  if (log == nullptr) co_return;
  const std::string_view path = req.path();
  const std::string router = http::percent_decode(path.substr(19, path.size() - 19 - 6));
  auto w = window(req, /*default_span_ms=*/86'400'000, /*open_ended=*/false);
  if (!w) {
    co_await reply_error(res, request_id, w.error());
    co_return;
  }
  auto stats = co_await off_worker(obs, [&] { return log->variant_stats(router, w->first, w->second); });
  if (!stats) {
    co_await reply_error(res, request_id, stats.error());
    co_return;
  }
  // Per route: each variant's figures; for a route of two variants, the second against the first.
  std::map<std::string, std::vector<const store::VariantStats*>> routes;
  for (const auto& v : *stats) routes[v.route].push_back(&v);
  // An outcome whose values are all 0 or 1 (a conversion) is a rate: x*x == x for each value.
  auto is_rate = [](const store::MetricSums& m) { return m.sum == m.sum_sq; };
  std::string out = R"({"router":)";
  json::append_quoted(out, router);
  out += R"(,"since":")";
  telemetry::append_time(out, w->first);
  out += R"(","until":")";
  telemetry::append_time(out, w->second);
  out += R"(","routes":[)";
  for (const auto& [route, variants] : routes) {
    if (out.back() != '[') out += ',';
    out += R"({"route":)";
    json::append_quoted(out, route);
    out += R"(,"variants":[)";
    for (const store::VariantStats* v : variants) {
      if (out.back() != '[') out += ',';
      out += R"({"variant":)";
      json::append_quoted(out, v->variant);
      fmt::format_to(std::back_inserter(out), R"(,"requests":{},"users":{},"errors":{},"error_rate":{{"value":)",
                     v->requests, v->users, v->errors);
      const auto rate = telemetry::proportion_ci(v->errors, v->requests);
      number(out, rate.p);
      out += R"(,"ci95":)";
      interval(out, rate.lo, rate.hi);
      out += R"(},"ttft_ms":{"p50":)";
      number(out, v->ttft_p50_ms < 0 ? telemetry::kNaN : v->ttft_p50_ms);
      out += R"(,"p95":)";
      number(out, v->ttft_p95_ms < 0 ? telemetry::kNaN : v->ttft_p95_ms);
      out += R"(},"latency_ms":{"p50":)";
      number(out, v->latency_p50_ms < 0 ? telemetry::kNaN : v->latency_p50_ms);
      out += R"(,"p95":)";
      number(out, v->latency_p95_ms < 0 ? telemetry::kNaN : v->latency_p95_ms);
      out += R"(},"cost_usd":)";
      number(out, v->cost_usd);
      out += R"(,"cost_per_request_usd":)";
      number(out, v->requests > 0 ? v->cost_usd / static_cast<double>(v->requests) : telemetry::kNaN);
      out += R"(,"outcomes":{)";
      for (const auto& m : v->outcomes) {
        if (out.back() != '{') out += ',';
        json::append_quoted(out, m.name);
        if (is_rate(m)) {
          const auto p = telemetry::proportion_ci(static_cast<int64_t>(m.sum), m.n);
          fmt::format_to(std::back_inserter(out), R"(:{{"kind":"rate","n":{},"rate":)", m.n);
          number(out, p.p);
          out += R"(,"ci95":)";
          interval(out, p.lo, p.hi);
        } else {
          const auto c = telemetry::mean_ci(m.n, m.sum, m.sum_sq);
          fmt::format_to(std::back_inserter(out), R"(:{{"kind":"mean","n":{},"mean":)", m.n);
          number(out, c.mean);
          out += R"(,"sd":)";
          number(out, c.sd);
          out += R"(,"ci95":)";
          interval(out, c.lo, c.hi);
        }
        out += '}';
      }
      out += "}}";
    }
    out += ']';
    if (variants.size() == 2) {
      const store::VariantStats& a = *variants[0];
      const store::VariantStats& b = *variants[1];
      // b − a: the difference, its interval, the test's p-value (Comparison or ProportionComparison).
      auto difference = [&](const auto& d) {
        out += R"({"difference":)";
        number(out, d.diff);
        out += R"(,"ci95":)";
        interval(out, d.lo, d.hi);
        out += R"(,"p_value":)";
        number(out, d.p_value);
        out += d.significant ? R"(,"significant":true})" : R"(,"significant":false})";
      };
      auto proportions = [&](int64_t sa, int64_t na, int64_t sb, int64_t nb) {
        difference(telemetry::two_proportions(telemetry::proportion_ci(sa, na), telemetry::proportion_ci(sb, nb)));
      };
      out += R"(,"comparison":{"a":)";
      json::append_quoted(out, a.variant);
      out += R"(,"b":)";
      json::append_quoted(out, b.variant);
      out += R"(,"error_rate":)";
      proportions(a.errors, a.requests, b.errors, b.requests);
      out += R"(,"outcomes":{)";
      for (const auto& ma : a.outcomes) {
        const auto mb = std::find_if(b.outcomes.begin(), b.outcomes.end(), [&](const auto& m) { return m.name == ma.name; });
        if (mb == b.outcomes.end()) continue;
        if (out.back() != '{') out += ',';
        json::append_quoted(out, ma.name);
        out += ':';
        if (is_rate(ma) && is_rate(*mb)) {
          proportions(static_cast<int64_t>(ma.sum), ma.n, static_cast<int64_t>(mb->sum), mb->n);
        } else {
          difference(telemetry::welch(telemetry::mean_ci(ma.n, ma.sum, ma.sum_sq),
                                      telemetry::mean_ci(mb->n, mb->sum, mb->sum_sq)));
        }
      }
      out += "}}";
    }
    out += '}';
  }
  out += "]}";
  co_await reply(res, request_id, 200, out);
}

}  // namespace sy::api
