#pragma once
// WAV (RIFF/WAVE, integer PCM): the 44-byte header we write, and a reader for checking audio.
//
//   std::string file = wav_header(kSampleRate, 1, bytes.size()) + bytes;
//   Result<WavInfo> wav = read_wav(file);
//   if (wav) use(wav->samples, wav->seconds());

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace sy::audio {

// data_bytes for a stream whose length is not known when the header goes out. With it the
// RIFF size is 0xFFFFFFFF too, as OpenAI's streamed wav has; readers take it as "to the end".
inline constexpr uint32_t kWavUnknownSize = 0xFFFFFFFF;

// The canonical 44-byte header of 16-bit PCM: "RIFF", size, "WAVE", a 16-byte "fmt " chunk,
// "data", data_bytes. Samples follow, little-endian, channels interleaved.
std::string wav_header(int sample_rate, int channels, uint32_t data_bytes);

struct WavInfo {
  int sample_rate = 0;
  int channels = 0;
  int bits = 0;                  // always 16 today
  std::vector<int16_t> samples;  // channels interleaved

  double seconds() const {
    return channels > 0 && sample_rate > 0
               ? static_cast<double>(samples.size()) / channels / sample_rate
               : 0.0;
  }
};

// Parses a whole 16-bit PCM WAV file. Tolerates what streamed and real-world files carry:
// sizes of 0xFFFFFFFF (read to the end; a trailing partial frame is dropped), a RIFF size that
// disagrees with the file, and other chunks (LIST, fact, ...) before or after "data".
// Anything else (not RIFF/WAVE, no fmt or data chunk, compressed or non-16-bit samples, a
// chunk running past the end) is a kInvalidRequest error saying which.
Result<WavInfo> read_wav(std::string_view file);

}  // namespace sy::audio
