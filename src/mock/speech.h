#pragma once
// Synthetic speech for the mock's text-to-speech protocols: a voiced, deterministic signal
// whose duration follows the text, rendered in 40 ms pieces so it can stream.
//
//   mock::SpeechSignal s("Hello there.", mock::speech_voice("alloy"), 24000);
//   std::string pcm;  for (int i = 0; i < s.pieces(); ++i) s.render_piece(i, pcm);
//   pcm.size() == 2 * s.samples();   s.samples() == 24000 * s.seconds()
//
// The duration is 65 ms per character (code point) at speed 1 — about 15 characters a second,
// a typical reading pace — divided by `speed`, and at least 200 ms. The signal is a harmonic
// tone (120–220 Hz by voice, with a slow intonation drift) shaped by a syllable-rate envelope:
// three characters per syllable, silent at whitespace and ASCII punctuation. The same text and
// voice give the same samples at any piece boundaries; voices differ in pitch. Empty text is
// 200 ms of silence. Output is signed 16-bit little-endian mono.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mock/behaviour.h"

namespace sy::mock {

struct SpeechVoice {
  double pitch_hz = 170;  // the fundamental, 120–220 Hz
  uint64_t seed = 0;      // phase of the intonation drift, and the mix of harmonics
};

// A voice for any name: `pitch_hz` when given, else one drawn from the name (120–220 Hz).
SpeechVoice speech_voice(std::string_view name, std::optional<double> pitch_hz = std::nullopt);

class SpeechSignal {
 public:
  static constexpr std::chrono::milliseconds kPerCharacter{65};
  static constexpr std::chrono::milliseconds kMinimum{200};
  static constexpr std::chrono::milliseconds kPiece{40};  // one write of a stream

  SpeechSignal(std::string_view text, SpeechVoice voice, int sample_rate, double speed = 1.0);

  int sample_rate() const { return sample_rate_; }
  size_t samples() const { return samples_; }
  double seconds() const { return static_cast<double>(samples_) / sample_rate_; }
  size_t piece_samples() const { return piece_samples_; }
  int pieces() const { return static_cast<int>((samples_ + piece_samples_ - 1) / piece_samples_); }

  // Appends samples [first, first + count) (clipped to the signal) as 16-bit LE.
  void render(size_t first, size_t count, std::string& out) const;
  // Appends the 40 ms piece `i` (the last one may be shorter).
  void render_piece(int i, std::string& out) const { render(static_cast<size_t>(i) * piece_samples_, piece_samples_, out); }

 private:
  // A run of samples: one syllable (voiced) or one pause.
  struct Segment {
    size_t begin = 0;
    size_t end = 0;
    bool voiced = false;
    uint64_t shape = 0;  // the syllable's harmonic mix, hashed from its characters and the voice
  };

  int sample_rate_;
  SpeechVoice voice_;
  size_t samples_ = 0;
  size_t piece_samples_ = 1;
  std::vector<Segment> segments_;
};

// Code points in UTF-8 `text` (bytes that do not continue a sequence).
size_t count_characters(std::string_view text);


// The behaviour `b` with `gap` set to the time between pieces at its pace (kPiece / pace), for
// write_deltas (mock/stream.h).
Behaviour paced(Behaviour b);

}  // namespace sy::mock
