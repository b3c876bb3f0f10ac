#include "api/observability.h"

#include <cstdio>
#include <latch>

#include <boost/asio/post.hpp>

#include <fmt/format.h>

#include "core/thread_name.h"
#include "export/from_config.h"
#include "export/sink.h"

namespace sy::api {
namespace {

// Records into the SQLite request log; retention every minute.
class LogSink final : public telemetry::Sink {
 public:
  LogSink(store::LogStore& log, const config::RequestLog& settings) : log_(log), settings_(settings) {}

  void write(std::span<const telemetry::RequestRecord> records) override {
    if (auto r = log_.append(records); !r) warn("records", r.error());
  }
  void write_outcomes(std::span<const telemetry::OutcomeEvent> events) override {
    if (auto r = log_.append_outcomes(events); !r) warn("outcomes", r.error());
  }
  void tick(std::chrono::steady_clock::time_point now) override {
    if (now < next_retention_) return;
    next_retention_ = now + std::chrono::minutes(1);
    const int64_t max_age_ms = settings_.retention_days * 86'400'000;
    const int64_t max_bytes = settings_.max_mb * 1024 * 1024;
    if (max_age_ms <= 0 && max_bytes <= 0) return;
    if (auto r = log_.enforce_retention(max_age_ms, max_bytes); !r) warn("retention", r.error());
  }

 private:
  static void warn(std::string_view what, const Error& e) {
    std::fprintf(stderr, "switchyard: request log: %.*s not written: %s\n", static_cast<int>(what.size()), what.data(),
                 e.message.c_str());
  }

  store::LogStore& log_;
  config::RequestLog settings_;
  std::chrono::steady_clock::time_point next_retention_{};
};

class MetricsSink final : public telemetry::Sink {
 public:
  explicit MetricsSink(telemetry::Metrics& metrics) : metrics_(metrics) {}
  void write(std::span<const telemetry::RequestRecord> records) override { metrics_.observe(records); }

 private:
  telemetry::Metrics& metrics_;
};

}  // namespace

std::string beside_database(const std::string& database, std::string_view suffix) {
  if (database == ":memory:") return database;
  const size_t dot = database.rfind('.');
  const size_t slash = database.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return database + std::string(suffix);
  return database.substr(0, dot) + std::string(suffix) + database.substr(dot);
}

Result<std::unique_ptr<Observability>> Observability::open(const config::Config& config) {
  std::unique_ptr<Observability> o(new Observability());
  // Each pool thread takes one naming job, held until all are taken: none can take two.
  std::latch named(kQueryThreads);
  for (int i = 0; i < kQueryThreads; ++i) {
    boost::asio::post(o->pool_, [&named] {
      name_this_thread("sy-query");
      named.arrive_and_wait();
    });
  }
  named.wait();
  const config::RequestLog& settings = config.log;
  if (!settings.enabled) return o;
  o->log_path_ = settings.database.empty() ? beside_database(config.database, "-log") : settings.database;
  auto log = store::open_sqlite_log(o->log_path_);
  if (!log) return tl::unexpected(log.error());
  o->log_ = std::move(*log);
  o->sinks_.push_back(std::make_unique<LogSink>(*o->log_, settings));
  o->sinks_.push_back(std::make_unique<MetricsSink>(o->metrics_));
  // The exporters' spools: a directory beside the config database ("switchyard.db" → "switchyard-spool/").
  std::string spool = config.database == ":memory:" ? std::string("./switchyard.db") : config.database;
  spool = beside_database(spool, "-spool");
  if (spool.ends_with(".db")) spool.resize(spool.size() - 3);
  auto exporters = exports::from_config(config.export_json, spool);
  if (!exporters) return tl::unexpected(exporters.error());
  o->exporters_ = std::move(*exporters);
  for (auto& e : o->exporters_) o->sinks_.push_back(std::make_unique<exports::ExporterSink>(*e));
  o->metrics_.add_gauge_source([o = o.get()](telemetry::GaugeWriter& w) { o->write_export_metrics(w); });
  o->pipeline_ = std::make_unique<telemetry::Pipeline>(
      telemetry::PipelineOptions{.capacity = settings.queue, .idle_priority = settings.idle_priority});
  for (auto& s : o->sinks_) o->pipeline_->add_sink(s.get());
  telemetry::Pipeline* pipeline = o->pipeline_.get();
  o->metrics_.add_gauge_source([pipeline](telemetry::GaugeWriter& w) {
    w.write(telemetry::families::kTelemetryQueueDepth, {}, static_cast<double>(pipeline->depth()));
    w.write(telemetry::families::kTelemetryDroppedRecords, {}, static_cast<double>(pipeline->dropped()));
    w.write(telemetry::families::kTelemetryPriorityRaises, {}, static_cast<double>(pipeline->raises()));
  });
  o->pipeline_->start();
  return o;
}

Observability::~Observability() { stop(); }

void Observability::stop() {
  if (pipeline_) pipeline_->stop();
  for (auto& e : exporters_) e->stop(std::chrono::seconds(5));  // what is left stays spooled
  pool_.join();
}

void Observability::write_export_metrics(telemetry::GaugeWriter& w) const {
  static constexpr telemetry::Family kItems{"switchyard_export_items_total",
                                            "Records and outcomes by exporter and result.",
                                            telemetry::MetricType::kCounter};
  static constexpr telemetry::Family kRetries{"switchyard_export_retries_total", "Batches sent again, by exporter.",
                                              telemetry::MetricType::kCounter};
  static constexpr telemetry::Family kSpool{"switchyard_export_spool_bytes", "Bytes waiting in an exporter's spool.",
                                            telemetry::MetricType::kGauge};
  for (const auto& e : exporters_) {
    const exports::ExportStats s = e->stats();
    const std::string_view name = e->name();
    for (const auto& [result, n] : {std::pair{"submitted", s.submitted}, std::pair{"sent", s.sent},
                                    std::pair{"failed", s.failed}, std::pair{"dropped", s.dropped}}) {
      w.write(kItems, {{"exporter", name}, {"result", result}}, static_cast<double>(n));
    }
    w.write(kRetries, {{"exporter", name}}, static_cast<double>(s.retries));
    w.write(kSpool, {{"exporter", name}}, static_cast<double>(s.spooled_bytes));
  }
}

}  // namespace sy::api
