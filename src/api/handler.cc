#include <array>
#include <chrono>
#include <iterator>
#include <optional>

#include <fmt/format.h>
#define XXH_INLINE_ALL  // header-only xxHash: inlined, nothing to link
#include <xxhash.h>

#include "api/api.h"
#include "api/anthropic_dialect.h"
#include "api/openai_dialect.h"
#include "api/observe_api.h"
#include "api/routers_api.h"
#include "core/ids.h"
#include "core/json_scan.h"
#include "gateway/gateway.h"
#include "http/wire.h"

namespace sy::api {
namespace {

using http::Header;
using http::Method;
using http::Task;

// Equality that takes as long whatever the first difference: keys are compared without
// telling an attacker how much of a guess was right.
bool same_key(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

// A key's id in the request log: a short hash, never the key. Into `out`'s own buffer (a
// reused record's): "key_" and 16 hex digits do not fit a string's inline storage.
void assign_key_id(std::string& out, std::string_view key) {
  out.clear();
  if (key.empty()) return;
  fmt::format_to(std::back_inserter(out), "key_{:016x}", XXH3_64bits(key.data(), key.size()));
}

std::string_view presented_key(const http::Request& req) {
  const std::string_view auth = req.header("authorization");
  if (auth.size() > 7 && (auth.starts_with("Bearer ") || auth.starts_with("bearer "))) return auth.substr(7);
  return req.header("x-api-key");
}

class ApiHandler final : public http::Handler {
 public:
  ApiHandler(const gateway::SnapshotSource& source, const ServerState& state, http::ClientOptions o,
             gateway::RouterAdmin* routers, const Access& access)
      : state_(state), gateway_(source, o, state.breakers), routers_(routers), access_(access) {
    gateway_.set_speech(state.speech);
  }

  std::string error_body(const Error& error, std::string_view path) const override {
    return dialect_of(path).error_body(error);
  }

  // Runs an endpoint of the gateway (`run` returns its Task<Result<bool>>), renders its error
  // in `dialect` when nothing was written, and gives the request log its record.
  template <class Run>
  Task<void> observed(http::Request& req, http::Response& res, gateway::RequestContext& ctx, std::string_view endpoint,
                      const gateway::ClientDialect& dialect, Run run) {
    // The request log's record, when something observes: filled by the gateway as it goes.
    telemetry::Pipeline* pipeline = state_.observability != nullptr ? state_.observability->pipeline() : nullptr;
    std::unique_ptr<telemetry::RequestRecord> record;
    if (pipeline != nullptr) {
      record = take_record();
      record->id.assign(ctx.request_id);
      record->time_ms = ctx.arrived_ms;  // the id's own ms: the log finds a record by its id
      record->endpoint.assign(endpoint);
      record->dialect.assign(dialect.protocol());
      const std::string_view key = presented_key(req);
      if (!same_key(key, last_key_)) {  // clients mostly send the same key: hashed once
        last_key_.assign(key);
        assign_key_id(last_key_id_, key);
      }
      record->key_id.assign(last_key_id_);
      ctx.record = record.get();
    }
    auto r = co_await run();
    if (!r && !res.started()) {
      if (record) {
        record->status = http_status(r.error().code);
        record->error_class = error_code_name(r.error().code);
      }
      co_await send_error(res, ctx, std::move(r.error()), dialect);
    }
    if (record) {
      if (record->status == 0) record->status = res.status();
      if (record->error_class.empty() && record->status >= 400) {
        record->error_class = error_code_name(code_for_status(record->status));  // the provider's own error
      }
      record->latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - ctx.started).count();
      pipeline->submit(*record);  // packed into the queue: the record stays ours, to reuse
      record->clear();
      free_records_.push_back(std::move(record));
    }
  }

  // A record for a request: one a finished request left, or a new one.
  std::unique_ptr<telemetry::RequestRecord> take_record() {
    if (free_records_.empty()) return std::make_unique<telemetry::RequestRecord>();
    std::unique_ptr<telemetry::RequestRecord> r = std::move(free_records_.back());
    free_records_.pop_back();
    return r;
  }

  Task<void> handle(http::Request& req, http::Response& res) override {
    char id[kRequestIdSize];  // in the coroutine frame: requests on one worker interleave
    gateway::RequestContext ctx;
    ctx.arrived_ms = new_request_id(id);
    ctx.request_id = std::string_view(id, kRequestIdSize);
    const std::string_view path = req.path();
    const Method m = req.method();
    if (path == "/router/v1/health") {
      if (auto denied = admin_denied(req)) {
        const std::string body = admin_error_body(*denied);
        co_await send_json(res, ctx, http_status(denied->code), body);
      } else {
        const std::string body = state_.breakers != nullptr ? state_.breakers->health_json() : R"({"providers":[],"models":[]})";
        co_await send_json(res, ctx, 200, body);
      }
      co_return;
    }
    if (is_stats_path(path) || is_logs_path(path) || path == "/metrics") {
      if (auto denied = admin_denied(req)) {
        const std::string body = admin_error_body(*denied);
        co_await send_json(res, ctx, http_status(denied->code), body);
      } else if (state_.observability == nullptr) {
        const std::string body = admin_error_body(Error{ErrorCode::kUnavailable, "This gateway observes nothing.", {}, 0});
        co_await send_json(res, ctx, 503, body);
      } else if (path == "/metrics") {
        co_await serve_metrics(res, ctx.request_id, *state_.observability);
      } else if (is_logs_path(path)) {
        co_await serve_logs(req, res, ctx.request_id, *state_.observability);
      } else {
        co_await serve_stats(req, res, ctx.request_id, *state_.observability);
      }
      co_return;
    }
    if (is_routers_path(path)) {
      if (auto denied = admin_denied(req)) {
        const std::string body = admin_error_body(*denied);
        co_await send_json(res, ctx, http_status(denied->code), body);
      } else if (routers_ == nullptr) {
        const std::string body = admin_error_body(Error{ErrorCode::kUnavailable, "This gateway runs without a router store.", {}, 0});
        co_await send_json(res, ctx, 503, body);
      } else {
        co_await serve_routers(req, res, ctx.request_id, *routers_);
      }
      co_return;
    }
    if (path.starts_with("/v1/") || path.starts_with("/anthropic/") || path == "/chat/completions" || path == "/models") {
      if (auto denied = gateway_denied(req)) {
        co_await send_error(res, ctx, std::move(*denied), dialect_of(path));
        co_return;
      }
    }
    if (path == "/v1/feedback") {
      if (state_.observability == nullptr) {
        const std::string body = admin_error_body(Error{ErrorCode::kUnavailable, "This gateway observes nothing.", {}, 0});
        co_await send_json(res, ctx, 503, body);
      } else {
        co_await serve_feedback(req, res, ctx.request_id, *state_.observability);
      }
      co_return;
    }
    if (path == "/v1/audio/speech" || path == "/audio/speech") {
      if (m != Method::kPost) {
        co_await method_not_allowed(res, ctx, "POST", openai_);
        co_return;
      }
      co_await observed(req, res, ctx, "audio.speech", openai_, [&]() { return gateway_.speak(req, res, ctx); });
      co_return;
    }
    if (path == "/v1/chat/completions" || path == "/chat/completions" || is_messages(path) ||
        path == "/v1/messages/count_tokens" || path == "/anthropic/v1/messages/count_tokens") {
      const bool count = path.ends_with("/count_tokens");
      const gateway::ClientDialect& dialect = count ? static_cast<const gateway::ClientDialect&>(anthropic_) : dialect_of(path);
      if (m != Method::kPost) {
        co_await method_not_allowed(res, ctx, "POST", dialect);
        co_return;
      }
      ctx.count_tokens = count;
      const std::string_view endpoint = count ? "count_tokens" : is_messages(path) ? "messages" : "chat.completions";
      co_await observed(req, res, ctx, endpoint, dialect, [&]() { return gateway_.chat_completions(req, res, dialect, ctx); });
    } else if (path == "/anthropic/v1/models") {
      if (m != Method::kGet) {
        co_await method_not_allowed(res, ctx, "GET", anthropic_);
        co_return;
      }
      co_await send_json(res, ctx, 200, gateway_.snapshot().anthropic_models_json());
    } else if (path == "/v1/models" || path == "/models") {
      if (m != Method::kGet) {
        co_await method_not_allowed(res, ctx, "GET");
        co_return;
      }
      co_await send_json(res, ctx, 200, gateway_.snapshot().models_json());
    } else if (path.starts_with("/v1/models/")) {
      if (m != Method::kGet) {
        co_await method_not_allowed(res, ctx, "GET");
        co_return;
      }
      co_await model(res, ctx, http::percent_decode(path.substr(11)));
    } else if (path == "/healthz") {
      co_await send_json(res, ctx, 200, R"({"status":"ok"})");
    } else if (path == "/readyz") {
      const bool ready = state_.ready.load() && !state_.draining.load();
      co_await send_json(res, ctx, ready ? 200 : 503, ready ? R"({"status":"ready"})" : R"({"status":"not ready"})");
    } else {
      Error e{ErrorCode::kNotFound, fmt::format("Unknown path '{} {}'. This gateway serves POST /v1/chat/completions, POST /v1/messages and /v1/messages/count_tokens (also under /anthropic), GET /v1/models (Anthropic's shape under /anthropic), /router/v1/routers, GET /healthz and GET /readyz.", req.method_name(), path), {}, 0};
      co_await send_error(res, ctx, std::move(e));
    }
  }

 private:
  // Anthropic's Messages endpoint, at the bare base URL and under /anthropic (so that both
  // `…` and `…/anthropic` work as the Anthropic SDK's base URL).
  static bool is_messages(std::string_view path) {
    return path == "/v1/messages" || path == "/anthropic/v1/messages";
  }
  const gateway::ClientDialect& dialect_of(std::string_view path) const {
    if (path.starts_with("/anthropic/") || path.starts_with("/v1/messages")) return anthropic_;
    return openai_;
  }

  std::optional<Error> admin_denied(const http::Request& req) const {
    const std::string_view key = presented_key(req);
    if (key.empty()) {
      return Error{ErrorCode::kUnauthorized,
                   "The routers API needs the admin key: send 'Authorization: Bearer <admin key>'. The key is "
                   "admin_key in switchyard.yaml or SWITCHYARD_ADMIN_KEY; without either, `switchyard serve` "
                   "prints where it keeps the one it generated.",
                   {}, 0};
    }
    if (!access_.admin_key.empty() && same_key(key, access_.admin_key)) return std::nullopt;
    for (const auto& k : access_.api_keys) {
      if (same_key(key, k)) {
        return Error{ErrorCode::kForbidden, "Gateway keys cannot manage routers: use the admin key.", {}, 0};
      }
    }
    return Error{ErrorCode::kUnauthorized, "Invalid admin key.", {}, 0};
  }

  std::optional<Error> gateway_denied(const http::Request& req) const {
    if (access_.api_keys.empty()) return std::nullopt;
    const std::string_view key = presented_key(req);
    for (const auto& k : access_.api_keys) {
      if (same_key(key, k)) return std::nullopt;
    }
    if (!key.empty() && !access_.admin_key.empty() && same_key(key, access_.admin_key)) return std::nullopt;
    return Error{ErrorCode::kUnauthorized,
                 key.empty() ? "You didn't provide an API key: send 'Authorization: Bearer <key>' with one of this "
                               "gateway's keys."
                             : "Incorrect API key provided.",
                 {}, 0};
  }

  Task<void> model(http::Response& res, gateway::RequestContext& ctx, std::string id) {
    const auto& snap = gateway_.snapshot();
    if (auto r = snap.router_for(id); r && *r != nullptr) {
      std::string body = R"({"id":)";
      json::append_quoted(body, "switchyard/" + (*r)->name());
      body += fmt::format(R"(,"object":"model","created":{},"owned_by":"switchyard","router":{{"version":{}}}}})",
                          (*r)->meta().create_time_ms / 1000, (*r)->meta().version);
      co_await send_json(res, ctx, 200, body);
      co_return;
    }
    const catalog::Model* m = snap.catalog().find(id);
    if (m == nullptr) {
      std::string a, b;
      auto t = snap.resolve(id, a, b);
      Error e = t ? Error{ErrorCode::kModelNotFound, fmt::format("The model '{}' is accepted but not listed (its provider takes any model).", id), "model", 0} : t.error();
      co_await send_error(res, ctx, std::move(e));
      co_return;
    }
    ctx.model = m->id;
    std::string body = R"({"id":)";
    json::append_quoted(body, m->id);
    body += R"(,"object":"model","created":0,"owned_by":)";
    json::append_quoted(body, m->provider);
    body += "}";
    co_await send_json(res, ctx, 200, body);
  }

  Task<void> send_json(http::Response& res, const gateway::RequestContext& ctx, int status, std::string_view body, std::span<const Header> extra = {}) {
    std::array<Header, 4> h{Header{"x-switchyard-request-id", ctx.request_id},
                            Header{"x-switchyard-model", ctx.model.empty() ? std::string_view("none") : std::string_view(ctx.model)}};
    size_t n = 2;
    for (const auto& e : extra) {
      if (n < h.size()) h[n++] = e;
    }
    co_await res.send(status, "application/json", body, std::span(h.data(), n));
  }

  Task<void> send_error(http::Response& res, const gateway::RequestContext& ctx, Error e) {
    co_await send_error(res, ctx, std::move(e), openai_);
  }
  Task<void> send_error(http::Response& res, const gateway::RequestContext& ctx, Error e,
                        const gateway::ClientDialect& dialect) {
    const std::string body = dialect.error_body(e);
    co_await send_json(res, ctx, http_status(e.code), body);
  }

  Task<void> method_not_allowed(http::Response& res, const gateway::RequestContext& ctx, std::string_view allow,
                                const gateway::ClientDialect& dialect) {
    const std::array<Header, 1> extra{Header{"allow", allow}};
    const Error e{ErrorCode::kMethodNotAllowed, fmt::format("Method not allowed: this path accepts {} only.", allow), {}, 0};
    const std::string body = dialect.error_body(e);
    co_await send_json(res, ctx, 405, body, extra);
  }
  Task<void> method_not_allowed(http::Response& res, const gateway::RequestContext& ctx, std::string_view allow) {
    co_await method_not_allowed(res, ctx, allow, openai_);
  }

  const ServerState& state_;
  gateway::Gateway gateway_;
  // Records of finished requests, cleared, for the next ones (this worker's; as many as its
  // requests ever ran at once).
  std::vector<std::unique_ptr<telemetry::RequestRecord>> free_records_;
  std::string last_key_, last_key_id_;  // the key the last request presented, and its log id
  gateway::RouterAdmin* routers_;
  const Access& access_;
  OpenAiDialect openai_;
  AnthropicDialect anthropic_;
};

}  // namespace

std::unique_ptr<http::Handler> make_handler(const gateway::SnapshotSource& source,
                                            const ServerState& state,
                                            http::ClientOptions client_options,
                                            gateway::RouterAdmin* routers, const Access& access) {
  return std::make_unique<ApiHandler>(source, state, client_options, routers, access);
}

}  // namespace sy::api
