#include "telemetry/metrics.h"

#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sy::telemetry {
namespace {

MetricsOptions small_buckets() {
  return {.ttft_buckets_s = {0.5, 1}, .duration_buckets_s = {1, 5}};
}

RequestRecord served_record() {
  RequestRecord r;
  r.router = "support";
  r.route = "free";
  r.variant = "cheap";
  r.dialect = "openai";
  r.model = "demo/cheap";
  r.provider = "demo";
  r.status = 200;
  r.ttft_ms = 300;
  r.latency_ms = 1200;
  r.tokens_in = 100;
  r.tokens_out = 20;
  r.tokens_cached = 40;
  r.cost_usd = 0.001;
  r.attempts.push_back({.model = "demo/cheap",
                        .provider = "demo",
                        .status = 200,
                        .served = true,
                        .cost_usd = 0.001});
  return r;
}

RequestRecord failed_record() {
  RequestRecord r;
  r.router = "support";
  r.route = "free";
  r.variant = "cheap";
  r.dialect = "anthropic";
  r.status = 503;
  r.error_class = "upstream_5xx";
  r.latency_ms = 250;
  r.attempts.push_back(
      {.model = "demo/cheap", .provider = "demo", .status = 503, .error_class = "upstream_5xx"});
  return r;
}

// No router; a model name that needs every escape; a fallback that timed out but cost money.
RequestRecord odd_record() {
  RequestRecord r;
  r.dialect = "openai";
  r.model = "a\"b\\c\nd";
  r.provider = "p";
  r.status = 200;
  r.ttft_ms = 2000;
  r.latency_ms = 6000;
  r.cost_usd = 0.5;
  r.attempts.push_back(
      {.model = "x/fallback", .provider = "x", .error_class = "ttft_timeout", .cost_usd = 0.2});
  r.attempts.push_back({.model = r.model, .provider = "p", .status = 200, .served = true});
  return r;
}

constexpr std::string_view kThreeRecords =
    R"txt(# HELP switchyard_requests_total Requests, by router, route, variant, served model and status.
# TYPE switchyard_requests_total counter
switchyard_requests_total{router="",route="",variant="",model="a\"b\\c\nd",provider="p",dialect="openai",status="200"} 1
switchyard_requests_total{router="support",route="free",variant="cheap",model="demo/cheap",provider="demo",dialect="anthropic",status="503"} 1
switchyard_requests_total{router="support",route="free",variant="cheap",model="demo/cheap",provider="demo",dialect="openai",status="200"} 1
# HELP switchyard_request_errors_total Requests that failed, by error class.
# TYPE switchyard_request_errors_total counter
switchyard_request_errors_total{router="support",route="free",variant="cheap",model="demo/cheap",provider="demo",class="upstream_5xx"} 1
# HELP switchyard_attempts_total Attempts of the requests' plans, by outcome.
# TYPE switchyard_attempts_total counter
switchyard_attempts_total{model="a\"b\\c\nd",provider="p",outcome="served"} 1
switchyard_attempts_total{model="demo/cheap",provider="demo",outcome="served"} 1
switchyard_attempts_total{model="demo/cheap",provider="demo",outcome="upstream_5xx"} 1
switchyard_attempts_total{model="x/fallback",provider="x",outcome="ttft_timeout"} 1
# HELP switchyard_ttft_seconds Time to the first token at the client, from the request's start.
# TYPE switchyard_ttft_seconds histogram
switchyard_ttft_seconds_bucket{router="",route="",variant="",model="a\"b\\c\nd",provider="p",le="0.5"} 0
switchyard_ttft_seconds_bucket{router="",route="",variant="",model="a\"b\\c\nd",provider="p",le="1"} 0
switchyard_ttft_seconds_bucket{router="",route="",variant="",model="a\"b\\c\nd",provider="p",le="+Inf"} 1
switchyard_ttft_seconds_sum{router="",route="",variant="",model="a\"b\\c\nd",provider="p"} 2
switchyard_ttft_seconds_count{router="",route="",variant="",model="a\"b\\c\nd",provider="p"} 1
switchyard_ttft_seconds_bucket{router="support",route="free",variant="cheap",model="demo/cheap",provider="demo",le="0.5"} 1
switchyard_ttft_seconds_bucket{router="support",route="free",variant="cheap",model="demo/cheap",provider="demo",le="1"} 1
switchyard_ttft_seconds_bucket{router="support",route="free",variant="cheap",model="demo/cheap",provider="demo",le="+Inf"} 1
switchyard_ttft_seconds_sum{router="support",route="free",variant="cheap",model="demo/cheap",provider="demo"} 0.3
switchyard_ttft_seconds_count{router="support",route="free",variant="cheap",model="demo/cheap",provider="demo"} 1
# HELP switchyard_request_duration_seconds Time until the last byte went to the client.
# TYPE switchyard_request_duration_seconds histogram
switchyard_request_duration_seconds_bucket{router="",route="",variant="",model="a\"b\\c\nd",provider="p",le="1"} 0
switchyard_request_duration_seconds_bucket{router="",route="",variant="",model="a\"b\\c\nd",provider="p",le="5"} 0
switchyard_request_duration_seconds_bucket{router="",route="",variant="",model="a\"b\\c\nd",provider="p",le="+Inf"} 1
switchyard_request_duration_seconds_sum{router="",route="",variant="",model="a\"b\\c\nd",provider="p"} 6
switchyard_request_duration_seconds_count{router="",route="",variant="",model="a\"b\\c\nd",provider="p"} 1
switchyard_request_duration_seconds_bucket{router="support",route="free",variant="cheap",model="demo/cheap",provider="demo",le="1"} 1
switchyard_request_duration_seconds_bucket{router="support",route="free",variant="cheap",model="demo/cheap",provider="demo",le="5"} 2
switchyard_request_duration_seconds_bucket{router="support",route="free",variant="cheap",model="demo/cheap",provider="demo",le="+Inf"} 2
switchyard_request_duration_seconds_sum{router="support",route="free",variant="cheap",model="demo/cheap",provider="demo"} 1.45
switchyard_request_duration_seconds_count{router="support",route="free",variant="cheap",model="demo/cheap",provider="demo"} 2
# HELP switchyard_tokens_total Tokens used: input (cached included), output (reasoning included), cached, reasoning.
# TYPE switchyard_tokens_total counter
switchyard_tokens_total{router="support",route="free",variant="cheap",model="demo/cheap",provider="demo",kind="cached"} 40
switchyard_tokens_total{router="support",route="free",variant="cheap",model="demo/cheap",provider="demo",kind="input"} 100
switchyard_tokens_total{router="support",route="free",variant="cheap",model="demo/cheap",provider="demo",kind="output"} 20
# HELP switchyard_cost_usd_total Cost in US dollars at provider rates.
# TYPE switchyard_cost_usd_total counter
switchyard_cost_usd_total{router="",route="",variant="",model="a\"b\\c\nd",provider="p"} 0.3
switchyard_cost_usd_total{router="",route="",variant="",model="x/fallback",provider="x"} 0.2
switchyard_cost_usd_total{router="support",route="free",variant="cheap",model="demo/cheap",provider="demo"} 0.001
)txt";

