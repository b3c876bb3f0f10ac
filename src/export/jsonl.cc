#include "export/jsonl.h"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "telemetry/record_json.h"

namespace sy::exports {
namespace {

// `{"type":"<type>",` and the rest of the canonical object (record_json.h), appended to `out`.
void append_request_line(std::string& out, const telemetry::RequestRecord& r, bool bodies) {
  telemetry::append_json(out, r, bodies, R"("type":"request",)");
}

void append_outcome_line(std::string& out, const telemetry::OutcomeEvent& e) {
  telemetry::append_json(out, e, R"("type":"outcome",)");
}

}  // namespace

std::string jsonl_request_line(const telemetry::RequestRecord& r, bool bodies) {
  std::string line;
  append_request_line(line, r, bodies);
  return line;
}

std::string jsonl_outcome_line(const telemetry::OutcomeEvent& e) {
  std::string line;
  append_outcome_line(line, e);
  return line;
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
  lines_.clear();  // reused: one buffer for every batch
  for (const auto& r : records) {
    append_request_line(lines_, r, options_.bodies);
    lines_ += '\n';
  }
  write(lines_, records.size());
}

void JsonlExporter::submit_outcomes(std::span<const telemetry::OutcomeEvent> outcomes) {
  std::string lines;
  for (const auto& e : outcomes) {
    append_outcome_line(lines, e);
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
