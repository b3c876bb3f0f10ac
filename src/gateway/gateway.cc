#include "gateway/gateway.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <optional>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <fmt/format.h>

#include "core/json_scan.h"
#include "gateway/body_edit.h"
#include "gateway/cost.h"
#include "translate/translate.h"
#include "routing/facts.h"
#include "http/sse.h"
#include "http/wire.h"

namespace sy::gateway {
namespace {

constexpr std::array<std::string_view, 12> kChatKeys{"model", "stream", "messages", "metadata", "user", "temperature",
                                                     "max_tokens", "max_completion_tokens", "provider", "system", "tools",
                                                     "models"};
enum ChatField { kModel, kStream, kMessages, kMetadata, kUser, kTemperature, kMaxTokens, kMaxCompletionTokens, kProvider,
                 kSystem, kTools, kModels };

// Statuses that move a request to its next attempt: the provider, not the request, failed.
bool fails_over(int status) { return status == 408 || status == 409 || status == 429 || status >= 500; }

// Seconds of a Retry-After header (delta-seconds form); 0 when absent or a date.
int retry_after_seconds(std::string_view v) {
  int s = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return 0;
    s = s * 10 + (c - '0');
    if (s > 3600) return 3600;
  }
  return s;
}

// Upstream headers a client should see again.
constexpr std::array<std::string_view, 2> kPassHeaders{"retry-after", "x-ratelimit-remaining-requests"};

class RequestHeaders final : public routing::HeaderSource {
 public:
  explicit RequestHeaders(const http::Request& req) : req_(req) {}
  std::string_view get(std::string_view name) const override { return req_.header(name); }
  size_t count() const override { return req_.header_count(); }
  std::pair<std::string_view, std::string_view> at(size_t i) const override {
    const http::Header h = req_.header_at(i);
    return {h.name, h.value};
  }