// ---- a line grammar of the text format 0.0.4, to read the whole output back -----------------

struct Sample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  std::string value;
};

bool is_name(std::string_view s, bool colon) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) {
    return false;
  }
  for (const char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && !(colon && c == ':')) {
      return false;
    }
  }
  return true;
}

bool is_value(const std::string& v) {
  if (v == "+Inf" || v == "-Inf" || v == "NaN") {
    return true;
  }
  char* end = nullptr;
  std::strtod(v.c_str(), &end);
  return !v.empty() && end == v.c_str() + v.size() &&
         !std::isalpha(static_cast<unsigned char>(v[0]));
}

// name{label="value",...} value — escapes in values only \\, \" and \n. "" when it parses.
std::string parse_sample(std::string_view line, Sample& s) {
  size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ') {
    ++i;
  }
  s.name = line.substr(0, i);
  if (!is_name(s.name, true)) {
    return "bad metric name";
  }
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      const size_t eq = line.find("=\"", i);
      if (eq == std::string_view::npos || !is_name(line.substr(i, eq - i), false)) {
        return "bad label name";
      }
      std::string name(line.substr(i, eq - i)), value;
      for (i = eq + 2; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\') {
          if (++i == line.size() || (line[i] != '\\' && line[i] != '"' && line[i] != 'n')) {
            return "bad escape";
          }
          value += line[i] == 'n' ? '\n' : line[i];
        } else {
          value += line[i];
        }
      }
      if (i == line.size()) {
        return "unterminated label value";
      }
      s.labels.emplace_back(name, value);
      if (++i < line.size() && line[i] == ',') {
        ++i;
      }
    }
    if (i == line.size()) {
      return "unterminated labels";
    }
    ++i;
  }
  if (i >= line.size() || line[i] != ' ') {
    return "no value";
  }
  s.value = line.substr(i + 1);
  return is_value(s.value) ? "" : "bad value";
}

