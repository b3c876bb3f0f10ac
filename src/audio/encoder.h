#pragma once
// Audio encoders from the gateway's PCM (pcm.h: 24 kHz mono PCM16) to what clients ask for.
//
//   Result<Format> format = parse_format(request.audio_format);             // "mp3"
//   Result<std::unique_ptr<Encoder>> encoder = Encoder::make(*format, /*streaming=*/true);
//   (*encoder)->push(pcm, bytes); ... (*encoder)->finish(bytes);            // bytes grows

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sy::audio {

enum class Format { kPcm16, kWav, kMp3 };

// OpenAI's names: "pcm16" and "pcm" (both kPcm16), "wav", "mp3". Any other (OpenAI also has
// "opus", "flac", "aac") is a kInvalidRequest error, param "audio.format", listing ours.
Result<Format> parse_format(std::string_view name);
// "audio/pcm", "audio/wav", "audio/mpeg".
std::string_view content_type(Format format);
// "pcm16", "wav", "mp3".
std::string_view format_name(Format format);

// Turns a stream of 24 kHz mono PCM16 pieces into one file or stream of `format`, appending
// encoded bytes to the caller's buffer. After finish() the encoder starts a new stream on the
// next push(). Not thread-safe; one per stream; instances share no state.
//
//   kPcm16: the samples' bytes, as they come.
//   kWav streaming: a header with unknown sizes (wav.h) first, then the samples as they come.
//   kWav otherwise: nothing until finish(), then the header with exact sizes and the samples.
//   kMp3: MPEG-2 layer III, 24 kHz mono, 64 kbit/s CBR (192-byte frames of 24 ms). Streaming:
//         bare frames as soon as LAME lets them go (it holds back ~5 frames, ~120 ms, until
//         finish()). Otherwise: nothing until finish(), then the file with a LAME "Info" frame
//         first, so players know the exact duration and trim the encoder's delay.
class Encoder {
 public:
  virtual ~Encoder() = default;

  static Result<std::unique_ptr<Encoder>> make(Format format, bool streaming);

  virtual void push(std::span<const int16_t> pcm24k, std::string& out) = 0;
  virtual void finish(std::string& out) = 0;
};

}  // namespace sy::audio
