#pragma once
// Prometheus metrics for GET /metrics, in the text exposition format 0.0.4.
//
//   Metrics metrics;                                // one per process
//   metrics.observe(record);                        // the telemetry thread, once per record
//   metrics.add_gauge_source([&](GaugeWriter& w) {  // read at each render
//     w.write(families::kTelemetryQueueDepth, {}, pipeline.depth());
//   });
//   std::string body;  metrics.render(body);        // any thread; served as kContentType
//
// The series (all names start with switchyard_):
//
//   From the records (observe):
//   requests_total{router,route,variant,model,provider,dialect,status}      counter
//       status: the HTTP status code the client got ("200", "429", ...; "0" when none)
//   request_errors_total{router,route,variant,model,provider,class}         counter
//       requests that failed; class: their error_class ("upstream_unreachable", ...)
//   attempts_total{model,provider,outcome}                                  counter
//       outcome: the attempt's error_class when it has one, else "served", else "unused"
//   ttft_seconds{router,route,variant,model,provider}                       histogram
//       first token at the client, from the request's start; requests that had one
//   request_duration_seconds{router,route,variant,model,provider}           histogram
//       until the last byte went to the client; every request
//   tokens_total{router,route,variant,model,provider,kind}                  counter
//       kind: "input" (cached included), "output" (reasoning included), "cached", "reasoning"
//   cost_usd_total{router,route,variant,model,provider}                     counter
//       at provider rates; an attempt's own cost under its own model, the rest under the request's
//
//   model, provider: the model that served; for a request none served, its last attempt's ("" when
//   it made none). router, route, variant: "" for a request that named a model (a variant's name
//   is unique only within its route, hence route beside it). Label values come from the
//   configuration, so label sets are bounded; `max_series` guards against the rest (model names
//   through a `models: "*"` provider): past it, a family's new label sets all count in one
//   series whose label values are kOverflowLabel. Token and cost series appear at their first
//   non-zero value.
//
//   From gauge sources at render time (the families:: below; the integrator writes them):
//   upstream_idle_connections{worker}     gauge
//   upstream_active_connections{worker}   gauge
//   telemetry_queue_depth                 gauge
//   telemetry_dropped_records_total       counter
//   circuit_state{scope,name}             gauge: 0 closed, 1 open, 2 half-open;
//                                         scope "provider" | "model"
//   export_*                              the exporters' own families (Family constants of theirs)

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "telemetry/record.h"

namespace sy::telemetry {

enum class MetricType { kCounter, kGauge };

// A metric family written by a gauge source. `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*; a
// counter's ends in _total. `help` is one line of prose (escaped when written).
struct Family {
  std::string_view name;
  std::string_view help;
  MetricType type = MetricType::kGauge;
};

namespace families {
inline constexpr Family kUpstreamIdleConnections{
    "switchyard_upstream_idle_connections",
    "Idle keep-alive connections in a worker's upstream pool.", MetricType::kGauge};
inline constexpr Family kUpstreamActiveConnections{
    "switchyard_upstream_active_connections",
    "Upstream connections of a worker in use by a request (opening or open, not idle).", MetricType::kGauge};
inline constexpr Family kTelemetryQueueDepth{"switchyard_telemetry_queue_depth",
                                             "Records waiting in the telemetry queue.",
                                             MetricType::kGauge};
inline constexpr Family kTelemetryDroppedRecords{
    "switchyard_telemetry_dropped_records_total",
    "Records dropped because the telemetry queue was full.", MetricType::kCounter};
inline constexpr Family kTelemetryPriorityRaises{
    "switchyard_telemetry_priority_raises_total",
    "Times the telemetry thread was raised from idle to normal CPU priority to catch up.",
    MetricType::kCounter};
inline constexpr Family kCircuitState{"switchyard_circuit_state",
                                      "Circuit breaker state: 0 closed, 1 open, 2 half-open.",
                                      MetricType::kGauge};
}  // namespace families

// The values of switchyard_circuit_state.
enum class CircuitStateValue { kClosed = 0, kOpen = 1, kHalfOpen = 2 };

// {label name, label value}. Names match [a-zA-Z_][a-zA-Z0-9_]* and do not start with "__".
using Label = std::pair<std::string_view, std::string_view>;

// What a gauge source writes into. HELP and TYPE go out once per family however many sources
// write to it, and a family's samples stay together (the format requires both). A sample of a
// family named by the built-in series, of a family declared again with another type, or with an
// invalid metric or label name is a bug (SY_BUG) and is dropped.
class GaugeWriter {
 public:
  //   w.write(families::kCircuitState, {{"scope", "provider"}, {"name", name}}, 1);
  void write(const Family& family, std::initializer_list<Label> labels, double value);

 private:
  friend class Metrics;
  explicit GaugeWriter(std::span<const std::string_view> reserved) : reserved_(reserved) {}
  void append_to(std::string& out) const;

  struct Out {
    std::string name;
    std::string help;
    MetricType type;
    std::string samples;
  };
  std::span<const std::string_view> reserved_;
  std::vector<Out> families_;  // in the order first written
};

struct MetricsOptions {
  // Histogram bucket upper bounds in seconds, ascending; +Inf is implied.
  std::vector<double> ttft_buckets_s = {0.05, 0.1, 0.25, 0.5, 0.75, 1,  1.5, 2,
                                        3,    5,   7.5,  10,  15,   30, 60};
  std::vector<double> duration_buckets_s = {0.1, 0.25, 0.5, 1,  2,  3,  5,   7.5, 10,
                                            15,  20,   30,  45, 60, 90, 120, 180, 300};
  // Label sets per family before new ones go into the overflow series.
  size_t max_series = 10000;
};

class Metrics {
 public:
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";
  static constexpr std::string_view kOverflowLabel = "__overflow__";

  explicit Metrics(MetricsOptions options = {});
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // From one thread (the telemetry thread). A record whose series exist costs a few hash
  // look-ups and no allocation; the batch form takes the lock once.
  void observe(const RequestRecord& record);
  void observe(std::span<const RequestRecord> batch);

  // Sources are called by render, in the order added, without the lock that observe takes.
  void add_gauge_source(std::function<void(GaugeWriter&)> source);

  // Appends the exposition: the built-in families (HELP and TYPE even before their first
  // sample), then the gauge sources' families. Series sorted by label values. Any thread.
  void render(std::string& out) const;

 private:
  struct Families;  // metrics.cc
  void observe_locked(const RequestRecord& record);

  std::unique_ptr<Families> families_;  // guarded by mutex_
  mutable std::mutex mutex_;
  mutable std::mutex sources_mutex_;
  std::vector<std::function<void(GaugeWriter&)>> sources_;  // guarded by sources_mutex_
};

}  // namespace sy::telemetry
