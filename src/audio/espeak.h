#pragma once
// Espeak: the embedded offline text-to-speech engine (espeak-ng), on one thread per process.
//
//   Result<std::shared_ptr<Espeak>> engine = Espeak::open();
//   Result<Voice> voice = (*engine)->voice("alloy");
//   (*engine)->synthesize("Hello.", *voice, on_audio, on_done);  // PCM at kSampleRate, then done

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace sy::audio {

// A voice the engine can speak with, resolved from what the client asked for.
struct Voice {
  std::string name;    // what the client said ("alloy", "en-gb+m3")
  std::string espeak;  // what espeak-ng is given: a voice file, optionally "+variant"
  int rate_wpm = 175;  // words per minute (espeak-ng accepts 80..450)
  int pitch = 50;      // 0..100; 50 is the voice's own pitch
};

struct EspeakOptions {
  // The directory holding espeak-ng-data (or that directory itself). Empty: $ESPEAK_DATA_PATH,
  // then espeak-ng's built-in location.
  std::string data_path;
  // Length of the pieces espeak-ng produces, in milliseconds of audio: smaller means earlier
  // first audio and more callbacks.
  int buffer_ms = 40;
};

class Espeak {
 public:
  using OnAudio = std::function<void(std::span<const int16_t> pcm24k)>;
  using OnDone = std::function<void(Result<void>)>;

  // Starts the synthesis thread, initialising espeak-ng on first use. espeak-ng is
  // process-global: while an engine is alive every open() returns that same engine, and
  // espeak-ng stays initialised once it has been (1.51 cannot be initialised twice), so only
  // the first successful open's `options` count. Errors: kUnavailable when the data is missing
  // or unreadable (the message names the path tried); a later open() may try again.
  // Note: espeak-ng sets the process's LC_CTYPE to C.UTF-8 when it initialises.
  static Result<std::shared_ptr<Espeak>> open(const EspeakOptions& options = {});

  // Stops the thread after cutting short the job in progress; it and the jobs still queued get
  // on_done with a kUnavailable error. Safe to run from a callback (the thread then finishes on
  // its own).
  ~Espeak();
  Espeak(const Espeak&) = delete;
  Espeak& operator=(const Espeak&) = delete;

  // Accepts OpenAI's voice names (alloy, ash, ballad, coral, echo, fable, onyx, nova, sage,
  // shimmer, verse), each a distinct English espeak-ng voice, and espeak-ng's own names: a
  // language or voice file ("en-us", "de") with an optional variant ("en-gb+m3", "en+f2").
  // Unknown: kInvalidRequest, param "audio.voice", listing the OpenAI names.
  Result<Voice> voice(std::string_view name) const;
  // OpenAI's names, in the order above.
  std::vector<std::string> voice_names() const;
  // The rate espeak-ng synthesises at (22050 Hz); audio is resampled to kSampleRate.
  int native_sample_rate() const;

  // Queues a job; jobs run one at a time in the order queued (from any thread).
  //
  // On the synthesis thread, `on_audio` receives the speech as 24 kHz mono PCM16, piece by piece
  // as espeak-ng produces it (about buffer_ms each), then `on_done` runs exactly once: OK, or an
  // error when synthesis failed, the job was cancelled (kUnavailable, "... cancelled") or the
  // engine shut down. Both callbacks block every other job while they run: they must be quick
  // (hand the audio to another thread) and thread-safe, and must not throw (a throw from
  // on_audio ends the job with kInternal).
  //
  // `text` is plain UTF-8: '<', '&' and "[[" are read as text, not SSML or phonemes. Text that
  // is empty or only whitespace gives no audio and OK. Length is not limited here (espeak-ng
  // works clause by clause); callers bound it.
  //
  // Setting `*cancelled` stops the job at espeak-ng's next piece (or before it starts).
  void synthesize(std::string text, Voice voice, OnAudio on_audio, OnDone on_done,
                  std::shared_ptr<std::atomic<bool>> cancelled = nullptr);

  struct Engine;  // the thread's state (espeak.cc)

 private:
  explicit Espeak(std::shared_ptr<Engine> engine) : engine_(std::move(engine)) {}
  std::shared_ptr<Engine> engine_;
};

}  // namespace sy::audio
