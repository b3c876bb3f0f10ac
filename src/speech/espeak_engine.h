#pragma once
// EspeakEngine: the embedded espeak-ng (audio/espeak.h) as a TtsEngine. Synthesis runs on
// espeak-ng's one thread; its audio is handed to the sink on the worker that called speak().
//
//   auto engine = EspeakEngine::open({.name = "espeak", .kind = "espeak"});  // kUnavailable without data
//   Result<void> r = co_await (*engine)->speak({.text = "Hello.", .voice = "alloy"}, client, sink);
//   // r: OK once the whole text was spoken; sink.audio() ran on this coroutine's thread

#include <memory>
#include <string_view>

#include "audio/espeak.h"
#include "speech/engine.h"

namespace sy::speech {

class EspeakEngine final : public TtsEngine {
 public:
  // Opens espeak-ng (shared by every EspeakEngine of the process) and checks that each of the
  // config's `voices` (client name → espeak-ng voice) resolves. Errors: kUnavailable when the
  // espeak-ng data is missing (the message names the path tried), kInvalidRequest for a voice
  // that does not resolve.
  static Result<std::unique_ptr<EspeakEngine>> open(EngineConfig config, const audio::EspeakOptions& options = {});
  EspeakEngine(EngineConfig config, std::shared_ptr<audio::Espeak> espeak);

  const EngineConfig& config() const override { return config_; }
  // OpenAI's voice names and espeak-ng's own ("en-us", "en-gb+m3"), and the config's names.
  Result<void> check_voice(std::string_view voice, std::string_view param) const override;
  // Queues the text on espeak-ng's thread and hands its audio to `sink` as it comes, on this
  // coroutine's executor, which must run on one thread at a time (a worker's io_context, or a
  // strand). `client` is not used. Cancelled (asio cancellation, or the frame destroyed): the
  // job stops at espeak-ng's next piece and nothing of this call is touched afterwards; an
  // asio cancellation returns kUnavailable.
  http::Task<Result<void>> speak(SpeakRequest request, http::Client& client, PcmSink& sink) const override;

 private:
  Result<audio::Voice> resolve(std::string_view voice, std::string_view param) const;

  EngineConfig config_;
  std::shared_ptr<audio::Espeak> espeak_;
};

// espeak-ng's words per minute for a voice of `voice_wpm` at `speed` (1: the voice's own
// rate), within the 80–450 espeak-ng accepts (so speeds beyond about 0.45–2.5 are clamped).
int espeak_rate(int voice_wpm, double speed);

}  // namespace sy::speech
