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
#include "gateway/attempt.h"
#include "gateway/body_edit.h"
#include "gateway/cost.h"
#include "gateway/meter.h"
#include "translate/translate.h"
#include "routing/facts.h"
#include "http/sse.h"
#include "http/wire.h"

namespace sy::gateway {
namespace {

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
void apply_overrides(const routing::Overrides& o, const ChatFields& f,
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

// An OpenAI event with `cost` added to its usage object (`usage`, a field of the event's data).
void append_with_cost(const http::SseEvent& ev, json::Field usage, std::string_view cost, std::string& out) {
  const size_t at = static_cast<size_t>(usage.raw.data() - ev.raw.data()) + 1;  // after the '{'
  out.append(ev.raw.substr(0, at));
  out += "\"cost\":";
  out += cost;
  if (usage.raw.size() > 2) out += ',';
  out.append(ev.raw.substr(at));
}

// The request log learns what the client asked for and how it was routed. `sticky_key`: the
// router's stickiness key's value, when routed.
void log_request(telemetry::RequestRecord& log, const http::Request& req, const RequestContext& ctx,
                 std::string_view model, bool stream, const ChatFields& f, std::string_view sticky_key,
                 const Snapshot& snap) {
  log.requested_model.assign(model);
  log.stream = stream;
  if (!sticky_key.empty()) {
    log.user.assign(sticky_key);
  } else if (f[kUser].kind == json::Kind::kString) {
    json::append_unescaped(log.user, f[kUser].raw);  // the record comes cleared
  } else if (f[kMetadata].kind == json::Kind::kObject) {  // Anthropic's metadata.user_id
    static constexpr std::array<std::string_view, 1> kUserId{"user_id"};
    std::array<json::Field, 1> u;
    if (json::scan_object(f[kMetadata].raw, kUserId, u) && u[0].kind == json::Kind::kString) {
      json::append_unescaped(log.user, u[0].raw);
    }
  }
  if (ctx.decision) {
    const routing::Decision& d = *ctx.decision;
    log.router = d.router->name();
    log.router_version = d.router->meta().version;
    log.route.assign(d.route_name);
    log.variant.assign(d.variant_name);
    log.reason = d.reason();
  }
  // The metadata the log keeps: allow-listed keys, from `metadata` or x-switchyard-meta-<key>.
  log.metadata_json = "{";
  const auto& keys = snap.log_metadata();
  if (!keys.empty()) {
    // Their values in the body's `metadata`; on the stack for the usual few keys.
    constexpr size_t kOnStack = 8;
    std::array<json::Field, kOnStack> few;
    std::vector<json::Field> many(keys.size() > kOnStack ? keys.size() : 0);
    const std::span<json::Field> values = many.empty() ? std::span<json::Field>(few.data(), keys.size())
                                                       : std::span<json::Field>(many);
    if (f[kMetadata].kind == json::Kind::kObject && !json::scan_object(f[kMetadata].raw, snap.log_metadata_names(), values)) {
      std::fill(values.begin(), values.end(), json::Field{});
    }
    for (size_t i = 0; i < keys.size(); ++i) {
      const bool in_body = values[i].present() && !values[i].raw.empty();
      const std::string_view header = in_body ? std::string_view() : req.header(keys[i].header);
      if (!in_body && header.empty()) continue;
      if (log.metadata_json.size() > 1) log.metadata_json += ',';
      log.metadata_json += keys[i].member;
      if (in_body) {
        log.metadata_json += values[i].raw;
      } else {
        json::append_quoted(log.metadata_json, header);
      }
    }
  }
  log.metadata_json += '}';
}

}  // namespace

Gateway::Gateway(const SnapshotSource& source, http::ClientOptions options, CircuitBreakers* breakers)
    : snapshots_(source), breakers_(breakers), client_(options) {}

Gateway::~Gateway() = default;

http::Task<Result<bool>> Gateway::chat_completions(http::Request& req, http::Response& res,
                                                   const ClientDialect& dialect,
                                                   RequestContext& ctx) {
  const std::string& body = req.body();
  ChatFields f;
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
  // `audio` (and `modalities` with "audio"): the answer is spoken too. OpenAI's dialect only.
  if ((f[kAudio].present() || f[kModalities].present()) && !ctx.speaking && !ctx.count_tokens &&
      dialect.protocol() == "openai") {
    bool wants_audio = f[kAudio].present() && f[kAudio].kind != json::Kind::kNull;
    if (f[kModalities].kind == json::Kind::kArray) {
      std::vector<json::Field> modalities;
      if (json::scan_array(f[kModalities].raw, modalities)) {
        wants_audio = false;
        for (const auto& m : modalities) wants_audio = wants_audio || m.raw == "\"audio\"";
      }
    }
    if (wants_audio) {
      if (f[kAudio].kind != json::Kind::kObject) {
        co_return fail(ErrorCode::kInvalidRequest,
                       "'audio' is required when modalities include \"audio\": an object such as "
                       "{\"voice\": \"alloy\", \"format\": \"wav\"}.",
                       "audio");
      }
      co_return co_await chat_with_speech(req, res, dialect, ctx, std::string(f[kAudio].raw), stream);
    }
  }
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
  bool hedge = false;
  bool resume_streams = false;
  if (ctx.decision) {
    const routing::Decision& d = *ctx.decision;
    const routing::RouterSpec& spec = d.router->spec();
    // A fallback "route:<name>": the variant that route chooses for this request.
    auto add_fallback = [&](std::string_view m) {
      if (!m.starts_with(routing::kRouteFallback)) return add_to_plan(m);
      const routing::CompiledRoute* route = d.router->route_named(m.substr(routing::kRouteFallback.size()));
      if (route == nullptr || route->total_weight <= 0) return;
      add_to_plan(facts.sticky_key.empty() ? route->pick_random().model_id : route->pick(facts.sticky_key).model_id);
    };
    if (d.route != nullptr) {
      for (const auto& m : d.route->spec->fallbacks) add_fallback(m);
    }
    for (const auto& m : spec.fallbacks) add_fallback(m);
    if (spec.failover.other_variants && d.route != nullptr) {
      for (const auto& v : d.route->spec->variants) add_to_plan(v.model_id);
    }
    max_attempts = spec.failover.max_attempts;
    deadline_ms = spec.failover.deadline_ms;
    ttft_ms = spec.failover.ttft_timeout_ms;
    hedge = spec.failover.hedge;
    resume_streams = spec.failover.resume_streams;
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
  if (f[kAudio].present()) edits.remove_field(f[kAudio], "audio");  // spoken here (spoken.cc)
  if (f[kModalities].present()) edits.remove_field(f[kModalities], "modalities");
  // Whether the body a translation reads must be the edited one (the model it ignores).
  const bool rewritten = !edits.empty();
  if (f[kModels].present()) edits.remove_field(f[kModels], "models");  // ours, not the provider's
  // Exact accounting: an OpenAI-protocol stream reports its usage only when asked. Ask, and
  // leave the usage chunk out of the client's stream when the client did not.
  bool strip_usage = false;
  if (stream && dialect.protocol() == "openai" && !ctx.count_tokens) {
    const json::Field options = f[kStreamOptions];
    static constexpr std::array<std::string_view, 1> kIncludeUsage{"include_usage"};
    std::array<json::Field, 1> o;
    if (options.kind != json::Kind::kObject) {
      edits.set_field(options, "stream_options", R"({"include_usage":true})");
      strip_usage = true;
    } else if (json::scan_object(options.raw, kIncludeUsage, o) && o[0].kind != json::Kind::kTrue) {
      if (o[0].present()) {
        edits.replace(o[0], "true");
      } else {
        edits.insert_first(options, R"("include_usage":true)");
      }
      strip_usage = true;
    }
  }
  const bool keep_bodies = ctx.record != nullptr && (snap->log_bodies() || (ctx.decision && ctx.decision->router->spec().log_bodies));
  if (ctx.record != nullptr) {
    log_request(*ctx.record, req, ctx, model, stream, f, facts.sticky_key, *snap);
    if (keep_bodies) ctx.record->request_body = body;
  }
  Call call{.req = req, .dialect = dialect, .ctx = ctx, .snap = *snap, .body = body, .fields = f, .edits = edits,
            .stream = stream, .rewritten = rewritten, .plan = plan,
            .attempts = std::min(plan.size(), max_attempts > 0 ? static_cast<size_t>(max_attempts) : kMaxAttempts),
            .deadline_ms = deadline_ms, .ttft_ms = ttft_ms, .hedge = hedge, .resume_streams = resume_streams,
            .started = ctx.started, .strip_usage = strip_usage, .keep_response = keep_bodies};
  auto ran = co_await run_plan(call);
  if (!ran) co_return tl::unexpected(std::move(ran.error()));
  Attempt& a = **ran;
  const Target& target = a.target;
  ctx.model.assign(target.model_id);
  ctx.provider.assign(target.provider->name());
  if (ctx.record != nullptr) {
    ctx.record->model = ctx.model;
    ctx.record->provider = ctx.provider;
  }
  if (a.estimate) {  // count_tokens, for a provider without a count endpoint
    const std::string answer = fmt::format(R"({{"input_tokens":{}}})", translate::estimate_input_tokens(a.canonical));
    const std::array<http::Header, 3> h{http::Header{"x-switchyard-request-id", ctx.request_id},
                                        http::Header{"x-switchyard-model", ctx.model},
                                        http::Header{"x-switchyard-token-count", "estimate"}};
    co_await res.send(200, "application/json", answer, h);
    co_return true;
  }
  http::Exchange& upstream = *a.upstream;
  call.record(a, {}, true);
  const bool failed_over = !call.chain.empty();
  ctx.upstream_status = upstream.status();

  std::array<http::Header, 16> headers{};
  size_t n = 0;
  headers[n++] = {"x-switchyard-request-id", ctx.request_id};
  if (failed_over) headers[n++] = {"x-switchyard-attempts", call.chain};
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
  if (auto id = upstream.header("x-request-id"); !id.empty()) {
    headers[n++] = {"x-upstream-request-id", id};
  } else if (auto rid = upstream.header("request-id"); !rid.empty()) {  // Anthropic's name for it
    headers[n++] = {"x-upstream-request-id", rid};
  }
  for (auto name : kPassHeaders) {
    if (auto v = upstream.header(name); !v.empty()) headers[n++] = {name, v};
  }
  req.on_disconnect(&upstream);
  // resumeStreams: a stream that breaks may be continued by the plan's next models.
  const bool resume = call.resume_streams && stream && call.next < call.attempts;
  if (a.translating && !ctx.count_tokens) {
    auto r = co_await relay_translated(call, a, res, headers, n, resume);
    req.on_disconnect(nullptr);
    co_return r;
  }
  const std::string_view content_type = upstream.header("content-type");
  if (stream && upstream.status() == 200 && content_type.starts_with("text/event-stream")) {
    auto r = co_await relay_stream(call, a, res, std::span<const http::Header>(headers.data(), n), resume);
    req.on_disconnect(nullptr);
    co_return r;
  }
  Result<std::string> answer = std::string();
  if (a.whole) {
    answer = std::move(*a.whole);
  } else {
    auto r = co_await upstream.read_body();
    answer = std::move(r);
  }
  req.on_disconnect(nullptr);
  if (!answer) {
    Error e = answer.error();
    e.message = fmt::format("provider '{}' failed while answering: {}", ctx.provider, e.message);
    co_return tl::unexpected(std::move(e));
  }
  // What the answer used goes to the request log; a priced answer says what it cost: a header,
  // and usage.cost as OpenRouter reports it (inserted into the answer in place).
  std::string cost;
  if (upstream.status() == 200 && !ctx.count_tokens && a.usage_size > 0) {  // found when the answer was read
    const std::string_view usage_json = std::string_view(*answer).substr(a.usage_offset, a.usage_size);
    const bool openai = dialect.protocol() == "openai";
    if (auto usage = openai ? read_openai_usage(usage_json) : read_anthropic_usage(usage_json)) {
      const double usd = call.used(a, *usage);
      if (target.model != nullptr) {
        cost = format_cost(usd);
        headers[n++] = {"x-switchyard-cost-usd", cost};
        if (openai) {
          const size_t at = a.usage_offset + 1;  // after the '{'
          answer->insert(at, fmt::format("\"cost\":{}{}", cost, a.usage_size > 2 ? "," : ""));
        }
      }
    }
  }
  call.first_token();  // a whole answer: its first token reaches the client with it
  if (keep_bodies) ctx.record->response_body = *answer;
  // Upstream errors pass through with their status and body.
  co_await res.send(upstream.status(), content_type.empty() ? "application/json" : content_type, *answer,
                    std::span<const http::Header>(headers.data(), n));
  co_return true;
}

http::Task<std::optional<std::string_view>> Gateway::next_piece(Call& call, http::Response& res,
                                                                http::Exchange& upstream, std::string_view& read_before,
                                                                Error* broke) {
  if (!read_before.empty()) {
    const std::string_view piece = read_before;
    read_before = {};
    co_return piece;
  }
  auto piece = co_await upstream.read_some();
  if (piece) co_return *piece;
  if (!call.req.client_gone()) {
    Error e = piece.error();
    e.code = ErrorCode::kUpstreamUnreachable;
    e.message = fmt::format("the provider's stream broke off: {}", e.message);
    if (broke != nullptr) {
      *broke = std::move(e);
    } else {
      const std::string event = call.stream_error(e, "stream_broke");
      co_await res.write(event);
      co_await res.end_stream();
    }
  }
  co_return std::nullopt;
}

http::Task<Result<bool>> Gateway::relay_stream(Call& call, Attempt& a, http::Response& res,
                                               std::span<const http::Header> headers, bool resume) {
  http::Request& req = call.req;
  const ClientDialect& dialect = call.dialect;
  http::Exchange& upstream = *a.upstream;
  std::string_view read_before = a.first_token;
  if (!co_await res.begin_stream(200, "text/event-stream; charset=utf-8", headers)) co_return true;
  http::SseParser parser;
  std::string out;
  bool done = false;
  const bool openai = dialect.protocol() == "openai";
  StreamMeter meter(openai);
  bool token_seen = false;
  std::string cost;
  // With resumeStreams, what the client has been sent (the provider speaks the client's protocol).
  std::optional<StreamProgress> progress;
  std::unique_ptr<translate::StreamDecoder> decoder;
  std::vector<translate::StreamEvent> events;
  if (resume) {
    progress.emplace();
    decoder = translate::make_stream_decoder(dialect.protocol());
  }
  // What the stream used goes to the request log however the relay ends (OpenAI's usage
  // chunk is logged as it passes: its cost is written into it).
  bool logged = false;
  struct LogUsage {
    Call& call;
    Attempt& a;
    const StreamMeter& meter;
    const bool& logged;
    ~LogUsage() {
      if (!logged && meter.usage()) call.used(a, *meter.usage());
    }
  } log_usage{call, a, meter, logged};
  Error broke;
  bool malformed = false;  // an event whose data is not JSON: it and what follows are not relayed
  for (;;) {
    const auto chunk = co_await next_piece(call, res, upstream, read_before, progress ? &broke : nullptr);
    if (!chunk) {
      if (!progress || req.client_gone()) co_return true;
      auto r = co_await resume_stream(call, res, *progress, std::move(broke));
      co_return r;
    }
    if (chunk->empty()) break;
    out.clear();
    auto fed = parser.feed(*chunk, [&](const http::SseEvent& ev) {
      if (malformed) return;
      if (!looks_like_json(ev.data)) {
        malformed = true;
        return;
      }
      if (dialect.ends_stream(ev)) done = true;
      if (!token_seen && meter.carries_token(ev)) {
        token_seen = true;
        call.first_token();
      }
      json::Field usage;
      if (meter.see(ev, usage)) {  // OpenAI's usage chunk: its cost added, or left out
        const double usd = call.used(a, *meter.usage());
        logged = true;
        if (!call.strip_usage) {
          if (a.target.model != nullptr) {
            cost = format_cost(usd);
            append_with_cost(ev, usage, cost, out);
          } else {
            out.append(ev.raw);
          }
        }
      } else {
        out.append(ev.raw);
      }
      if (decoder) {
        events.clear();
        if (decoder->decode(ev.event, ev.data, events)) {
          for (const auto& e : events) progress->see(e);
        }
      }
    });
    if (!fed || malformed) {
      Error e = !fed ? fed.error() : Error{ErrorCode::kUpstreamError, "the provider sent an event that is not JSON", {}, 0};
      if (!out.empty() && !co_await res.write(out)) co_return true;
      if (progress) {
        auto r = co_await resume_stream(call, res, *progress, std::move(e));
        co_return r;
      }
      const std::string event = call.stream_error(e, "stream_malformed");
      co_await res.write(event);
      co_await res.end_stream();
      co_return true;
    }
    // Every complete event goes out the moment its last byte arrived.
    call.sent(out);
    if (!out.empty() && !co_await res.write(out)) co_return true;
  }
  if (!done) {
    Error e{ErrorCode::kUpstreamError, "the provider ended the stream before its last event", {}, 0};
    if (progress) {
      auto r = co_await resume_stream(call, res, *progress, std::move(e));
      co_return r;
    }
    const std::string event = call.stream_error(e, "stream_incomplete");
    co_await res.write(event);
  }
  co_await res.end_stream();
  co_return true;
}

}  // namespace sy::gateway
