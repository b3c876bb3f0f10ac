#include "export/internal/record_json.h"

#include <openssl/evp.h>

#include <boost/json/parse.hpp>
#include <cmath>
#include <ctime>
#include <fmt/format.h>

#include "telemetry/record_json.h"

namespace sy::exports {
namespace json = boost::json;

std::string_view utf8_prefix(std::string_view text, size_t max) {
  if (text.size() <= max) return text;
  size_t n = max;
  // Step back over continuation bytes (10xxxxxx) to the start of the cut sequence.
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n);
}

namespace {

// The parts of a record the canonical JSON copies in unchecked, made safe: metadata_json
// (verbatim) and non-finite costs (written as "nan", which no JSON parser takes).
telemetry::RequestRecord sanitized(const telemetry::RequestRecord& r) {
  telemetry::RequestRecord copy = r;
  copy.metadata_json.clear();
  if (!std::isfinite(copy.cost_usd)) copy.cost_usd = 0;
  for (auto& a : copy.attempts) {
    if (!std::isfinite(a.cost_usd)) a.cost_usd = 0;
  }
  return copy;
}

json::value parse_or_null(std::string_view text) {
  std::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value(nullptr) : v;
}

}  // namespace

json::object record_object(const telemetry::RequestRecord& r, const RecordJsonOptions& options) {
  std::string text;
  telemetry::append_json(text, r, options.bodies);
  json::value v = parse_or_null(text);
  if (!v.is_object()) {
    text.clear();
    telemetry::append_json(text, sanitized(r), options.bodies);
    v = parse_or_null(text);
    if (!v.is_object()) v = json::object{{"id", r.id}, {"time_ms", r.time_ms}};  // not expected: a bug upstream
    v.as_object()["metadata"] = r.metadata_json;  // kept, as a string
  }
  json::object o = std::move(v.as_object());
  o["request_id"] = std::move(o["id"]);
  o.erase("id");
  o.erase("time");
  if (options.bodies && options.max_body_bytes != SIZE_MAX) {
    if (!r.request_body.empty()) o["request_body"] = utf8_prefix(r.request_body, options.max_body_bytes);
    if (!r.response_body.empty()) o["response_body"] = utf8_prefix(r.response_body, options.max_body_bytes);
  }
  return o;
}

json::object outcome_object(const telemetry::OutcomeEvent& e) {
  std::string text;
  telemetry::OutcomeEvent finite = e;
  if (!std::isfinite(finite.value)) finite.value = 0;
  telemetry::append_json(text, finite);
  json::value v = parse_or_null(text);
  json::object o = v.is_object() ? std::move(v.as_object()) : json::object{{"event_id", e.event_id}, {"time_ms", e.time_ms}};
  if (!std::isfinite(e.value)) o["value"] = nullptr;
  o.erase("time");
  return o;
}

std::string utc_timestamp(int64_t unix_ms) {
  const int64_t ms = ((unix_ms % 1000) + 1000) % 1000;
  const std::time_t secs = static_cast<std::time_t>((unix_ms - ms) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03} UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), digest, &n, EVP_sha256(), nullptr);
  std::string out;
  out.reserve(2 * n);
  for (unsigned int i = 0; i < n; ++i) fmt::format_to(std::back_inserter(out), "{:02x}", digest[i]);
  return out;
}

}  // namespace sy::exports