 private:
  const http::Request& req_;
};

// A header value on one line: control characters (newlines in a multi-line condition) become spaces.
std::string header_safe(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

bool truthy_header(std::string_view v) { return !v.empty() && v != "0" && v != "false" && v != "no"; }

// The text of a slash-command message with the command removed: "/code fix it" → "fix it".
std::string strip_command(std::string_view text, std::string_view command) {
  const size_t at = text.find(command);
  if (at == std::string_view::npos) return std::string(text);
  text.remove_prefix(at + command.size());
  const size_t start = text.find_first_not_of(" \t\r\n");
  return start == std::string_view::npos ? std::string() : std::string(text.substr(start));
}

// `prefix`, a blank line and the text of the JSON string `raw`, as a JSON string.
std::string prefixed(std::string_view prefix, std::string_view raw) {
  std::string text(prefix);
  text += "\n\n";
  text += json::unescape(raw);
  std::string out;
  json::append_quoted(out, text);
  return out;
}

// A variant's request overrides, as body edits in the request's protocol.
void apply_overrides(const routing::Overrides& o, const std::array<json::Field, kChatKeys.size()>& f,
                     std::string_view protocol, BodyEdits& edits) {
  if (o.temperature) edits.set_field(f[kTemperature], "temperature", fmt::format("{}", *o.temperature));
  if (o.max_tokens) {
    if (f[kMaxCompletionTokens].present()) {
      edits.replace_owned(f[kMaxCompletionTokens], std::to_string(*o.max_tokens));
    } else {
      edits.set_field(f[kMaxTokens], "max_tokens", std::to_string(*o.max_tokens));
    }
  }
  if (protocol == "anthropic") {  // no `provider` field; the system prompt is top-level
    if (o.system_prompt_prefix.empty()) return;
    const json::Field system = f[kSystem];
    if (system.kind == json::Kind::kString) {
      edits.replace_owned(system, prefixed(o.system_prompt_prefix, system.raw));
    } else if (system.kind == json::Kind::kArray) {
      std::string block = R"({"type":"text","text":)";
      json::append_quoted(block, o.system_prompt_prefix);
      block += '}';
      edits.insert_first(system, std::move(block));
    } else {
      std::string text;
      json::append_quoted(text, o.system_prompt_prefix);
      edits.set_field(system, "system", std::move(text));
    }
    return;
  }
  if (!o.provider_json.empty()) edits.set_field(f[kProvider], "provider", o.provider_json);
  if (!o.system_prompt_prefix.empty()) {
    // Prepended to a leading system message with plain-text content; else a system message of its own.
    std::vector<json::Field> messages;
    if (json::scan_array(f[kMessages].raw, messages) && !messages.empty()) {
      constexpr std::array<std::string_view, 2> kKeys{"role", "content"};
      std::array<json::Field, 2> m;
      if (json::scan_object(messages[0].raw, kKeys, m) && (m[0].raw == "\"system\"" || m[0].raw == "\"developer\"") &&
          m[1].kind == json::Kind::kString) {
        edits.replace_owned(m[1], prefixed(o.system_prompt_prefix, m[1].raw));
        return;
      }
    }
    std::string message = R"({"role":"system","content":)";
    json::append_quoted(message, o.system_prompt_prefix);
    message += '}';
    edits.insert_first(f[kMessages], std::move(message));
  }
}

// A router's autoCache on an Anthropic Messages body: a cache breakpoint on the system prompt
// and on the last tool, unless the client placed its own (or an override rewrites the system).
void add_cache_breakpoints(std::string_view body, const std::array<json::Field, kChatKeys.size()>& f,
                           bool system_edited, BodyEdits& edits) {
  if (body.find("\"cache_control\"") != std::string_view::npos) return;
  constexpr std::string_view kBreakpoint = R"(,"cache_control":{"type":"ephemeral"}})";
  auto mark_last = [&](json::Field array) {
    std::vector<json::Field> elements;
    if (!json::scan_array(array.raw, elements) || elements.empty() || elements.back().kind != json::Kind::kObject) return;
    const json::Field last = elements.back();
    std::string marked(last.raw.substr(0, last.raw.size() - 1));
    marked += kBreakpoint;
    edits.replace_owned(last, std::move(marked));
  };
  const json::Field system = f[kSystem];
  if (!system_edited && system.kind == json::Kind::kString && system.raw.size() > 2) {
    std::string blocks = R"([{"type":"text","text":)";
    blocks += system.raw;
    blocks += kBreakpoint;
    blocks += ']';
    edits.replace_owned(system, std::move(blocks));
  } else if (!system_edited && system.kind == json::Kind::kArray) {
    mark_last(system);
  }
  if (f[kTools].kind == json::Kind::kArray) mark_last(f[kTools]);
}

// The usage chunk of a stream (stream_options.include_usage) with usage.cost added; false for
// every other event.
bool append_with_cost(const http::SseEvent& ev, const catalog::Model& priced, std::string& out) {
  // Cheap test first: with include_usage every chunk carries "usage":null, one an object.
  const size_t key = ev.data.find("\"usage\"");
  if (key == std::string_view::npos) return false;
  const size_t value = ev.data.find_first_not_of(" \t\r\n:", key + 7);
  if (value == std::string_view::npos || ev.data[value] != '{') return false;
  static constexpr std::array<std::string_view, 1> kUsage{"usage"};
  std::array<json::Field, 1> u;
  if (!json::scan_object(ev.data, kUsage, u) || u[0].kind != json::Kind::kObject) return false;
  if (u[0].raw.data() < ev.raw.data() || u[0].raw.data() >= ev.raw.data() + ev.raw.size()) return false;
  const auto usage = read_openai_usage(u[0].raw);
  if (!usage) return false;
  const size_t at = static_cast<size_t>(u[0].raw.data() - ev.raw.data()) + 1;  // after the '{'
  out.append(ev.raw.substr(0, at));
  out += "\"cost\":";
  out += format_cost(cost_usd(priced, *usage));
  if (u[0].raw.size() > 2) out += ',';
  out.append(ev.raw.substr(at));
  return true;
}

}  // namespace

Gateway::Gateway(const SnapshotSource& source, http::ClientOptions options, CircuitBreakers* breakers)
    : snapshots_(source), breakers_(breakers), client_(options) {}

Gateway::~Gateway() = default;

http::Task<Result<bool>> Gateway::chat_completions(http::Request& req, http::Response& res,
                                                   const ClientDialect& dialect,
                                                   RequestContext& ctx) {
  const std::string& body = req.body();
  std::array<json::Field, kChatKeys.size()> f;
  members_.clear();  // reused: read only before this request's first suspension
  if (auto r = json::scan_object(body, kChatKeys, f, members_); !r) {
    co_return fail(ErrorCode::kInvalidRequest,
                   fmt::format("The request body is not valid JSON: {}. Send a JSON object like "
                               "{{\"model\": \"demo/fast\", \"messages\": [...]}}.",
                               r.error().message));
  }
  if (f[kModel].kind != json::Kind::kString) {
    co_return fail(ErrorCode::kInvalidRequest,
                   "You must provide a model parameter: a string such as \"demo/fast\" "
                   "(GET /v1/models lists them).",
                   "model");
  }
  if (f[kMessages].kind != json::Kind::kArray) {
    co_return fail(ErrorCode::kInvalidRequest,
                   "Missing required parameter: 'messages' (an array of {role, content}).",
                   "messages");
  }
  if (f[kStream].present() && f[kStream].kind != json::Kind::kTrue && f[kStream].kind != json::Kind::kFalse &&
      f[kStream].kind != json::Kind::kNull) {
    co_return fail(ErrorCode::kInvalidRequest, "'stream' must be true or false.", "stream");
  }
  const bool stream = f[kStream].kind == json::Kind::kTrue;
  std::string unescaped;
  std::string_view model = f[kModel].raw.substr(1, f[kModel].raw.size() - 2);
  if (model.find('\\') != std::string_view::npos) {
    unescaped = json::unescape(f[kModel].raw);
    model = unescaped;
  }
  ctx.model.assign(model);

  // Hold the snapshot for the whole request: a swap must not free what we point into.
  const std::shared_ptr<const Snapshot> snap = snapshots_.get();
  BodyEdits edits(body);
  std::string_view wanted = model;
  auto router = snap->router_for(model);
  if (!router) co_return tl::unexpected(router.error());
  routing::FactScratch facts;
  if (const routing::CompiledRouter* r = *router) {
    const RequestHeaders headers(req);
    const routing::RequestView view{.body = body, .model = model, .stream = stream, .messages = f[kMessages],
                                    .metadata = f[kMetadata], .user = f[kUser], .headers = &headers,
                                    .members = members_};
    cel::Activation activation;
    routing::bind_facts(*r, view, activation, facts);
    const routing::SlashCommand* command = facts.last_user.found ? r->command_of(facts.last_user.text) : nullptr;
    const routing::Decision& d = ctx.decision.emplace(r->select(activation, facts.sticky_key, command));
    wanted = d.model_id;
    if (command != nullptr) {
      std::string stripped;
      json::append_quoted(stripped, strip_command(json::unescape(facts.last_user.token.raw), command->command));
      edits.replace_owned(facts.last_user.token, std::move(stripped));
    }
    if (d.variant != nullptr && !d.variant->overrides.empty()) {
      apply_overrides(d.variant->overrides, f, dialect.protocol(), edits);
    }
    const auto params = dialect.parameters();
    for (const auto& [name, field] : facts.from_body) {
      if (std::find(params.begin(), params.end(), name) == params.end()) {
        edits.remove_field(field, name);
      }
    }
  }

  // The attempt plan: the chosen model, then the route's and the router's fallbacks (and the
  // route's other variants when the router says so), then the request's own `models` list.
  boost::container::small_vector<std::string_view, 8> plan;
  auto add_to_plan = [&](std::string_view m) {
    if (!m.empty() && std::find(plan.begin(), plan.end(), m) == plan.end()) plan.push_back(m);
  };
  add_to_plan(wanted);
  int max_attempts = 0;
  int64_t deadline_ms = 0;
  int64_t ttft_ms = 0;
  if (ctx.decision) {
    const routing::Decision& d = *ctx.decision;
    const routing::RouterSpec& spec = d.router->spec();
    if (d.route != nullptr) {
      for (const auto& m : d.route->spec->fallbacks) add_to_plan(m);
    }
    for (const auto& m : spec.fallbacks) add_to_plan(m);
    if (spec.failover.other_variants && d.route != nullptr) {
      for (const auto& v : d.route->spec->variants) add_to_plan(v.model_id);
    }
    max_attempts = spec.failover.max_attempts;
    deadline_ms = spec.failover.deadline_ms;
    ttft_ms = spec.failover.ttft_timeout_ms;
  }
  // A client may set its own first-token deadline (milliseconds) for this request.
  if (const std::string_view v = req.header("x-switchyard-ttft-timeout-ms"); !v.empty()) {
    int64_t ms = 0;
    if (std::from_chars(v.data(), v.data() + v.size(), ms).ec == std::errc() && ms > 0) ttft_ms = ms;
  }
  std::vector<json::Field> listed;
  if (f[kModels].kind == json::Kind::kArray && json::scan_array(f[kModels].raw, listed)) {
    for (const json::Field& m : listed) {
      if (m.kind == json::Kind::kString) add_to_plan(m.raw.substr(1, m.raw.size() - 2));
    }
  }
  // Whether the body a translation reads must be the edited one (the model it ignores).
  bool rewritten = !edits.empty();
  if (f[kModels].present()) edits.remove_field(f[kModels], "models");  // ours, not the provider's
  const size_t attempts = std::min(plan.size(), max_attempts > 0 ? static_cast<size_t>(max_attempts) : kMaxAttempts);
  const auto started = std::chrono::steady_clock::now();
  std::string chain;  // x-switchyard-attempts: "<model>;status=<s>;ms=<ms>, ..."
  auto record = [&](std::string_view m, int status, std::string_view error) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    if (!chain.empty()) chain += ", ";
    fmt::format_to(std::back_inserter(chain), "{};status={}", header_safe(m), status);
    if (!error.empty()) fmt::format_to(std::back_inserter(chain), ";error={}", error);
    fmt::format_to(std::back_inserter(chain), ";ms={}", ms);
  };
  bool cache_marked = false;
  for (size_t attempt = 0;; ++attempt) {
  if (attempt > 0 && deadline_ms > 0 && std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(deadline_ms)) {
    co_return fail(ErrorCode::kUpstreamTimeout,
                   fmt::format("No answer within the router's failover deadline of {} ms; attempts: {}", deadline_ms, chain));
  }
  const bool last = attempt + 1 >= attempts;
  wanted = plan[attempt];
  std::string scratch_id;
  std::string scratch_quoted;
  auto target = snap->resolve(wanted, scratch_id, scratch_quoted);
  if (!target) {
    Error e = target.error();
    if (ctx.decision) {
      e.code = ErrorCode::kUnavailable;
      e.message = fmt::format("Router '{}' chose '{}' ({}), which this gateway cannot serve: {}",
                              ctx.decision->router->name(), wanted, ctx.decision->reason(), e.message);
    }
    if (!last) {
      record(wanted, 0, error_code_name(e.code));
      continue;
    }
    co_return tl::unexpected(std::move(e));
  }
  if (!last && cooling_down(target->model_id)) {
    record(target->model_id, 0, "cooling_down");
    continue;
  }
  if (!last && breakers_ != nullptr && !breakers_->allow(target->provider->name(), target->model_id)) {
    record(target->model_id, 0, "circuit_open");  // not retried blindly: the next option
    continue;
  }
  ctx.model.assign(target->model_id);
  ctx.provider.assign(target->provider->name());
  edits.update(f[kModel], target->upstream_quoted);
  const bool auto_cache = ctx.decision && ctx.decision->router->spec().auto_cache &&
                          target->provider->protocol() == "anthropic";
  if (auto_cache && dialect.protocol() == "anthropic" && !cache_marked) {
    cache_marked = true;
    rewritten = true;
    const bool system_edited = ctx.decision->variant != nullptr && !ctx.decision->variant->overrides.system_prompt_prefix.empty();
    add_cache_breakpoints(body, f, system_edited, edits);
  }
  // Another protocol than the client's: translate through the canonical model.
  const bool translating = target->provider->protocol() != dialect.protocol();
  translate::ChatRequest canonical;
  std::string translated;
  std::array<std::string_view, 1> translated_parts{};
  if (translating) {
    std::string edited;  // the body joined with its edits, only when it has more than the model's
    if (rewritten) {
      for (std::string_view part : edits.parts()) edited += part;
    }
    auto written = translate_request(rewritten ? std::string_view(edited) : std::string_view(body), dialect, *target,
                                     auto_cache, canonical);
    if (!written) co_return tl::unexpected(std::move(written.error()));
    translated = std::move(*written);
    translated_parts[0] = translated;
  }
  std::string unescaped_upstream;
  std::string_view upstream_model = target->upstream_quoted.substr(1, target->upstream_quoted.size() - 2);
  if (upstream_model.find('\\') != std::string_view::npos) {
    unescaped_upstream = json::unescape(target->upstream_quoted);
    upstream_model = unescaped_upstream;
  }
  std::string target_storage;
  const std::string_view upstream_path = target->provider->chat_target(upstream_model, stream, target_storage);

  // Bring your own key: x-switchyard-provider-key-<provider> replaces the configured one.
  char byok_name[96];
  const auto byok_name_end = fmt::format_to_n(byok_name, sizeof byok_name, "x-switchyard-provider-key-{}", ctx.provider);
  const std::string_view byok =
      byok_name_end.size <= sizeof byok_name ? req.header(std::string_view(byok_name, byok_name_end.size)) : std::string_view();
  std::string byok_value;
  const http::Header byok_header = byok.empty() ? http::Header{} : target->provider->auth_header(byok, byok_value);
  // Anthropic's version and beta headers are the client's to choose.
  const std::string_view client_version = req.header("anthropic-version");
  const std::string_view client_beta = req.header("anthropic-beta");
  std::array<http::Header, 6> up_headers{};
  size_t nh = 0;
  for (const auto& h : target->provider->chat_headers()) {
    if (!byok.empty() && http::iequals(h.name, byok_header.name)) continue;
    if (!client_version.empty() && http::iequals(h.name, "anthropic-version")) continue;
    up_headers[nh++] = h;
  }
  if (!byok.empty()) up_headers[nh++] = byok_header;
  if (target->provider->protocol() == "anthropic") {
    if (!client_version.empty()) up_headers[nh++] = {"anthropic-version", client_version};
    if (!client_beta.empty()) up_headers[nh++] = {"anthropic-beta", client_beta};
  }
  up_headers[nh++] = {"accept", stream ? "text/event-stream" : "application/json"};

  if (ctx.count_tokens) {
    if (translating) {  // no count endpoint in the provider's protocol: estimate
      const std::string answer = fmt::format(R"({{"input_tokens":{}}})", translate::estimate_input_tokens(canonical));
      const std::array<http::Header, 3> h{http::Header{"x-switchyard-request-id", ctx.request_id},
                                          http::Header{"x-switchyard-model", ctx.model},
                                          http::Header{"x-switchyard-token-count", "estimate"}};
      co_await res.send(200, "application/json", answer, h);
      co_return true;
    }
    target_storage.assign(upstream_path);
    target_storage += "/count_tokens";
  }
  const std::string_view request_path = ctx.count_tokens ? std::string_view(target_storage) : upstream_path;
  auto upstream = client_.exchange(target->provider->url());
  req.on_disconnect(upstream.get());
  // Two watches share one timer. TTFT failover: a stream whose first token is later than
  // ttft_ms (from now: connect and head included) is cancelled and the next attempt starts
  // (not for a plan's last attempt). The plan's deadline: an attempt still without an answer
  // (a whole answer, or a stream's first token) when it passes is cancelled, and the request
  // ends with a 504.
  const bool watch_ttft = stream && ttft_ms > 0 && !last && !ctx.count_tokens;
  const bool watching = watch_ttft || deadline_ms > 0;
  const auto watch = watching ? std::make_shared<FirstTokenWatch>() : nullptr;
  std::optional<boost::asio::steady_timer> watch_timer;
  const StopWatching unwatch{watch.get()};
  if (watching) {
    const auto now = std::chrono::steady_clock::now();
    auto fire_at = deadline_ms > 0 ? started + std::chrono::milliseconds(deadline_ms) : now + std::chrono::milliseconds(ttft_ms);
    if (watch_ttft && now + std::chrono::milliseconds(ttft_ms) < fire_at) {
      fire_at = now + std::chrono::milliseconds(ttft_ms);
    } else {
      watch->deadline = deadline_ms > 0;
    }
    watch->exchange = upstream.get();
    const auto executor = co_await boost::asio::this_coro::executor;
    watch_timer.emplace(executor, fire_at);
    watch_timer->async_wait([watch](const boost::system::error_code& ec) {
      if (ec || watch->exchange == nullptr) return;
      watch->fired = true;
      watch->exchange->cancel();
    });
  }
  // After the watch cancelled an attempt: the next one, or the deadline's 504.
  auto watch_error = [&](int status) -> Error {
    record(ctx.model, status, watch->deadline ? "deadline" : "ttft_timeout");
    return Error{ErrorCode::kUpstreamTimeout,
                 fmt::format("No answer within the router's failover deadline of {} ms; attempts: {}", deadline_ms, chain),
                 {}, 0};
  };
  auto sent = co_await upstream->send(
      {"POST", request_path, std::span(up_headers.data(), nh),
       translating ? std::span<const std::string_view>(translated_parts) : edits.parts()});
  if (!sent) {
    req.on_disconnect(nullptr);
    Error e = sent.error();
    if (watch && watch->fired && !req.client_gone()) {  // slow, not broken: the circuit is not told
      Error timeout = watch_error(0);  // no answer head
      if (watch->deadline) co_return tl::unexpected(std::move(timeout));
      continue;
    }
    if (breakers_ != nullptr && !req.client_gone()) breakers_->record(ctx.provider, ctx.model, false);
    if (!last && !req.client_gone()) {  // refused, reset, timed out: the next attempt
      record(ctx.model, 0, error_code_name(e.code));
      continue;
    }
    e.message = fmt::format("provider '{}' failed: {}", ctx.provider, e.message);
    co_return tl::unexpected(std::move(e));
  }
  ctx.upstream_status = upstream->status();
  if (breakers_ != nullptr && upstream->status() != 429) {  // 429: the provider is up; Retry-After rules
    breakers_->record(ctx.provider, ctx.model, !fails_over(upstream->status()));
  }
  if (fails_over(upstream->status()) && !last) {  // nothing has reached the client: try the next
    if (upstream->status() == 429) {
      if (const int s = retry_after_seconds(upstream->header("retry-after")); s > 0) cool_down(ctx.model, s);
    }
    record(ctx.model, upstream->status(), {});
    req.on_disconnect(nullptr);
    continue;  // the exchange is dropped unread: its connection closes
  }
  // Under the watch: a stream up to its first token (its events so far held back), or a whole
  // answer.
  const bool streaming = stream && upstream->status() == 200 && upstream->header("content-type").starts_with("text/event-stream");
  std::string first_token;
  std::optional<std::string> whole;
  if (watching && (streaming || !ctx.count_tokens)) {
    Result<std::string> read = std::string();
    if (streaming) {
      auto r = co_await read_to_first_token(*upstream, target->provider->protocol());
      read = std::move(r);
    } else {
      auto r = co_await upstream->read_body();
      read = std::move(r);
    }
    if (!read && watch->fired && !req.client_gone()) {
      req.on_disconnect(nullptr);
      Error timeout = watch_error(upstream->status());
      if (watch->deadline) co_return tl::unexpected(std::move(timeout));
      continue;
    }
    if (read && streaming) first_token = std::move(*read);
    if (read && !streaming) whole = std::move(*read);
  }
  if (watch_timer) watch_timer->cancel();
  if (watch) watch->exchange = nullptr;
  const bool failed_over = !chain.empty();
  if (failed_over) record(ctx.model, upstream->status(), {});

  std::array<http::Header, 16> headers{};
  size_t n = 0;
  headers[n++] = {"x-switchyard-request-id", ctx.request_id};
  if (failed_over) headers[n++] = {"x-switchyard-attempts", chain};
  headers[n++] = {"x-switchyard-model", ctx.model};
  headers[n++] = {"x-switchyard-provider", ctx.provider};
  headers[n++] = {"x-request-id", ctx.request_id};
  char version[24];
  std::string reason;
  if (ctx.decision) {
    const routing::Decision& d = *ctx.decision;
    const auto end = fmt::format_to_n(version, sizeof version, "{}", d.router->meta().version).out;
    headers[n++] = {"x-switchyard-router", d.router->name()};
    headers[n++] = {"x-switchyard-router-version", std::string_view(version, static_cast<size_t>(end - version))};
    headers[n++] = {"x-switchyard-route", d.route_name};
    headers[n++] = {"x-switchyard-variant", d.variant_name};
    if (truthy_header(req.header("x-switchyard-explain"))) {
      reason = header_safe(d.reason());
      headers[n++] = {"x-switchyard-routing-reason", reason};
    }
  }
  if (auto id = upstream->header("x-request-id"); !id.empty()) {
    headers[n++] = {"x-upstream-request-id", id};
  } else if (auto rid = upstream->header("request-id"); !rid.empty()) {  // Anthropic's name for it
    headers[n++] = {"x-upstream-request-id", rid};
  }
  for (auto name : kPassHeaders) {
    if (auto v = upstream->header(name); !v.empty()) headers[n++] = {name, v};
  }
  if (translating && !ctx.count_tokens) {
    auto r = co_await relay_translated(req, res, *upstream, first_token, whole, headers, n, dialect, ctx, *target, canonical);
    req.on_disconnect(nullptr);
    co_return r;
  }
  const std::span<const http::Header> out_headers(headers.data(), n);

  const std::string_view content_type = upstream->header("content-type");
  if (stream && upstream->status() == 200 && content_type.starts_with("text/event-stream")) {
    const catalog::Model* priced = dialect.protocol() == "openai" ? target->model : nullptr;
    auto r = co_await relay_stream(req, res, *upstream, first_token, out_headers, dialect, priced);
    req.on_disconnect(nullptr);
    co_return r;
  }
  Result<std::string> answer = std::string();
  if (whole) {
    answer = std::move(*whole);
  } else {
    auto r = co_await upstream->read_body();
    answer = std::move(r);
  }
  req.on_disconnect(nullptr);
  if (!answer) {
    Error e = answer.error();
    e.message = fmt::format("provider '{}' failed while answering: {}", ctx.provider, e.message);
    co_return tl::unexpected(std::move(e));
  }
  // A priced answer says what it cost: a header, and usage.cost as OpenRouter reports it
  // (inserted into the answer in place).
  std::string cost;
  if (upstream->status() == 200 && target->model != nullptr) {
    static constexpr std::array<std::string_view, 1> kUsage{"usage"};
    std::array<json::Field, 1> u;
    if (json::scan_object(*answer, kUsage, u) && u[0].kind == json::Kind::kObject) {
      const bool openai = dialect.protocol() == "openai";
      if (auto usage = openai ? read_openai_usage(u[0].raw) : read_anthropic_usage(u[0].raw)) {
        cost = format_cost(cost_usd(*target->model, *usage));
        headers[n++] = {"x-switchyard-cost-usd", cost};
        if (openai) {
          const size_t at = u[0].offset_in(*answer) + 1;  // after the '{'
          answer->insert(at, fmt::format("\"cost\":{}{}", cost, u[0].raw.size() > 2 ? "," : ""));
        }
      }
    }
  }
  // Upstream errors pass through with their status and body.
  co_await res.send(upstream->status(), content_type.empty() ? "application/json" : content_type, *answer,
                    std::span<const http::Header>(headers.data(), n));
  co_return true;
  }  // attempts
}

