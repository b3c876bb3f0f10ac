#pragma once
// OpenAiEngine: OpenAI's text-to-speech (POST {base_url}/audio/speech, raw 24 kHz PCM16
// streamed back), or any server that speaks it.
//
//   auto engine = OpenAiEngine::make({.name = "openai", .kind = "openai", .base_url = "https://api.openai.com/v1",
//                                     .api_key = key, .model = "gpt-4o-mini-tts"});
//   Result<void> r = co_await (*engine)->speak({.text = "Hello.", .voice = "coral"}, client, sink);

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "http/client.h"
#include "speech/engine.h"

namespace sy::speech {

class OpenAiEngine final : public TtsEngine {
 public:
  // OpenAI's built-in voices, in the API reference's order.
  static constexpr std::array<std::string_view, 13> kVoices{"alloy", "ash",     "ballad", "coral", "echo",
                                                            "fable", "onyx",    "nova",   "sage",  "shimmer",
                                                            "verse", "marin",   "cedar"};
  static constexpr std::string_view kDefaultModel = "gpt-4o-mini-tts";

  // Errors: kInvalidRequest naming the engine when base_url is missing or does not parse.
  // An empty `model` becomes kDefaultModel.
  static Result<std::unique_ptr<OpenAiEngine>> make(EngineConfig config);

  const EngineConfig& config() const override { return config_; }
  // The built-in voices, the names of the config's `voices` and the voices those name (a custom
  // voice id "voice_..." is sent as {"id": ...}).
  Result<void> check_voice(std::string_view voice, std::string_view param) const override;
  // Speed is clamped to the API's 0.25–4. Errors as post_for_pcm (remote.h) describes.
  http::Task<Result<void>> speak(SpeakRequest request, http::Client& client, PcmSink& sink) const override;

  // The request body for `request` (voice as the client named it).
  std::string body(const SpeakRequest& request) const;

 private:
  OpenAiEngine(EngineConfig config, http::Url url);
  std::string_view upstream_voice(std::string_view voice) const;

  EngineConfig config_;
  http::Url url_;
  std::string target_;         // "{path}/audio/speech"
  std::string authorization_;  // "Bearer <key>", or "" without a key
};

}  // namespace sy::speech
