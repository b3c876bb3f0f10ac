#pragma once
// What a server observes, built once from the configuration: the telemetry pipeline and its
// sinks (the request log, the metrics, the exporters), and a small thread pool on which the
// endpoints that read the log run their queries, so that no worker waits for SQLite.
//
//   auto obs = api::Observability::open(config);   // serve, before the server starts
//   state.observability = obs->get();              // the endpoints find it there
//   ...
//   (*obs)->stop();                                // after the server drained: flushes the queue
//
// With `log.enabled: false` no record is built at all (and the metrics show only gauges).

#include <memory>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "config/config.h"
#include "core/result.h"
#include "export/exporter.h"
#include "store/log_store.h"
#include "telemetry/metrics.h"
#include "telemetry/pipeline.h"

namespace sy::api {

class Observability {
 public:
  static Result<std::unique_ptr<Observability>> open(const config::Config& config);
  ~Observability();
  Observability(const Observability&) = delete;
  Observability& operator=(const Observability&) = delete;

  // Null when nothing is recorded (log.enabled: false).
  telemetry::Pipeline* pipeline() { return pipeline_.get(); }
  store::LogStore* log() { return log_.get(); }
  telemetry::Metrics& metrics() { return metrics_; }
  boost::asio::thread_pool& pool() { return pool_; }
  // Where the log lives (for the start-up notes).
  const std::string& log_path() const { return log_path_; }

  // Drains the pipeline into the sinks and stops them. Idempotent.
  void stop();

 private:
  Observability() = default;
  void write_export_metrics(telemetry::GaugeWriter& w) const;

  telemetry::Metrics metrics_;
  std::unique_ptr<store::LogStore> log_;
  std::string log_path_;
  std::vector<std::unique_ptr<exports::Exporter>> exporters_;
  std::vector<std::unique_ptr<telemetry::Sink>> sinks_;
  std::unique_ptr<telemetry::Pipeline> pipeline_;
  static constexpr int kQueryThreads = 2;
  boost::asio::thread_pool pool_{kQueryThreads};  // threads named "sy-query"
};

// A file beside the config database when the configuration names none: `suffix` "-log" gives
// "switchyard.db" → "switchyard-log.db", "-spool" gives "switchyard-spool.db"; ":memory:" stays.
std::string beside_database(const std::string& database, std::string_view suffix);

}  // namespace sy::api