http::Task<Result<std::string>> Gateway::read_to_first_token(http::Exchange& upstream, std::string_view protocol) {
  auto decoder = translate::make_stream_decoder(protocol);
  http::SseParser parser;
  std::vector<translate::StreamEvent> events;
  std::string read;
  bool found = false;
  while (!found) {
    auto piece = co_await upstream.read_some();
    if (!piece) co_return tl::unexpected(piece.error());
    if (piece->empty()) break;  // the relay reports a stream that ends early
    read.append(*piece);
    auto fed = parser.feed(*piece, [&](const http::SseEvent& ev) {
      events.clear();
      if (found || !decoder->decode(ev.event, ev.data, events)) return;
      for (const auto& e : events) {
        using T = translate::StreamEvent::Type;
        found |= e.type == T::kTextDelta || e.type == T::kThinkingDelta || e.type == T::kToolInputDelta ||
                 (e.type == T::kBlockStart && e.block == translate::PartKind::kToolUse) || e.type == T::kFinish ||
                 e.type == T::kError;
      }
    });
    if (!fed) break;
  }
  co_return read;
}

http::Task<std::optional<std::string_view>> Gateway::next_piece(http::Request& req, http::Response& res,
                                                                http::Exchange& upstream, std::string_view& read_before,
                                                                const ClientDialect& dialect) {
  if (!read_before.empty()) {
    const std::string_view piece = read_before;
    read_before = {};
    co_return piece;
  }
  auto piece = co_await upstream.read_some();
  if (piece) co_return *piece;
  if (!req.client_gone()) {
    Error e = piece.error();
    e.code = ErrorCode::kUpstreamUnreachable;
    e.message = fmt::format("the provider's stream broke off: {}", e.message);
    const std::string event = dialect.stream_error_event(e);
    co_await res.write(event);
    co_await res.end_stream();
  }
  co_return std::nullopt;
}