// Checks the whole exposition: HELP then TYPE once per family, a family's samples together and
// after its TYPE, names of the family's type, histogram buckets cumulative and ending in +Inf
// equal to _count. Returns "" or the first problem with its line.
std::string check_exposition(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return "does not end in a line feed";
  }
  std::set<std::string> seen;  // families begun
  std::string family, type;
  // Histogram series (name and labels but le) → its last bucket so far, its +Inf bucket.
  std::map<std::string, double> last_bucket;
  std::map<std::string, double> inf_bucket;
  size_t start = 0;
  for (size_t end = text.find('\n'); end != std::string_view::npos;
       start = end + 1, end = text.find('\n', start)) {
    const std::string_view line = text.substr(start, end - start);
    const auto fail = [&](std::string_view why) {
      return std::string(why) + ": " + std::string(line);
    };
    if (line.starts_with("# HELP ")) {
      const std::string_view rest = line.substr(7);
      family = rest.substr(0, rest.find(' '));
      type.clear();
      if (!seen.insert(family).second || !is_name(family, true) || rest.size() == family.size()) {
        return fail("repeated or bad HELP");
      }
      for (size_t i = family.size() + 1; i < rest.size(); ++i) {
        if (rest[i] == '\\' && (++i == rest.size() || (rest[i] != '\\' && rest[i] != 'n'))) {
          return fail("bad escape in HELP");
        }
      }
    } else if (line.starts_with("# TYPE ")) {
      const std::string_view rest = line.substr(7);
      if (!type.empty() || rest.substr(0, rest.find(' ')) != family) {
        return fail("TYPE without its HELP, or twice");
      }
      type = rest.substr(family.size() + 1);
      if (type != "counter" && type != "gauge" && type != "histogram") {
        return fail("unknown type");
      }
    } else {
      Sample s;
      if (const std::string why = parse_sample(line, s); !why.empty()) {
        return fail(why);
      }
      std::string suffix = s.name.starts_with(family) ? s.name.substr(family.size()) : "?";
      const bool ok = type == "histogram"
                          ? (suffix == "_bucket" || suffix == "_sum" || suffix == "_count")
                          : (suffix.empty() && (type != "counter" || family.ends_with("_total")));
      if (type.empty() || !ok) {
        return fail("sample outside its family");
      }
      if (type != "histogram" || suffix == "_sum") {
        continue;
      }
      std::string key = family;
      for (const auto& [k, v] : s.labels) {
        key += k == "le" ? "" : k + "=" + v + ",";
      }
      const double value = std::strtod(s.value.c_str(), nullptr);
      if (suffix == "_bucket") {
        if (s.labels.empty() || s.labels.back().first != "le" || value < last_bucket[key]) {
          return fail("bucket without le or not cumulative");
        }
        last_bucket[key] = value;
        if (s.labels.back().second == "+Inf") {
          inf_bucket[key] = value;
        }
      } else if (!inf_bucket.contains(key) || inf_bucket[key] != value) {
        return fail("_count is not the +Inf bucket");
      }
    }
  }
  return "";
}

