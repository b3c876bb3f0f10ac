#pragma once
// What the remote engines share: one POST whose answer is raw PCM16 at 24 kHz, handed to the
// sink in whole samples as it arrives, and the provider's error read from its body.
//
//   const PcmPost how{.engine = config().name, .read_error = read_openai_error};
//   Result<void> r = co_await post_for_pcm(client, url_, {"POST", target, headers, body}, sink, how);
//   // r.error().upstream_status == 429, message "engine 'openai' answered HTTP 429: Rate limit ..."

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "http/client.h"
#include "speech/engine.h"

namespace sy::speech {

// Cuts a byte stream into whole little-endian PCM16 samples, keeping an odd trailing byte for
// the next piece (a chunk boundary may fall inside a sample).
class PcmAssembler {
 public:
  // The whole samples `bytes` completes; valid until the next push().
  std::span<const int16_t> push(std::string_view bytes);
  // A byte is held: the stream so far ends inside a sample.
  bool mid_sample() const { return has_odd_; }

 private:
  std::vector<int16_t> samples_;
  char odd_ = 0;
  bool has_odd_ = false;
};

// The message in a provider's error body; "" when the body has none.
using ErrorReader = std::string (*)(std::string_view body);
// OpenAI's {"error":{"message":...}} (or {"error":"text"}).
std::string read_openai_error(std::string_view body);
// ElevenLabs' {"detail":{"status":...,"message":...}}, FastAPI's {"detail":[{"msg":...}]} and
// {"detail":"text"}.
std::string read_elevenlabs_error(std::string_view body);

// The Error of a non-2xx answer: the code of `status` (core/error.h code_for_status), the
// provider's message (or the start of the body), and `status` as upstream_status.
Error upstream_error(std::string_view engine, int status, std::string_view body, ErrorReader read_error);

struct PcmPost {
  std::string_view engine;  // the engine's name, for messages
  ErrorReader read_error = nullptr;
};

// Sends `request` to `url` and relays a 2xx answer's body to `sink`. Errors: the client's
// (connect, reset, timeout; the engine named in the message), upstream_error() for a non-2xx
// answer, kUpstreamError for JSON where audio was expected or a body that ends mid-sample.
http::Task<Result<void>> post_for_pcm(http::Client& client, http::Url url, http::OutRequest request, PcmSink& sink,
                                      PcmPost how);

// kInvalidRequest at `param`: "voice 'bob' is not available in engine 'openai'; use one of:
// alloy, ash, ...".
tl::unexpected<Error> unknown_voice(std::string_view engine, std::string_view voice, std::string_view param,
                                    std::span<const std::string_view> names);

}  // namespace sy::speech
