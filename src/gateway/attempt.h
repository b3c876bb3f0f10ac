#pragma once
// A request's attempt plan as it runs (internal to the gateway). Each model of the plan is an
// Attempt: resolved and its body prepared (prepare), then sent until its answer is in hand — a
// stream's first token, a whole answer, or a failure (reach_first_token). run_plan runs the
// attempts one after another, or, when a time to first token or a deadline is set, under a
// timer: a slow attempt is cancelled (or, with hedging, kept while the next one starts, and the
// first to produce a token wins).

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/container/small_vector.hpp>

#include "core/json_scan.h"
#include "gateway/body_edit.h"
#include "gateway/cost.h"
#include "gateway/gateway.h"
#include "telemetry/record.h"

namespace sy::gateway {

// The top-level fields of a chat request the gateway reads, in either dialect.
inline constexpr std::array<std::string_view, 15> kChatKeys{
    "model", "stream", "messages", "metadata", "user", "temperature", "max_tokens", "max_completion_tokens",
    "provider", "system", "tools", "models", "stream_options", "audio", "modalities"};
enum ChatField { kModel, kStream, kMessages, kMetadata, kUser, kTemperature, kMaxTokens, kMaxCompletionTokens, kProvider,
                 kSystem, kTools, kModels, kStreamOptions, kAudio, kModalities };
using ChatFields = std::array<json::Field, kChatKeys.size()>;

using Clock = std::chrono::steady_clock;

inline Usage usage_of(const translate::Usage& u) {
  return {.input = u.input, .output = u.output, .cache_read = u.cache_read, .cache_write = u.cache_write};
}

// A header value on one line: control characters (newlines in a multi-line condition) become spaces.
std::string header_safe(std::string_view s);

// What every attempt of one request shares.
struct Gateway::Call {
  http::Request& req;
  const ClientDialect& dialect;
  RequestContext& ctx;
  const Snapshot& snap;
  std::string_view body;
  const ChatFields& fields;
  BodyEdits& edits;
  bool stream = false;
  bool rewritten = false;      // a translation must read the edited body, not the client's
  bool cache_marked = false;   // autoCache breakpoints are in `edits`
  std::span<const std::string_view> plan;
  size_t attempts = 0;         // of the plan, at most
  int64_t deadline_ms = 0;
  int64_t ttft_ms = 0;
  bool hedge = false;
  bool resume_streams = false;
  size_t next = 0;             // the plan's next model to try
  Clock::time_point started = Clock::now();
  std::string chain;  // x-switchyard-attempts
  bool strip_usage = false;  // the stream's usage chunk was asked for by us, not the client
  bool keep_response = false;  // the request log keeps the response (logBodies)

  bool last(size_t index) const { return index + 1 >= attempts; }
  bool timed() const { return deadline_ms > 0 || (stream && ttft_ms > 0); }
  // An attempt that ended: into the request log's chain (ctx.record) and the header's
  // ("<model>;status=<s>[;error=<class>];start=<ms>;ms=<ms>[;ttft=<ms>]", which lists the
  // served attempt only when others came before it).
  void record(const Attempt& a, std::string_view error, bool served = false);
  // A model skipped or not resolved, without a request.
  void record_skipped(std::string_view model, std::string_view provider, std::string_view error,
                      Clock::time_point at);
  // What the served attempt (or a continuation) used: tokens and cost, into the request log.
  // Returns the cost (0 for a model without prices).
  double used(const Attempt& a, const Usage& usage, int64_t reasoning = 0);
  double used(const Attempt& a, const translate::Usage& usage) { return used(a, usage_of(usage), usage.reasoning); }
  // The event that ends a stream that failed after it began, in the client's dialect; the
  // request log records `error_class` ("stream_broke", "stream_malformed", "stream_incomplete").
  std::string stream_error(const Error& e, std::string_view error_class);
  // The first token reached the client (its TTFT, into the request log).
  void first_token();
  // Bytes of a streamed response sent to the client, kept by the request log (logBodies; at
  // most kMaxLoggedBody).
  void sent(std::string_view bytes);
  static constexpr size_t kMaxLoggedBody = 1 << 20;
  Error deadline_error() const;

 private:
  void chain_entry(std::string_view model, int status, std::string_view error, Clock::time_point attempt_start,
                   std::optional<Clock::duration> ttft);
};

struct Gateway::Attempt {
  enum class Outcome {
    kRunning,
    kAnswered,  // a response to relay: a stream up to its first token, a whole answer, a final error
    kFailed,    // a failure the plan may move on from (`error`; `upstream` holds an error status)
    kCancelled  // by the plan: too slow to its first token, past the deadline, a hedge that lost
  };
  explicit Attempt(size_t i) : index(i) {}
  Attempt(const Attempt&) = delete;
  Attempt& operator=(const Attempt&) = delete;

  size_t index;
  std::string scratch_id;      // strings a wildcard provider's target points into
  std::string scratch_quoted;
  Target target;
  bool translating = false;    // the provider speaks another protocol than the client
  bool estimate = false;       // count_tokens answered with an estimate, nothing sent
  bool read_ahead = false;     // read a stream to its first token before the client sees it
  translate::ChatRequest canonical;
  std::string translated;
  boost::container::small_vector<std::string_view, 13> parts;  // the body as sent
  std::string upstream_model;  // unescaped, when the quoted name had escapes
  std::string path_storage;
  std::string_view path;
  std::string byok_value;
  std::array<http::Header, 6> headers{};
  size_t header_count = 0;
  std::unique_ptr<http::Exchange> upstream;

  Clock::time_point started;
  int status = 0;              // of the answer's head, once it came
  Outcome outcome = Outcome::kRunning;
  Error error;                 // what failed, when kFailed without a response to relay
  std::string_view error_class;
  bool ttft_passed = false;    // its TTFT limit passed (and, hedged, it kept running)
  std::optional<Clock::duration> ttft;  // when its first token came (streams read ahead)
  std::string first_token;     // a stream's bytes up to its first token, relayed first
  std::optional<std::string> whole;  // a whole answer, read
  size_t usage_offset = 0;     // its `usage` object, when it has one (usage_size > 0)
  size_t usage_size = 0;
};

// What a client has been sent of a stream, in canonical events: enough to continue it from
// another model (resumeStreams).
struct Gateway::StreamProgress {
  std::string id;          // the stream's id (escaped contents)
  std::string text;        // the answer's text so far (escaped contents)
  int next_index = 0;      // the index the next block would have
  int open_text = -1;      // the text block still open, or -1
  bool resumable = true;   // only text so far: no tool call, no reasoning
  bool finished = false;   // the answer's end was sent

  void see(const translate::StreamEvent& e);
  // Whether a break now can be continued elsewhere.
  bool can_resume() const { return resumable && !finished && !text.empty(); }
};

}  // namespace sy::gateway