bool Gateway::cooling_down(std::string_view model) {
  const auto it = cooldown_.find(model);
  if (it == cooldown_.end()) return false;
  if (std::chrono::steady_clock::now() < it->second) return true;
  cooldown_.erase(it);
  return false;
}

void Gateway::cool_down(std::string_view model, int seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  if (auto it = cooldown_.find(model); it != cooldown_.end()) {
    it->second = until;
  } else {
    cooldown_.emplace(std::string(model), until);
  }
}

http::Task<Result<bool>> Gateway::relay_stream(http::Request& req, http::Response& res,
                                               http::Exchange& upstream, std::string_view read_before,
                                               std::span<const http::Header> headers,
                                               const ClientDialect& dialect, const catalog::Model* priced) {
  if (!co_await res.begin_stream(200, "text/event-stream; charset=utf-8", headers)) co_return true;
  http::SseParser parser;
  std::string out;
  bool done = false;
  for (;;) {
    const auto chunk = co_await next_piece(req, res, upstream, read_before, dialect);
    if (!chunk) co_return true;
    if (chunk->empty()) break;
    out.clear();
    auto fed = parser.feed(*chunk, [&](const http::SseEvent& ev) {
      if (dialect.ends_stream(ev)) done = true;
      if (priced == nullptr || !append_with_cost(ev, *priced, out)) out.append(ev.raw);
    });
    if (!fed) {
      const std::string event = dialect.stream_error_event(fed.error());
      co_await res.write(event);
      co_await res.end_stream();
      co_return true;
    }
    // Every complete event goes out the moment its last byte arrived.
    if (!out.empty() && !co_await res.write(out)) co_return true;
  }
  if (!done) {
    Error e{ErrorCode::kUpstreamError, "the provider ended the stream before its last event", {}, 0};
    const std::string event = dialect.stream_error_event(e);
    co_await res.write(event);
  }
  co_await res.end_stream();
  co_return true;
}

}  // namespace sy::gateway
