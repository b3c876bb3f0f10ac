#include "export/jsonl.h"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "telemetry/record_json.h"

namespace sy::exports {
namespace {
// `{"type":"<type>",` followed by the canonical object without its opening brace.
std::string typed(std::string_view type, const std::string& object) {
  return fmt::format(R"({{"type":"{}",{})", type, std::string_view(object).substr(1));
}
}  // namespace

std::string jsonl_request_line(const telemetry::RequestRecord& r, bool bodies) {
  std::string object;
  telemetry::append_json(object, r, bodies);
  return typed("request", object);
}

std::string jsonl_outcome_line(const telemetry::OutcomeEvent& e) {
  std::string object;
  telemetry::append_json(object, e);
  return typed("outcome", object);
}

JsonlExporter::JsonlExporter(JsonlOptions options) : options_(std::move(options)) {}

JsonlExporter::~JsonlExporter() { stop(std::chrono::milliseconds(0)); }

Result<std::unique_ptr<JsonlExporter>> JsonlExporter::create(JsonlOptions options) {
  std::unique_ptr<JsonlExporter> exporter(new JsonlExporter(std::move(options)));
  if (auto ok = exporter->reopen(); !ok) return tl::unexpected(ok.error());
  return exporter;
}

Result<std::unique_ptr<Exporter>> make_jsonl_exporter(JsonlOptions options) {
  auto made = JsonlExporter::create(std::move(options));
  if (!made) return tl::unexpected(made.error());
  return std::unique_ptr<Exporter>(std::move(*made));
}

Result<bool> JsonlExporter::reopen() {
  std::lock_guard lock(mu_);
  if (options_.path == "-") {
    file_ = stdout;
    return true;
  }
  std::FILE* f = std::fopen(options_.path.c_str(), "ae");
  if (f == nullptr) {
    return fail(ErrorCode::kInvalidRequest, fmt::format("export.jsonl: cannot open '{}': {}", options_.path, std::strerror(errno)), "path");
  }
  if (file_ != nullptr && file_ != stdout) std::fclose(file_);
  file_ = f;
  return true;
}

void JsonlExporter::submit(std::span<const telemetry::RequestRecord> records) {
  std::string lines;
  for (const auto& r : records) {
    lines += jsonl_request_line(r, options_.bodies);
    lines += '\n';
  }
  write(lines, records.size());
}

void JsonlExporter::submit_outcomes(std::span<const telemetry::OutcomeEvent> outcomes) {
  std::string lines;
  for (const auto& e : outcomes) {
    lines += jsonl_outcome_line(e);
    lines += '\n';
  }
  write(lines, outcomes.size());
}

// One batch, then a flush: a reader of the file sees whole lines of whole batches.
void JsonlExporter::write(const std::string& lines, size_t count) {
  if (count == 0) return;
  std::lock_guard lock(mu_);
  stats_.submitted += count;
  if (file_ == nullptr) {
    stats_.dropped += count;
    return;
  }
  if (std::fwrite(lines.data(), 1, lines.size(), file_) != lines.size() || std::fflush(file_) != 0) {
    stats_.failed += count;
    stats_.last_error = fmt::format("export.jsonl: cannot write to '{}': {}", options_.path, std::strerror(errno));
    std::clearerr(file_);
    return;
  }
  stats_.sent += count;
}

ExportStats JsonlExporter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void JsonlExporter::stop(std::chrono::milliseconds /*timeout*/) {
  std::lock_guard lock(mu_);
  if (file_ == nullptr) return;
  std::fflush(file_);
  if (file_ != stdout) std::fclose(file_);
  file_ = nullptr;
}

}  // namespace sy::exports
