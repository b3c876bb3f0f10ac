#pragma once
// The mock upstream: a model provider's wire protocol with injectable latency and faults.
//
//   mock::MockUpstream mock({.port = 0});
//   auto port = mock.start();                 // serves OpenAI chat completions on loopback
//   // POST {base_url}/chat/completions {"model":"ttft-300ms/tps-50/len-200", ...}
//   // POST {base_url}/messages: the Anthropic Messages protocol, same behaviours
//   // POST http://127.0.0.1:<port>/v1beta/models/len-20:generateContent: Google's Gemini API
//   // POST {base_url}/audio/speech {"model":"ttft-200ms/pace-10x","input":"Hi","voice":"alloy",
//   //      "response_format":"pcm"}: OpenAI's text-to-speech (synthetic 24 kHz speech)
//   // POST {base_url}/text-to-speech/21m00Tcm4TlvDq8ikWAM/stream?output_format=pcm_16000: ElevenLabs
//
// It is the upstream of every test and benchmark, and of the built-in `demo` provider, so the
// gateway's real code paths (sockets, pools, SSE relay) run without any network.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "http/server.h"

namespace sy::mock {

// Counters shared by the mock's workers, served at GET /mock/stats so tests can see what the
// upstream saw (for example that a cancelled request really ended).
struct MockStats {
  std::atomic<long> requests{0};  // completions and speech requests received (any protocol;
                                  // token counts excluded)
  std::atomic<long> active{0};    // completions and speech requests in progress
};

struct MockOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  int workers = 1;
  std::string api_key;  // when set, requests must carry "Authorization: Bearer <api_key>"
                        // (Anthropic's protocol: x-api-key: <api_key>, or the bearer form;
                        // Gemini's: x-goog-api-key: <api_key> or ?key=<api_key>;
                        // ElevenLabs': xi-api-key: <api_key> or the bearer form)
  std::shared_ptr<MockStats> stats = std::make_shared<MockStats>();
};

// The handler factory, to run the mock in any http::Server.
http::HandlerFactory openai_handler_factory(const MockOptions& options);

class MockUpstream {
 public:
  explicit MockUpstream(MockOptions options);
  ~MockUpstream();
  MockUpstream(const MockUpstream&) = delete;
  MockUpstream& operator=(const MockUpstream&) = delete;

  Result<uint16_t> start();
  void stop();
  // "http://127.0.0.1:<port>/v1", valid after start().
  std::string base_url() const;

 private:
  MockOptions options_;
  std::unique_ptr<http::Server> server_;
};

// The deterministic answer text for `seed`, as `tokens` tokens (each a word with its space).
std::string mock_token(uint64_t seed, int index);

// SplitMix64's output function: a well-mixed 64-bit value from any input (x, x + 1, ... give
// independent-looking values). The mock's one source of deterministic randomness.
uint64_t splitmix64(uint64_t x);

}  // namespace sy::mock
