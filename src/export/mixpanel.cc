#include "export/mixpanel.h"


#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <fmt/format.h>

#include "core/base64.h"
#include "export/google_auth.h"
#include "export/gzip.h"
#include "export/http_poster.h"
#include "export/internal/record_json.h"

namespace sy::exports {
namespace json = boost::json;

namespace {

bool insert_id_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-'; }

// Values Mixpanel's /import rejects as a distinct_id because they betray a missing id.
bool placeholder_id(std::string_view id) {
  static constexpr std::array<std::string_view, 16> kPlaceholders{
      "00000000-0000-0000-0000-000000000000", "<nil>", "[]", "{}", "anon", "anonymous", "false", "lmy47d",
      "n/a", "na", "nil", "none", "null", "true", "undefined", "unknown"};
  std::string lower(id);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(kPlaceholders.begin(), kPlaceholders.end(), lower) != kPlaceholders.end();
}

// Serializes an event; an oversized one loses its free-text fields first.
Result<std::string> finish_event(std::string_view event, json::object properties) {
  json::object e{{"event", event}, {"properties", std::move(properties)}};
  std::string text = json::serialize(e);
  if (text.size() < kMixpanelMaxEventBytes) return text;
  json::object& p = e["properties"].as_object();
  p.erase("metadata");
  p.erase("reason");
  p["truncated"] = true;
  text = json::serialize(e);
  if (text.size() < kMixpanelMaxEventBytes) return text;
  return fail(ErrorCode::kPayloadTooLarge, fmt::format("mixpanel: event '{}' is {} bytes, over Mixpanel's 1 MB", event, text.size()));
}

class MixpanelDestination final : public Destination {
 public:
  MixpanelDestination(const MixpanelOptions& options, http::Url url)
      : url_(std::move(url)), poster_(options.http), gzip_(options.gzip) {
    const bool service_account = !options.service_account_username.empty();
    authorization_ = "Basic " + (service_account ? base64_encode(options.service_account_username + ":" + options.service_account_secret)
                                                 : base64_encode(options.project_token + ":"));
    target_ = "/import?strict=1";
    if (service_account) target_ += "&project_id=" + options.project_id;
  }

  Delivery deliver(uint8_t /*channel*/, std::span<const std::string> items) override {
    std::string body = join_items("[", items, "]");
    if (gzip_) body = gzip(body);
    std::array<http::Header, 4> headers{http::Header{"authorization", authorization_},
                                        http::Header{"content-type", "application/json"},
                                        http::Header{"accept", "application/json"},
                                        http::Header{"content-encoding", "gzip"}};
    const size_t n_headers = gzip_ ? 4 : 3;
    auto reply = poster_.send(url_, "POST", target_, std::span(headers.data(), n_headers), body);
    if (!reply) return retry_later(fmt::format("mixpanel: {}", reply.error().message));
    return judge(*reply, items.size());
  }

  void cancel() override { poster_.cancel(); }

 private:
  Delivery judge(const HttpReply& reply, size_t n) const {
    Delivery d;
    if (reply.status == 200) {
      d.sent = n;
      return d;
    }
    d.error = fmt::format("mixpanel: {} from {}: {}", reply.status, url_.origin(), body_excerpt(reply.body));
    if (reply.status == 413) {
      d.outcome = Delivery::Outcome::kTooLarge;
    } else if (retryable_status(reply.status)) {
      d.outcome = Delivery::Outcome::kRetry;
      d.retry_after = parse_retry_after(reply.retry_after);
    } else if (reply.status == 400) {
      // strict=1: the valid events were imported; failed_records lists the others.
      std::error_code ec;
      json::value v = json::parse(reply.body, ec);
      const json::object* o = ec ? nullptr : v.if_object();
      const json::value* failed = o != nullptr ? o->if_contains("failed_records") : nullptr;
      d.failed = failed != nullptr && failed->is_array() ? std::min(failed->get_array().size(), n) : n;
      d.sent = n - d.failed;
      if (const json::value* imported = o != nullptr ? o->if_contains("num_records_imported") : nullptr; imported && imported->is_int64()) {
        d.sent = std::min<size_t>(static_cast<size_t>(std::max<int64_t>(imported->get_int64(), 0)), n - d.failed);
      }
    } else {
      d.failed = n;  // 401, 403, ...: the batch cannot succeed as it is; skipped
    }
    return d;
  }