TEST(Metrics, RendersRecordsExactly) {
  Metrics m(small_buckets());
  m.observe(served_record());
  const std::vector<RequestRecord> batch{failed_record(), odd_record()};
  m.observe(batch);
  std::string out;
  m.render(out);
  EXPECT_EQ(out, kThreeRecords);
  EXPECT_EQ(check_exposition(out), "");
}

TEST(Metrics, EmptyRendersEveryFamilysMetadata) {
  Metrics m;
  std::string out = "previous\n";
  m.render(out);
  EXPECT_TRUE(out.starts_with("previous\n# HELP switchyard_requests_total "));  // appends
  EXPECT_EQ(check_exposition(std::string_view(out).substr(9)), "");
  size_t types = 0;
  for (size_t at = out.find("# TYPE"); at != std::string::npos; at = out.find("# TYPE", at + 1)) {
    ++types;
  }
  EXPECT_EQ(types, 7u);
}

TEST(Metrics, DefaultBucketsAreCumulative) {
  Metrics m;
  for (const int64_t ms : {10, 60, 900, 2500, 45'000, 70'000, 400'000}) {
    RequestRecord r = served_record();
    r.ttft_ms = ms;
    r.latency_ms = ms;
    m.observe(r);
  }
  std::string out;
  m.render(out);
  EXPECT_EQ(check_exposition(out), "");
  EXPECT_NE(
      out.find(R"(switchyard_ttft_seconds_bucket{router="support",route="free",variant="cheap",)"
               R"(model="demo/cheap",provider="demo",le="0.05"} 1)"),
      std::string::npos);
  EXPECT_NE(out.find(R"(provider="demo",le="60"} 5)"), std::string::npos) << out;
  EXPECT_NE(
      out.find(
          R"(switchyard_request_duration_seconds_count{router="support",route="free",variant="cheap",)"
          R"(model="demo/cheap",provider="demo"} 7)"),
      std::string::npos);
}

TEST(Metrics, GaugeSourcesKeepOneHelpAndTypePerFamilyAndTheirSamplesTogether) {
  Metrics m(small_buckets());
  m.observe(served_record());
  m.add_gauge_source([](GaugeWriter& w) {
    w.write(families::kCircuitState, {{"scope", "provider"}, {"name", "openai"}}, 1);
    w.write(families::kTelemetryQueueDepth, {}, 3);
    w.write(families::kCircuitState, {{"scope", "model"}, {"name", "openai/gpt-4o"}}, 2);
  });
  m.add_gauge_source([](GaugeWriter& w) {
    w.write(families::kTelemetryDroppedRecords, {}, 7);
    w.write(families::kCircuitState, {{"scope", "provider"}, {"name", "we\"ird\\"}}, 0);
    const Family batches{"switchyard_export_batches_total", "Batches sent.\nBy exporter \\ sink.",
                         MetricType::kCounter};
    w.write(batches, {{"exporter", "mixpanel"}}, 1e21);
    w.write(families::kUpstreamIdleConnections, {{"worker", "0"}}, HUGE_VAL);
  });
  std::string out;
  m.render(out);
  EXPECT_EQ(check_exposition(out), "");
  const size_t gauges = out.find("# HELP switchyard_circuit_state");
  ASSERT_NE(gauges, std::string::npos);
  EXPECT_EQ(
      out.substr(gauges),
      R"txt(# HELP switchyard_circuit_state Circuit breaker state: 0 closed, 1 open, 2 half-open.
# TYPE switchyard_circuit_state gauge
switchyard_circuit_state{scope="provider",name="openai"} 1
switchyard_circuit_state{scope="model",name="openai/gpt-4o"} 2
switchyard_circuit_state{scope="provider",name="we\"ird\\"} 0
# HELP switchyard_telemetry_queue_depth Records waiting in the telemetry queue.
# TYPE switchyard_telemetry_queue_depth gauge
switchyard_telemetry_queue_depth 3
# HELP switchyard_telemetry_dropped_records_total Records dropped because the telemetry queue was full.
# TYPE switchyard_telemetry_dropped_records_total counter
switchyard_telemetry_dropped_records_total 7
# HELP switchyard_export_batches_total Batches sent.\nBy exporter \\ sink.
# TYPE switchyard_export_batches_total counter
switchyard_export_batches_total{exporter="mixpanel"} 1e+21
# HELP switchyard_upstream_idle_connections Idle keep-alive connections in a worker's upstream pool.
# TYPE switchyard_upstream_idle_connections gauge
switchyard_upstream_idle_connections{worker="0"} +Inf
)txt");

  std::string again;  // each render asks the sources anew
  m.render(again);
  EXPECT_EQ(again, out);
}

TEST(Metrics, NewLabelSetsPastTheLimitShareTheOverflowSeries) {
  Metrics m({.ttft_buckets_s = {1}, .duration_buckets_s = {1}, .max_series = 2});
  for (const char* model : {"m/1", "m/2", "m/3", "m/4", "m/1"}) {
    RequestRecord r;
    r.model = model;
    r.status = 200;
    m.observe(r);
  }
  std::string out;
  m.render(out);
  EXPECT_EQ(check_exposition(out), "");
  const std::string_view requests =
      std::string_view(out).substr(0, out.find("# HELP switchyard_request_errors_total"));
  EXPECT_EQ(
      requests.substr(requests.find("switchyard_requests_total{")),
      R"(switchyard_requests_total{router="",route="",variant="",model="m/1",provider="",dialect="",status="200"} 2
switchyard_requests_total{router="",route="",variant="",model="m/2",provider="",dialect="",status="200"} 1
switchyard_requests_total{router="__overflow__",route="__overflow__",variant="__overflow__",model="__overflow__",provider="__overflow__",dialect="__overflow__",status="__overflow__"} 2
)");
}

TEST(Metrics, TheCheckerRejectsWhatTheFormatForbids) {
  const std::string gauge_a = "# HELP a x\n# TYPE a gauge\n";
  EXPECT_NE(check_exposition(gauge_a + "a 1\n" + gauge_a), "");            // a family twice
  EXPECT_NE(check_exposition(gauge_a + "a{l=\"\\q\"} 1\n"), "");           // an unknown escape
  EXPECT_NE(check_exposition("# HELP a x\n# TYPE a counter\na 1\n"), "");  // no _total
  EXPECT_NE(check_exposition(gauge_a + "b 1\n"), "");                      // outside its family
  EXPECT_NE(check_exposition(gauge_a + "a one\n"), "");                    // not a number
  EXPECT_NE(check_exposition(
                "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"),
            "");  // not cumulative
  EXPECT_NE(
      check_exposition("# HELP h x\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n"), "");
  EXPECT_EQ(check_exposition(
                "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1.5\nh_count 2\n"),
            "");
}

// The telemetry thread observes while scrapes render (TSan runs this binary).
TEST(Metrics, RendersWhileAnotherThreadObserves) {
  Metrics m(small_buckets());
  std::atomic<bool> done{false};
  std::thread observer([&] {
    const std::vector<RequestRecord> batch(10, served_record());
    for (int i = 0; i < 100; ++i) {
      m.observe(batch);
      m.observe(failed_record());
    }
    done = true;
  });
  std::string out;
  do {
    out.clear();
    m.render(out);
    EXPECT_EQ(check_exposition(out), "");
  } while (!done);
  observer.join();
  out.clear();
  m.render(out);
  EXPECT_NE(out.find(R"(dialect="openai",status="200"} 1000)"), std::string::npos);
  EXPECT_NE(out.find(R"(dialect="anthropic",status="503"} 100)"), std::string::npos);
}

}  // namespace
}  // namespace sy::telemetry
