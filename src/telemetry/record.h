#pragma once
// What the gateway knows about one request once it is over, and the outcomes attached to
// requests or users later. Built once per request on the worker, copied into the telemetry
// queue, read by the log store, the metrics and the exporters off the request path.
//
//   RequestRecord& r = ...;                  // the worker's, reused request after request
//   r.id = "req_01H...";  r.time_ms = now_ms;  r.model = "openai/gpt-4o";  ...
//   pipeline.submit(r);                      // packed into the queue; never blocks (counted
//                                            // as dropped when full)
//   r.clear();                               // and filled again for the next request

#include <cstdint>
#include <string>
#include <vector>

namespace sy::telemetry {

// One attempt of the request's plan (x-switchyard-attempts, as fields).
struct AttemptRecord {
  std::string model;        // "anthropic/claude-sonnet-4-5"
  std::string provider;     // "anthropic"
  int status = 0;           // of the answer's head; 0 when none came
  std::string error_class;  // "" when it answered; "upstream_unreachable", "ttft_timeout", "hedge_lost", ...
  int64_t start_ms = 0;     // from the request's start
  int64_t duration_ms = 0;
  int64_t ttft_ms = -1;     // from the attempt's start; -1 when unknown (no token, not streamed)
  bool served = false;      // its answer went to the client (several with resumed streams)
  int64_t tokens_in = 0;    // what it used, when known (a served or resumed attempt)
  int64_t tokens_out = 0;
  double cost_usd = 0;
};

struct RequestRecord {
  std::string id;            // x-switchyard-request-id
  int64_t time_ms = 0;       // unix ms when the request arrived
  std::string key_id;        // the gateway key's id (a short hash, never the key), "" without keys
  std::string user;          // the stickiness key's value (user, metadata.user_id, ...), may be ""
  std::string endpoint;      // "chat.completions", "messages", "count_tokens", ...
  std::string dialect;       // "openai" | "anthropic"
  std::string router;        // "" when the request named a model
  int64_t router_version = 0;
  std::string route;
  std::string variant;
  std::string reason;        // the routing reason, written off the request path when possible
  std::string requested_model;  // as the client sent it: "switchyard/support", "gpt-4o"
  std::string model;         // the model that served (catalog id), "" when none did
  std::string provider;
  std::vector<AttemptRecord> attempts;
  bool stream = false;
  int status = 0;            // the status the client got (200 for a stream that began)
  std::string error_class;   // "" on success; the final error's class otherwise (a stream's
                             // mid-stream failure included: "stream_broke", "malformed_stream")
  int64_t ttft_ms = -1;      // first token at the client, from the request's start; -1: none
  int64_t latency_ms = 0;    // until the last byte went to the client
  int64_t tokens_in = 0;     // prompt tokens, cached included
  int64_t tokens_out = 0;    // completion tokens, reasoning included
  int64_t tokens_cached = 0;
  int64_t tokens_reasoning = 0;
  double cost_usd = 0;       // at provider rates, every attempt that used tokens included
  std::string metadata_json; // the allow-listed metadata, a JSON object ("{}" when none)
  // The answer's speech (the request's `audio`); all at their defaults when none was asked for.
  std::string tts_engine;         // the engine that spoke ("espeak", "openai-tts"), "" when none did
  int64_t tts_chars = 0;          // characters synthesized
  double audio_seconds = 0;       // of audio produced
  int64_t tts_first_audio_ms = -1;  // first audio byte to the client, from the request's start
  double tts_cost_usd = 0;        // at the engine's configured rate (not in cost_usd)
  std::string tts_error;          // the last engine failure ("openai-tts: ..."), "" when none
  bool spoken() const { return !tts_engine.empty() || !tts_error.empty() || tts_chars > 0; }

  // Back to a new record's values, keeping the strings' buffers for the next request (records
  // are reused: the request path allocates none once warm). Large bodies are let go.
  // A new member goes here and into the queue's packing (telemetry/pipeline.cc).
  void clear() {
    for (std::string* s : {&id, &key_id, &user, &endpoint, &dialect, &router, &route, &variant, &reason,
                           &requested_model, &model, &provider, &error_class, &metadata_json, &tts_engine,
                           &tts_error}) {
      s->clear();
    }
    for (std::string* s : {&request_body, &response_body}) {
      if (s->capacity() > kKeptBodyBytes) {
        std::string().swap(*s);
      } else {
        s->clear();
      }
    }
    attempts.clear();
    time_ms = router_version = 0;
    stream = false;
    status = 0;
    ttft_ms = -1;
    latency_ms = tokens_in = tokens_out = tokens_cached = tokens_reasoning = tts_chars = 0;
    tts_first_audio_ms = -1;
    cost_usd = audio_seconds = tts_cost_usd = 0;
  }
  static constexpr size_t kKeptBodyBytes = 64 * 1024;
  std::string request_body;  // only when a router or key opts in; else ""
  std::string response_body;
};

// An outcome attached to a request or a user: a rating, a conversion, any named number.
struct OutcomeEvent {
  std::string event_id;      // idempotency key: a second event with the same id is ignored
  int64_t time_ms = 0;
  std::string request_id;    // one of request_id or user is set
  std::string user;
  std::string router;        // with user: the router whose variant the user had ("" for all)
  std::string name;          // "csat", "conversion", "retained_d7", ...
  double value = 0;          // csat 1-5; conversion 1/0; any number
};

}  // namespace sy::telemetry
