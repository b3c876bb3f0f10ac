#pragma once
// The per-worker request executor: resolve the model, send upstream, relay the answer.
//
//   Gateway gw(source, client_options);                     // one per worker thread
//   auto r = co_await gw.chat_completions(req, res, dialect, ctx);
//   if (!r && !res.started()) render(r.error());            // errors before the first byte
//
// Same-dialect requests are never re-serialized: the `model` value is spliced by byte range
// and the rest of the body goes upstream untouched, in one gather write.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/json_scan.h"
#include "core/result.h"
#include "gateway/circuit.h"
#include "gateway/dialect.h"
#include "gateway/snapshot.h"
#include "routing/router_set.h"
#include "http/client.h"
#include "http/message.h"
#include "telemetry/record.h"
#include "translate/canonical.h"

namespace sy::speech {
class Engines;
}

namespace sy::gateway {

// What the api layer knows about a request, and what the gateway learns while serving it.
struct RequestContext {
  std::string_view request_id;
  int64_t arrived_ms = 0;  // unix ms, the one request_id carries
  std::string model;      // the model that served (or was asked for), for x-switchyard-model
  std::string provider;
  int upstream_status = 0;
  // Set when the model named a router. The decision points into the request's snapshot;
  // its reason() is written only when someone reads it (x-switchyard-explain, the log).
  std::optional<routing::Decision> decision;
  // POST /v1/messages/count_tokens: the same resolution, then the provider's count (Anthropic)
  // or an estimate (other protocols, which have no such endpoint).
  bool count_tokens = false;
  // The answer is being spoken (the request's `audio`): the relay writes into a SpokenResponse.
  bool speaking = false;
  // The request log's record, filled as the request runs (routing, attempts, usage, TTFT);
  // null when nothing is logged. `started`: when the request arrived.
  telemetry::RequestRecord* record = nullptr;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

class Gateway {
 public:
  // `breakers` (shared by the workers, may be null) skip open circuits in attempt plans.
  Gateway(const SnapshotSource& source, http::ClientOptions options, CircuitBreakers* breakers = nullptr);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // POST /v1/chat/completions in the OpenAI dialect. Writes the response itself; returns an
  // error only when nothing has been written yet (the caller renders it).
  http::Task<Result<bool>> chat_completions(http::Request& req, http::Response& res,
                                            const ClientDialect& dialect, RequestContext& ctx);
  // POST /v1/audio/speech (speak.cc): OpenAI's protocol, spoken by the configured engines.
  // Writes the response itself; an error when nothing was written (the caller renders it).
  http::Task<Result<bool>> speak(http::Request& req, http::Response& res, RequestContext& ctx);
  // The speech engines of `audio` requests and POST /v1/audio/speech (may be null: none).
  void set_speech(std::shared_ptr<const speech::Engines> engines) { speech_ = std::move(engines); }
  const speech::Engines* speech() const { return speech_.get(); }
  const Snapshot& snapshot() { return *snapshots_.get(); }
  http::Client& client() { return client_; }

 // A request's attempt plan as it runs, one model of it, a stream's progress (internal: attempt.h).
  struct Call;
  struct Attempt;
  struct StreamProgress;

 private:
  // A chat completion whose answer is also spoken (`audio`, spoken.cc): checks the request's
  // audio settings, then runs chat_completions into a SpokenResponse.
  http::Task<Result<bool>> chat_with_speech(http::Request& req, http::Response& res, const ClientDialect& dialect,
                                            RequestContext& ctx, std::string audio_json, bool stream);

  // A stream whose provider speaks the client's protocol, relayed event by event (`resume`: a
  // break may be continued by the plan's next models, resumeStreams).
  http::Task<Result<bool>> relay_stream(Call& call, Attempt& a, http::Response& res,
                                        std::span<const http::Header> headers, bool resume);

  // Cross-protocol requests (translated.cc): the body in the provider's dialect, and the answer
  // back in the client's.
  // `continue_from` (resumeStreams): the escaped text a broken stream already sent, for the
  // model to continue.
  Result<std::string> translate_request(std::string_view body, const ClientDialect& dialect, const Target& target,
                                        bool auto_cache, translate::ChatRequest& out,
                                        std::string_view continue_from = {});
  // The answer (whole or streamed) of a translated attempt, in the client's dialect.
  http::Task<Result<bool>> relay_translated(Call& call, Attempt& a, http::Response& res,
                                            std::span<http::Header> headers, size_t n, bool resume);
  // A stream that broke after reaching the client, continued by the plan's next models: each
  // gets the request and the text so far, and its continuation goes into the same stream.
  // Without a continuation, the stream ends with `broke` as its error event.
  http::Task<Result<bool>> resume_stream(Call& call, http::Response& res, StreamProgress& progress, Error broke);

  // The next piece of a relayed stream: `read_before` (once), then the provider's; "" at the
  // stream's end. nullopt when the relay must stop: the client left, or the stream broke off
  // (its error event is written and the stream ended — or, with `broke`, the error is set and
  // nothing written, for the caller to resume).
  http::Task<std::optional<std::string_view>> next_piece(Call& call, http::Response& res, http::Exchange& upstream,
                                                         std::string_view& read_before, Error* broke = nullptr);

  // The plan (attempts.cc).
  enum class Prepared { kReady, kSkipped, kFailed };
  // Resolves the plan's next model and prepares its request (sets `error` when kFailed).
  Prepared prepare(Call& call, Attempt& a, Error& error);
  // The next attempt of the plan that is ready to send, or null (with `error`) when none is.
  std::unique_ptr<Attempt> next_attempt(Call& call, Error& error);
  // Sends an attempt and reads its answer up to the point where it can go to the client.
  http::Task<void> reach_first_token(Call& call, Attempt& a);
  // Runs the plan: the attempt whose answer goes to the client, or the error that ends it.
  http::Task<Result<std::unique_ptr<Attempt>>> run_plan(Call& call);
  http::Task<Result<std::unique_ptr<Attempt>>> run_timed_plan(Call& call);
  // The plan's end when every attempt failed: the last one's error response, or its error.
  Result<std::unique_ptr<Attempt>> final_failure(Call& call, std::unique_ptr<Attempt> a);
  // Reads a stream up to its first token (text, reasoning or a tool call; or its end), and
  // returns the bytes read, for the relay to send first. An error when the stream broke, was
  // malformed or ended before a token.
  http::Task<Result<std::string>> read_to_first_token(http::Exchange& upstream, std::string_view protocol);

  // A model whose provider answered 429 with Retry-After is skipped in plans until then (per
  // worker: nothing on the request path is shared).
  bool cooling_down(std::string_view model);
  void cool_down(std::string_view model, int seconds);

  // Attempts of a plan when the router sets no maxAttempts (or there is no router).
  static constexpr size_t kMaxAttempts = 5;

  SnapshotCache snapshots_;
  CircuitBreakers* breakers_;
  std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> cooldown_;
  http::Client client_;
  std::shared_ptr<const speech::Engines> speech_;
  std::vector<json::Member> members_;  // the body's top-level members, per request before it suspends
};

}  // namespace sy::gateway