  http::Url url_;
  HttpPoster poster_;
  bool gzip_;
  std::string authorization_;  // never logged
  std::string target_;
};

}  // namespace

Result<std::string> mixpanel_base_url(std::string_view region) {
  if (region.empty() || region == "us") return std::string("https://api.mixpanel.com");
  if (region == "eu") return std::string("https://api-eu.mixpanel.com");
  if (region == "in") return std::string("https://api-in.mixpanel.com");
  return fail(ErrorCode::kInvalidRequest, fmt::format("mixpanel: region '{}' is unknown; use us, eu or in", region), "region");
}

std::string mixpanel_insert_id(std::string_view id) {
  std::string out(id);
  std::replace(out.begin(), out.end(), '_', '-');
  if (!out.empty() && out.size() <= 36 && std::all_of(out.begin(), out.end(), insert_id_char)) return out;
  return sha256_hex(id).substr(0, 32);
}

std::string mixpanel_distinct_id(std::string_view user, std::string_view key_id) {
  std::string_view id = !user.empty() && !placeholder_id(user) ? user : key_id;
  if (id.empty() || placeholder_id(id)) return {};
  if (id.size() > 255) return sha256_hex(id);
  return std::string(id);
}

Result<std::string> mixpanel_request_event(const telemetry::RequestRecord& r, const MixpanelOptions& options) {
  json::object p = record_object(r, {.bodies = false});
  p.erase("time_ms");
  p["time"] = r.time_ms;
  p["distinct_id"] = mixpanel_distinct_id(r.user, r.key_id);
  p["$insert_id"] = mixpanel_insert_id(r.id);
  return finish_event(options.request_event, std::move(p));
}

Result<std::string> mixpanel_outcome_event(const telemetry::OutcomeEvent& e, const MixpanelOptions& options) {
  json::object p = outcome_object(e);
  p.erase("time_ms");
  p["time"] = e.time_ms;
  p["distinct_id"] = mixpanel_distinct_id(e.user, {});
  // Without an event_id the outcome's content is its identity, so a re-send is still recognised.
  p["$insert_id"] = mixpanel_insert_id(e.event_id.empty() ? json::serialize(outcome_object(e)) : e.event_id);
  return finish_event(options.outcome_prefix + e.name, std::move(p));
}

Result<std::unique_ptr<Exporter>> make_mixpanel_exporter(MixpanelOptions options) {
  const bool service_account = !options.service_account_username.empty();
  if (service_account && (options.service_account_secret.empty() || options.project_id.empty())) {
    return fail(ErrorCode::kInvalidRequest, "export.mixpanel: a service account needs `username`, `secret` and `project_id`", "service_account");
  }
  if (!service_account && options.project_token.empty()) {
    return fail(ErrorCode::kInvalidRequest, "export.mixpanel: set `project_token`, or `service_account` {username, secret, project_id}", "project_token");
  }
  if (options.batch_events == 0 || options.batch_events > kMixpanelMaxEvents) {
    return fail(ErrorCode::kInvalidRequest, fmt::format("export.mixpanel: `batch` must be 1..{} (Mixpanel's limit)", kMixpanelMaxEvents), "batch");
  }
  // The brackets and commas count too: n events add n + 1 bytes.
  options.batch_bytes = std::min(options.batch_bytes, kMixpanelMaxBytes - options.batch_events - 1);
  std::string base = options.base_url;
  if (base.empty()) {
    auto region = mixpanel_base_url(options.region);
    if (!region) return tl::unexpected(region.error());
    base = *region;
  }
  auto url = http::Url::parse(base);
  if (!url) return fail(ErrorCode::kInvalidRequest, fmt::format("export.mixpanel: base_url: {}", url.error().message), "base_url");
  auto spool = Spool::open(options.spool);
  if (!spool) return tl::unexpected(spool.error());

  Renderers renderers;
  renderers.request = [options](const telemetry::RequestRecord& r) { return mixpanel_request_event(r, options); };
  renderers.outcome = [options](const telemetry::OutcomeEvent& e) { return mixpanel_outcome_event(e, options); };
  auto destination = std::make_unique<MixpanelDestination>(options, *url);
  const BatchLimits limits{.max_items = options.batch_events, .max_bytes = options.batch_bytes};
  return std::unique_ptr<Exporter>(std::make_unique<SpoolingExporter>("mixpanel", std::move(*spool), std::move(destination),
                                                                      std::move(renderers), limits, options.sender));
}

}  // namespace sy::exports
