#pragma once
// ElevenLabsEngine: ElevenLabs' streaming text-to-speech
// (POST {base_url}/v1/text-to-speech/{voice_id}/stream?output_format=pcm_24000, xi-api-key).
//
//   auto engine = ElevenLabsEngine::make({.name = "eleven", .kind = "elevenlabs",
//       .base_url = "https://api.elevenlabs.io", .api_key = key, .voices = {{"rachel", "21m00Tcm4TlvDq8ikWAM"}}});
//   Result<void> r = co_await (*engine)->speak({.text = "Hello.", .voice = "rachel"}, client, sink);

#include <memory>
#include <string>
#include <string_view>

#include "http/client.h"
#include "speech/engine.h"

namespace sy::speech {

class ElevenLabsEngine final : public TtsEngine {
 public:
  static constexpr std::string_view kDefaultModel = "eleven_flash_v2_5";
  // voice_settings.speed's range in the API; other speeds are clamped to it.
  static constexpr double kMinSpeed = 0.7;
  static constexpr double kMaxSpeed = 1.2;

  // ElevenLabs addresses voices by id only, so `voices` (name → voice id) must list at least
  // one. A base_url ending in "/v1" is taken without it. Errors: kInvalidRequest naming the
  // engine (no base_url, one that does not parse, no voices). An empty `model` becomes
  // kDefaultModel.
  static Result<std::unique_ptr<ElevenLabsEngine>> make(EngineConfig config);

  const EngineConfig& config() const override { return config_; }
  // The names of the config's `voices`, and the voice ids they map to.
  Result<void> check_voice(std::string_view voice, std::string_view param) const override;
  // Sends voice_settings only for a speed other than 1 (so the voice's stored settings apply
  // otherwise). Errors as post_for_pcm (remote.h) describes.
  http::Task<Result<void>> speak(SpeakRequest request, http::Client& client, PcmSink& sink) const override;

  // The request target and body for `request` (voice as the client named it, already checked).
  std::string target(const SpeakRequest& request) const;
  std::string body(const SpeakRequest& request) const;

 private:
  ElevenLabsEngine(EngineConfig config, http::Url url);
  std::string_view voice_id(std::string_view voice) const;

  EngineConfig config_;
  http::Url url_;
};

}  // namespace sy::speech
