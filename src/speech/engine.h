#pragma once
// TtsEngine: one text-to-speech engine (the embedded espeak-ng, or a remote provider's API),
// speaking on a worker's io_context.
//
//   struct Collect : speech::PcmSink { void audio(std::span<const int16_t> pcm) override { ... } };
//   Collect sink;
//   Result<void> r = co_await engine.speak({.text = "Hello there.", .voice = "alloy"}, client, sink);
//
// Every engine delivers the gateway's one PCM format: 24 kHz mono PCM16 (audio/pcm.h), piece
// by piece as it is synthesized or received, on the worker thread that called speak().
// Engines are immutable once built and shared by every worker (Engines is a shared snapshot):
// check_voice() and speak() are const and may run on several workers at once.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audio/espeak.h"
#include "core/result.h"
#include "http/task.h"

namespace sy::http {
class Client;
}

namespace sy::speech {

// Where an engine's audio goes, on the calling worker's thread.
class PcmSink {
 public:
  virtual ~PcmSink() = default;
  virtual void audio(std::span<const int16_t> pcm24k) = 0;
};

struct SpeakRequest {
  std::string_view text;   // plain UTF-8
  std::string_view voice;  // as the client named it; checked with voice() first
  std::string_view model;  // the engine's model to use; empty: the engine's configured one
  double speed = 1.0;      // 0.25 to 4
};

// What an engine is configured as (config: `tts.engines`).
struct EngineConfig {
  std::string name;      // how requests name it: audio.model, or the model of /v1/audio/speech
  std::string kind;      // "espeak" | "openai" | "elevenlabs"
  std::string base_url;  // remote kinds: "https://api.openai.com/v1", "https://api.elevenlabs.io"
  std::string api_key;
  std::string model;     // remote kinds: "gpt-4o-mini-tts", "eleven_flash_v2_5"
  // Client voice names → the engine's own (an espeak-ng voice, an OpenAI voice or custom
  // "voice_..." id, an ElevenLabs voice id). Names not listed are passed as they are when the
  // engine knows them (espeak's and OpenAI's built-in voices); ElevenLabs accepts only listed
  // names and the ids they map to.
  std::vector<std::pair<std::string, std::string>> voices;
  double usd_per_million_chars = 0;  // what synthesis costs at the provider's rates
  // A piece with no audio by then is cancelled and spoken by the next engine (a hung engine).
  int64_t first_audio_timeout_ms = 5000;
};

class TtsEngine {
 public:
  virtual ~TtsEngine() = default;
  virtual const EngineConfig& config() const = 0;
  std::string_view name() const { return config().name; }
  // The voice names this engine accepts. An unknown one: kInvalidRequest, param `param`, with a
  // message that lists the valid names ("voice 'bob' is not available in engine 'espeak'; use
  // one of: alloy, ash, ...").
  virtual Result<void> check_voice(std::string_view voice, std::string_view param) const = 0;
  // Speaks `request.text` into `sink` until done. An error before any audio reached the sink
  // may be retried on another engine; `Error::upstream_status` carries a remote engine's HTTP
  // status. Cancelled with the calling coroutine (asio cancellation, or its frame destroyed).
  // The request's views, `client` and `sink` must outlive the call.
  virtual http::Task<Result<void>> speak(SpeakRequest request, http::Client& client, PcmSink& sink) const = 0;
};

// The kinds an EngineConfig may name, in the order error messages list them.
inline constexpr std::string_view kEngineKinds[] = {"espeak", "openai", "elevenlabs"};

// The engines of a configuration, in order; the first is the default. An empty configuration
// gives the embedded espeak-ng engine alone (named "espeak"); a non-empty one gives exactly the
// engines it lists.
class Engines {
 public:
  // Errors (kInvalidRequest unless said): an engine without a name, a name used twice, an
  // unknown kind, a remote kind without base_url (or with one that does not parse), an
  // elevenlabs engine without voices; espeak-ng that cannot open its data (kUnavailable).
  // `espeak` is how the embedded engine is opened (its data path).
  static Result<std::shared_ptr<const Engines>> build(const std::vector<EngineConfig>& configs,
                                                      const audio::EspeakOptions& espeak = {});
  const TtsEngine* find(std::string_view name) const;
  // The engines to try for a request naming `model` (an engine's name, or the model an engine
  // is configured with; "" for the default): that engine, then the others in order. Unknown:
  // kInvalidRequest, param `param`, listing the engines. (speech.cc)
  Result<std::vector<const TtsEngine*>> plan(std::string_view model, std::string_view param) const;
  std::span<const std::unique_ptr<TtsEngine>> all() const { return engines_; }

 private:
  std::vector<std::unique_ptr<TtsEngine>> engines_;
};

}  // namespace sy::speech
