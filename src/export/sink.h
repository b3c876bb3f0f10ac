#pragma once
// ExporterSink: plugs an exporter into the telemetry pipeline, whose one background thread
// then calls submit() with each batch — the thread the exporters expect.
//
//   exports::ExporterSink sink(*mixpanel);
//   pipeline.add_sink(&sink);      // before pipeline.start(); the exporter outlives the pipeline

#include "export/exporter.h"
#include "telemetry/pipeline.h"

namespace sy::exports {

class ExporterSink final : public telemetry::Sink {
 public:
  explicit ExporterSink(Exporter& exporter) : exporter_(exporter) {}
  void write(std::span<const telemetry::RequestRecord> records) override { exporter_.submit(records); }
  void write_outcomes(std::span<const telemetry::OutcomeEvent> events) override { exporter_.submit_outcomes(events); }

 private:
  Exporter& exporter_;
};

}  // namespace sy::exports
