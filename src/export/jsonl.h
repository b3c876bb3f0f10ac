#pragma once
// The JSON-lines exporter: one JSON object per line to a file or stdout, for any other
// pipeline (Vector, Fluent Bit, a `jq` script). No spool: the file is the spool.
//
//   auto jsonl = make_jsonl_exporter({.path = "/var/log/switchyard/requests.jsonl"});   // "-": stdout
//   (*jsonl)->submit(records);    // written and flushed before it returns
//
// Lines: {"type":"request", ...} with the record as GET /v1/logs shows it
// (telemetry/record_json.h: `id`, RFC 3339 `time` and `time_ms`, nulls for empty fields), and
// {"type":"outcome", "event_id", "time", "time_ms", ...}. The file is opened for appending;
// rotate it with copytruncate, or rename it and have the integrator call reopen().

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "core/result.h"
#include "export/exporter.h"

namespace sy::exports {

struct JsonlOptions {
  std::string path = "-";         // a file (appended to, created 0644) or "-" for stdout
  bool bodies = true;             // request_body / response_body (empty unless logged)
};

class JsonlExporter final : public Exporter {
 public:
  static Result<std::unique_ptr<JsonlExporter>> create(JsonlOptions options);
  ~JsonlExporter() override;
  JsonlExporter(const JsonlExporter&) = delete;
  JsonlExporter& operator=(const JsonlExporter&) = delete;

  std::string_view name() const override { return "jsonl"; }
  void submit(std::span<const telemetry::RequestRecord> records) override;
  void submit_outcomes(std::span<const telemetry::OutcomeEvent> outcomes) override;
  ExportStats stats() const override;
  void stop(std::chrono::milliseconds timeout) override;
  // Opens the path again (after a log rotation renamed the file). Call from the submit thread.
  Result<bool> reopen();

 private:
  explicit JsonlExporter(JsonlOptions options);
  void write(const std::string& lines, size_t count);

  JsonlOptions options_;
  std::FILE* file_ = nullptr;  // stdout is not closed
  ExportStats stats_;
  mutable std::mutex mu_;      // stats_ (read from any thread), file_ (stop)
  std::string lines_;          // the batch being written (submit's thread only)
};

// Convenience for the composition root: the exporter as its interface.
Result<std::unique_ptr<Exporter>> make_jsonl_exporter(JsonlOptions options);

// One line's object, without the newline.
std::string jsonl_request_line(const telemetry::RequestRecord& r, bool bodies);
std::string jsonl_outcome_line(const telemetry::OutcomeEvent& e);

}  // namespace sy::exports
