#pragma once
// The exporters a configuration's `export:` section asks for (docs/export.md), built and
// started: each a sink for the telemetry pipeline.
//
//   auto exporters = exports::from_config(config.export_json, "./switchyard-spool");
//   for (auto& e : *exporters) pipeline.add_sink(...);   // see sink.h
//
// Problems name the key and say what to fix ("export.mixpanel.region: ...").

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "export/exporter.h"

namespace sy::exports {

// `section`: the section as JSON ("" or "{}" when absent: no exporter). `default_spool_dir`:
// used when the section names none.
Result<std::vector<std::unique_ptr<Exporter>>> from_config(std::string_view section, const std::string& default_spool_dir);

}  // namespace sy::exports
