// The attempts of a request's plan: preparing each model's request, sending it until its
// answer can go to the client, and running the plan — one attempt after another, or under the
// timer of a time-to-first-token limit or a deadline, hedged or not.
#include <algorithm>
#include <deque>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "gateway/attempt.h"
#include "gateway/meter.h"
#include "http/sse.h"
#include "http/wire.h"
#include "translate/translate.h"

namespace sy::gateway {
namespace {

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

int64_t ms_of(Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

// A router's autoCache on an Anthropic Messages body: a cache breakpoint on the system prompt
// and on the last tool, unless the client placed its own (or an override rewrites the system).
void add_cache_breakpoints(std::string_view body, const ChatFields& f, bool system_edited, BodyEdits& edits) {
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

// Cancels every attempt in flight when the client leaves (a timed plan has several).
class CancelAll final : public http::CancelHook {
 public:
  explicit CancelAll(const std::vector<Gateway::Attempt*>& running) : running_(running) {}
  void cancel() override {
    for (auto* a : running_) a->upstream->cancel();
  }

 private:
  const std::vector<Gateway::Attempt*>& running_;
};

}  // namespace

std::string header_safe(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

void Gateway::Call::chain_entry(std::string_view model, int status, std::string_view error,
                                Clock::time_point attempt_start, std::optional<Clock::duration> ttft) {
  if (!chain.empty()) chain += ", ";
  fmt::format_to(std::back_inserter(chain), "{};status={}", header_safe(model), status);
  if (!error.empty()) fmt::format_to(std::back_inserter(chain), ";error={}", error);
  fmt::format_to(std::back_inserter(chain), ";start={};ms={}", ms_of(attempt_start - started),
                 ms_of(Clock::now() - attempt_start));
  if (ttft) fmt::format_to(std::back_inserter(chain), ";ttft={}", ms_of(*ttft));
}

void Gateway::Call::record(const Attempt& a, std::string_view error, bool served) {
  if (telemetry::RequestRecord* log = ctx.record) {
    log->attempts.push_back({.model = std::string(a.target.model_id),
                             .provider = std::string(a.target.provider->name()),
                             .status = a.status,
                             .error_class = std::string(error),
                             .start_ms = ms_of(a.started - started),
                             .duration_ms = ms_of(Clock::now() - a.started),
                             .ttft_ms = a.ttft ? ms_of(*a.ttft) : -1,
                             .served = served});
  }
  if (served && chain.empty()) return;  // one attempt: nothing for the header to tell
  chain_entry(a.target.model_id, a.status, error, a.started, a.ttft);
}

void Gateway::Call::record_skipped(std::string_view model, std::string_view provider, std::string_view error,
                                   Clock::time_point at) {
  if (telemetry::RequestRecord* log = ctx.record) {
    log->attempts.push_back({.model = std::string(model),
                             .provider = std::string(provider),
                             .error_class = std::string(error),
                             .start_ms = ms_of(at - started)});
  }
  chain_entry(model, 0, error, at, std::nullopt);
}

double Gateway::Call::used(const Attempt& a, const Usage& usage, int64_t reasoning) {
  const double cost = a.target.model != nullptr ? cost_usd(*a.target.model, usage) : 0;
  if (telemetry::RequestRecord* log = ctx.record) {
    log->tokens_in += usage.input;
    log->tokens_out += usage.output;
    log->tokens_cached += usage.cache_read;
    log->tokens_reasoning += reasoning;
    log->cost_usd += cost;
    for (auto it = log->attempts.rbegin(); it != log->attempts.rend(); ++it) {
      if (it->served && it->model == a.target.model_id) {
        it->tokens_in += usage.input;
        it->tokens_out += usage.output;
        it->cost_usd += cost;
        break;
      }
    }
  }
  return cost;
}

void Gateway::Call::first_token() {
  telemetry::RequestRecord* log = ctx.record;
  if (log == nullptr || log->ttft_ms >= 0) return;
  log->ttft_ms = ms_of(Clock::now() - started);
  // The served attempt's own TTFT, when it was not read ahead: from its start.
  if (!log->attempts.empty() && log->attempts.back().served && log->attempts.back().ttft_ms < 0) {
    log->attempts.back().ttft_ms = log->ttft_ms - log->attempts.back().start_ms;
  }
}

std::string Gateway::Call::stream_error(const Error& e, std::string_view error_class) {
  if (ctx.record != nullptr) ctx.record->error_class.assign(error_class);
  return dialect.stream_error_event(e);
}

void Gateway::Call::sent(std::string_view bytes) {
  if (!keep_response || ctx.record == nullptr) return;
  std::string& kept = ctx.record->response_body;
  kept.append(bytes.substr(0, kMaxLoggedBody - std::min(kMaxLoggedBody, kept.size())));
}

Error Gateway::Call::deadline_error() const {
  return Error{ErrorCode::kUpstreamTimeout,
               fmt::format("No answer within the router's failover deadline of {} ms; attempts: {}", deadline_ms, chain),
               {}, 0};
}

Gateway::Prepared Gateway::prepare(Call& call, Attempt& a, Error& error) {
  RequestContext& ctx = call.ctx;
  const bool last = call.last(a.index);
  const std::string_view wanted = call.plan[a.index];
  a.started = Clock::now();
  auto target = call.snap.resolve(wanted, a.scratch_id, a.scratch_quoted);
  if (!target) {
    error = target.error();
    if (ctx.decision) {
      error.code = ErrorCode::kUnavailable;
      error.message = fmt::format("Router '{}' chose '{}' ({}), which this gateway cannot serve: {}",
                                  ctx.decision->router->name(), wanted, ctx.decision->reason(), error.message);
    }
    if (last) return Prepared::kFailed;
    call.record_skipped(wanted, {}, error_code_name(error.code), a.started);
    return Prepared::kSkipped;
  }
  a.target = *target;
  const providers::Provider& provider = *a.target.provider;
  if (!last && cooling_down(a.target.model_id)) {
    call.record_skipped(a.target.model_id, provider.name(), "cooling_down", a.started);
    return Prepared::kSkipped;
  }
  if (!last && breakers_ != nullptr && !breakers_->allow(provider.name(), a.target.model_id)) {
    call.record_skipped(a.target.model_id, provider.name(), "circuit_open", a.started);  // not retried blindly: the next option
    return Prepared::kSkipped;
  }
  call.edits.update(call.fields[kModel], a.target.upstream_quoted);
  const bool auto_cache = ctx.decision && ctx.decision->router->spec().auto_cache && provider.protocol() == "anthropic";
  if (auto_cache && call.dialect.protocol() == "anthropic" && !call.cache_marked) {
    call.cache_marked = true;
    call.rewritten = true;
    const bool system_edited =
        ctx.decision->variant != nullptr && !ctx.decision->variant->overrides.system_prompt_prefix.empty();
    add_cache_breakpoints(call.body, call.fields, system_edited, call.edits);
  }
  // Another protocol than the client's: translate through the canonical model.
  a.translating = provider.protocol() != call.dialect.protocol();
  if (a.translating) {
    std::string edited;  // the body joined with its edits, only when it has more than the model's
    if (call.rewritten) {
      for (std::string_view part : call.edits.parts()) edited += part;
    }
    auto written = translate_request(call.rewritten ? std::string_view(edited) : call.body, call.dialect, a.target,
                                     auto_cache, a.canonical);
    if (!written) {
      error = std::move(written.error());
      return Prepared::kFailed;
    }
    a.translated = std::move(*written);
    a.parts.assign(1, a.translated);
    if (ctx.count_tokens) {  // no count endpoint in the provider's protocol: estimate
      a.estimate = true;
      return Prepared::kReady;
    }
  } else {
    const auto parts = call.edits.parts();
    a.parts.assign(parts.begin(), parts.end());
  }
  std::string_view upstream_model = a.target.upstream_quoted.substr(1, a.target.upstream_quoted.size() - 2);
  if (upstream_model.find('\\') != std::string_view::npos) {
    a.upstream_model = json::unescape(a.target.upstream_quoted);
    upstream_model = a.upstream_model;
  }
  a.path = provider.chat_target(upstream_model, call.stream, a.path_storage);
  if (ctx.count_tokens) {
    if (a.path.data() != a.path_storage.data()) a.path_storage.assign(a.path);
    a.path_storage += "/count_tokens";
    a.path = a.path_storage;
  }

  // Bring your own key: x-switchyard-provider-key-<provider> replaces the configured one.
  char byok_name[96];
  const auto byok_name_end =
      fmt::format_to_n(byok_name, sizeof byok_name, "x-switchyard-provider-key-{}", provider.name());
  const std::string_view byok = byok_name_end.size <= sizeof byok_name
                                    ? call.req.header(std::string_view(byok_name, byok_name_end.size))
                                    : std::string_view();
  const http::Header byok_header = byok.empty() ? http::Header{} : provider.auth_header(byok, a.byok_value);
  // Anthropic's version and beta headers are the client's to choose.
  const std::string_view client_version = call.req.header("anthropic-version");
  const std::string_view client_beta = call.req.header("anthropic-beta");
  size_t& nh = a.header_count;
  for (const auto& h : provider.chat_headers()) {
    if (!byok.empty() && http::iequals(h.name, byok_header.name)) continue;
    if (!client_version.empty() && http::iequals(h.name, "anthropic-version")) continue;
    a.headers[nh++] = h;
  }
  if (!byok.empty()) a.headers[nh++] = byok_header;
  if (provider.protocol() == "anthropic") {
    if (!client_version.empty()) a.headers[nh++] = {"anthropic-version", client_version};
    if (!client_beta.empty()) a.headers[nh++] = {"anthropic-beta", client_beta};
  }
  a.headers[nh++] = {"accept", call.stream ? "text/event-stream" : "application/json"};
  // Read ahead when a failure before the first token can still move on, or a timer watches it.
  a.read_ahead = call.stream && !ctx.count_tokens && (!last || call.timed());
  a.upstream = client_.exchange(provider.url());
  return Prepared::kReady;
}

std::unique_ptr<Gateway::Attempt> Gateway::next_attempt(Call& call, Error& error) {
  while (call.next < call.attempts) {
    if (call.deadline_ms > 0 && Clock::now() - call.started >= std::chrono::milliseconds(call.deadline_ms)) {
      error = call.deadline_error();
      return nullptr;
    }
    auto a = std::make_unique<Attempt>(call.next++);
    switch (prepare(call, *a, error)) {
      case Prepared::kReady: return a;
      case Prepared::kSkipped: continue;
      case Prepared::kFailed: return nullptr;
    }
  }
  return nullptr;
}

http::Task<void> Gateway::reach_first_token(Call& call, Attempt& a) {
  const providers::Provider& provider = *a.target.provider;
  a.started = Clock::now();
  auto sent = co_await a.upstream->send(
      {"POST", a.path, std::span(a.headers.data(), a.header_count), std::span<const std::string_view>(a.parts)});
  if (!sent) {
    // Slow, not broken (the plan cancelled it), or the client left: the circuit is not told.
    if (a.outcome == Attempt::Outcome::kCancelled) co_return;
    a.error = sent.error();
    a.error_class = error_code_name(a.error.code);
    a.outcome = Attempt::Outcome::kFailed;
    if (breakers_ != nullptr && !call.req.client_gone()) breakers_->record(provider.name(), a.target.model_id, false);
    co_return;
  }
  const int status = a.status = a.upstream->status();
  if (breakers_ != nullptr && status != 429) {  // 429: the provider is up; Retry-After rules
    breakers_->record(provider.name(), a.target.model_id, !fails_over(status));
  }
  if (fails_over(status)) {  // the plan may move on; the response stays unread meanwhile
    if (status == 429) {
      if (const int s = retry_after_seconds(a.upstream->header("retry-after")); s > 0) cool_down(a.target.model_id, s);
    }
    a.outcome = Attempt::Outcome::kFailed;
    co_return;
  }
  const bool streaming = call.stream && status == 200 && a.upstream->header("content-type").starts_with("text/event-stream");
  if (streaming && a.read_ahead) {
    auto read = co_await read_to_first_token(*a.upstream, provider.protocol());
    if (!read) {
      a.error = read.error();
      a.error_class = a.error.code == ErrorCode::kUpstreamError ? "malformed_stream" : error_code_name(a.error.code);
      if (a.outcome != Attempt::Outcome::kCancelled && !call.req.client_gone() && breakers_ != nullptr) {
        breakers_->record(provider.name(), a.target.model_id, false);
      }
      if (a.outcome != Attempt::Outcome::kCancelled) a.outcome = Attempt::Outcome::kFailed;
      co_return;
    }
    a.ttft = Clock::now() - a.started;
    a.first_token = std::move(*read);
  } else if (!streaming) {  // a whole answer (or an error) is read before anything is relayed
    auto read = co_await a.upstream->read_body();
    if (!read) {
      a.error = read.error();
      a.error_class = error_code_name(a.error.code);
      if (a.outcome != Attempt::Outcome::kCancelled) a.outcome = Attempt::Outcome::kFailed;
      co_return;
    }
    // One scan checks the answer is JSON and finds its usage, for the relay.
    static constexpr std::array<std::string_view, 1> kUsage{"usage"};
    std::array<json::Field, 1> u;
    const bool well_formed = status != 200 || json::scan_object(*read, kUsage, u);
    if (well_formed && u[0].kind == json::Kind::kObject) {
      a.usage_offset = u[0].offset_in(*read);
      a.usage_size = u[0].raw.size();
    }
    if (!well_formed) {
      a.error = Error{ErrorCode::kUpstreamError, "the provider's answer is not valid JSON", {}, 502};
      a.error_class = "malformed_answer";
      if (breakers_ != nullptr) breakers_->record(provider.name(), a.target.model_id, false);
      a.outcome = Attempt::Outcome::kFailed;
      co_return;
    }
    a.whole = std::move(*read);
  }
  if (a.outcome != Attempt::Outcome::kCancelled) a.outcome = Attempt::Outcome::kAnswered;
}

Result<std::unique_ptr<Gateway::Attempt>> Gateway::final_failure(Call& call, std::unique_ptr<Attempt> a) {
  if (a->error_class.empty()) {  // an error status: the provider's own answer goes to the client
    a->outcome = Attempt::Outcome::kAnswered;
    return a;
  }
  Error e = std::move(a->error);
  e.message = fmt::format("provider '{}' failed: {}", a->target.provider->name(), e.message);
  if (!call.chain.empty()) e.message += fmt::format("; attempts: {}", call.chain);
  return tl::unexpected(std::move(e));
}

http::Task<Result<std::unique_ptr<Gateway::Attempt>>> Gateway::run_plan(Call& call) {
  if (call.timed()) {
    auto r = co_await run_timed_plan(call);
    co_return r;
  }
  Error error;
  for (;;) {
    std::unique_ptr<Attempt> a = next_attempt(call, error);
    if (!a) co_return tl::unexpected(std::move(error));
    if (a->estimate) co_return a;
    call.req.on_disconnect(a->upstream.get());
    co_await reach_first_token(call, *a);
    call.req.on_disconnect(nullptr);
    if (a->outcome == Attempt::Outcome::kAnswered) co_return a;
    if (call.req.client_gone()) co_return tl::unexpected(Error{ErrorCode::kUpstreamError, "the client left", {}, 0});
    if (call.last(a->index)) co_return final_failure(call, std::move(a));
    call.record(*a, a->error_class);
  }
}

// Attempts run as coroutines of their own; this one waits for the first of: an attempt's end,
// the newest attempt's TTFT limit, the deadline. It returns only when none is still running.
http::Task<Result<std::unique_ptr<Gateway::Attempt>>> Gateway::run_timed_plan(Call& call) {
  const auto executor = co_await boost::asio::this_coro::executor;
  boost::asio::steady_timer wake(executor);
  std::vector<std::unique_ptr<Attempt>> owned;
  std::vector<Attempt*> running;
  std::deque<Attempt*> ended;
  CancelAll cancel_all(running);
  call.req.on_disconnect(&cancel_all);
  auto launch = [&](std::unique_ptr<Attempt> a) {
    Attempt* p = owned.emplace_back(std::move(a)).get();
    running.push_back(p);
    boost::asio::co_spawn(executor, reach_first_token(call, *p), [&, p](std::exception_ptr e) {
      if (e) {
        p->outcome = Attempt::Outcome::kFailed;
        p->error = Error{ErrorCode::kInternal, "the attempt failed unexpectedly", {}, 0};
        p->error_class = "internal";
      }
      running.erase(std::find(running.begin(), running.end(), p));
      ended.push_back(p);
      wake.cancel();
    });
  };
  auto cancel = [&](Attempt& a, std::string_view why) {
    a.outcome = Attempt::Outcome::kCancelled;
    call.record(a, why);
    a.upstream->cancel();
  };

  Error error;
  Attempt* winner = nullptr;
  Attempt* last_failed = nullptr;
  bool deadline_passed = false;
  if (auto a = next_attempt(call, error)) {
    if (a->estimate) {
      call.req.on_disconnect(nullptr);
      co_return a;
    }
    launch(std::move(a));
  }
  while (!running.empty() || !ended.empty()) {
    while (!ended.empty() && winner == nullptr) {
      Attempt* a = ended.front();
      ended.pop_front();
      if (a->outcome == Attempt::Outcome::kAnswered) {
        winner = a;
      } else if (a->outcome == Attempt::Outcome::kFailed) {
        last_failed = a;
        if (!call.last(a->index) || !running.empty()) {
          call.record(*a, a->error_class);
        }
      }
    }
    if (winner != nullptr || call.req.client_gone()) break;
    if (running.empty()) {  // every attempt so far failed: the next one
      if (last_failed != nullptr && call.last(last_failed->index)) break;
      auto a = next_attempt(call, error);
      if (!a) break;
      launch(std::move(a));
      continue;
    }
    // Wait for an attempt to end, the newest one's first-token limit, or the deadline.
    Attempt& newest = *owned.back();
    auto wake_at = Clock::time_point::max();
    const bool ttft_watch = call.stream && call.ttft_ms > 0 && !newest.ttft_passed && !call.last(newest.index) &&
                            newest.outcome == Attempt::Outcome::kRunning;
    if (ttft_watch) wake_at = newest.started + std::chrono::milliseconds(call.ttft_ms);
    if (call.deadline_ms > 0) wake_at = std::min(wake_at, call.started + std::chrono::milliseconds(call.deadline_ms));
    wake.expires_at(wake_at);
    boost::system::error_code ec;
    co_await wake.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (!ended.empty()) continue;
    const auto now = Clock::now();
    if (call.deadline_ms > 0 && now >= call.started + std::chrono::milliseconds(call.deadline_ms)) {
      deadline_passed = true;
      for (Attempt* a : running) cancel(*a, "deadline");
      break;
    }
    if (ttft_watch && now >= wake_at) {
      newest.ttft_passed = true;
      auto a = next_attempt(call, error);
      if (!a) continue;  // nothing left to try: the slow attempt keeps its chance
      if (!call.hedge) cancel(newest, "ttft_timeout");
      launch(std::move(a));
    }
  }
  // The losers (hedges that were slower, attempts past the deadline) are cancelled, and waited
  // for: they point into this frame.
  for (Attempt* a : running) {
    if (a->outcome == Attempt::Outcome::kRunning) cancel(*a, winner != nullptr ? "hedge_lost" : "client_gone");
  }
  while (!running.empty()) {
    wake.expires_at(Clock::time_point::max());
    boost::system::error_code ec;
    co_await wake.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  call.req.on_disconnect(nullptr);
  if (winner != nullptr) {
    for (auto& a : owned) {
      if (a.get() == winner) co_return std::move(a);
    }
  }
  if (deadline_passed) co_return tl::unexpected(call.deadline_error());
  if (call.req.client_gone()) co_return tl::unexpected(Error{ErrorCode::kUpstreamError, "the client left", {}, 0});
  if (last_failed != nullptr && (call.last(last_failed->index) || call.next >= call.attempts)) {
    for (auto& a : owned) {
      if (a.get() == last_failed) co_return final_failure(call, std::move(a));
    }
  }
  co_return tl::unexpected(std::move(error));
}

bool Gateway::cooling_down(std::string_view model) {
  const auto it = cooldown_.find(model);
  if (it == cooldown_.end()) return false;
  if (Clock::now() < it->second) return true;
  cooldown_.erase(it);
  return false;
}

void Gateway::cool_down(std::string_view model, int seconds) {
  const auto until = Clock::now() + std::chrono::seconds(seconds);
  if (auto it = cooldown_.find(model); it != cooldown_.end()) {
    it->second = until;
  } else {
    cooldown_.emplace(std::string(model), until);
  }
}

http::Task<Result<std::string>> Gateway::read_to_first_token(http::Exchange& upstream, std::string_view protocol) {
  // OpenAI's and Anthropic's events are told apart as they are (cheap); Gemini's are decoded.
  const bool raw = protocol == "openai" || protocol == "anthropic";
  const StreamMeter meter(protocol == "openai");
  auto decoder = raw ? nullptr : translate::make_stream_decoder(protocol);
  http::SseParser parser;
  std::vector<translate::StreamEvent> events;
  std::string read;
  bool found = false;
  Result<bool> decoded = true;
  while (!found) {
    auto piece = co_await upstream.read_some();
    if (!piece) co_return tl::unexpected(piece.error());
    if (piece->empty()) {
      co_return tl::unexpected(
          Error{ErrorCode::kUpstreamUnreachable, "the provider ended the stream before its first token", {}, 0});
    }
    read.append(*piece);
    auto fed = parser.feed(*piece, [&](const http::SseEvent& ev) {
      if (found || !decoded) return;
      if (raw) {
        if (!looks_like_json(ev.data)) {
          decoded = tl::unexpected(Error::invalid("an event whose data is not JSON"));
          return;
        }
        found = meter.carries_token(ev) || meter.ends_or_fails(ev);
        return;
      }
      events.clear();
      decoded = decoder->decode(ev.event, ev.data, events);
      for (const auto& e : events) {
        found |= carries_token(e) || e.type == translate::StreamEvent::Type::kFinish ||
                 e.type == translate::StreamEvent::Type::kError;
      }
    });
    if (!fed || !decoded) {
      Error e = !fed ? fed.error() : decoded.error();
      e.code = ErrorCode::kUpstreamError;
      e.message = fmt::format("the provider's stream is malformed: {}", e.message);
      co_return tl::unexpected(std::move(e));
    }
  }
  co_return read;
}

}  // namespace sy::gateway
