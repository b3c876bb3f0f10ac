#include "audio/wav.h"

#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "audio/pcm.h"

namespace sy::audio {
namespace {

constexpr size_t kChunkHeaderSize = 8;
constexpr uint16_t kFormatPcm = 1;
constexpr uint16_t kFormatExtensible = 0xFFFE;

void put_u32(std::string& out, uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) {
    out += static_cast<char>(value >> shift & 0xFF);
  }
}
void put_u16(std::string& out, uint16_t value) {
  out += static_cast<char>(value & 0xFF);
  out += static_cast<char>(value >> 8);
}

uint32_t get_u32(std::string_view bytes, size_t at) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) {
    value = value << 8 | static_cast<unsigned char>(bytes[at + static_cast<size_t>(i)]);
  }
  return value;
}
uint16_t get_u16(std::string_view bytes, size_t at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(bytes[at]) |
                               static_cast<unsigned char>(bytes[at + 1]) << 8);
}

// A chunk id as text for a message, with bytes that are not printable ASCII as '?'.
std::string printable(std::string_view id) {
  std::string out(id);
  for (char& c : out) {
    if (c < ' ' || c > '~') {
      c = '?';
    }
  }
  return out;
}

tl::unexpected<Error> wav_error(std::string message) {
  return fail(ErrorCode::kInvalidRequest, "wav: " + std::move(message));
}

struct Format {
  int channels = 0;
  int sample_rate = 0;
  int bits = 0;
  int block_align = 0;
};

Result<Format> parse_fmt(std::string_view body) {
  if (body.size() < 16) {
    return wav_error(fmt::format("fmt chunk has {} bytes, needs 16", body.size()));
  }
  uint16_t tag = get_u16(body, 0);
  Format format{get_u16(body, 2), static_cast<int>(get_u32(body, 4)), get_u16(body, 14),
                get_u16(body, 12)};
  if (tag == kFormatExtensible && body.size() >= 26) {  // the sub-format GUID
    tag = get_u16(body, 24);
  }
  if (tag != kFormatPcm) {
    return wav_error(fmt::format("format tag {} is not integer PCM (1)", tag));
  }
  if (format.bits != 16) {
    return wav_error(fmt::format("{}-bit samples; only 16-bit PCM is read", format.bits));
  }
  if (format.channels < 1) {
    return wav_error("fmt chunk says 0 channels");
  }
  if (format.sample_rate < 1) {
    return wav_error("fmt chunk says sample rate 0");
  }
  if (format.block_align != 2 * format.channels) {
    return wav_error(fmt::format("block align {} does not match {} 16-bit channels",
                                 format.block_align, format.channels));
  }
  return format;
}

}  // namespace

std::string wav_header(int sample_rate, int channels, uint32_t data_bytes) {
  constexpr uint32_t kHeaderAfterRiffSize = 36;
  std::string out;
  out.reserve(44);
  out += "RIFF";
  put_u32(out, data_bytes > kWavUnknownSize - kHeaderAfterRiffSize
                   ? kWavUnknownSize
                   : data_bytes + kHeaderAfterRiffSize);
  out += "WAVEfmt ";
  put_u32(out, 16);
  put_u16(out, kFormatPcm);
  put_u16(out, static_cast<uint16_t>(channels));
  put_u32(out, static_cast<uint32_t>(sample_rate));
  put_u32(out, static_cast<uint32_t>(sample_rate * channels * 2));  // byte rate
  put_u16(out, static_cast<uint16_t>(channels * 2));                // block align
  put_u16(out, 16);                                                 // bits per sample
  out += "data";
  put_u32(out, data_bytes);
  return out;
}

Result<WavInfo> read_wav(std::string_view file) {
  if (file.size() < 12 || file.substr(0, 4) != "RIFF" || file.substr(8, 4) != "WAVE") {
    return wav_error("not a RIFF/WAVE file (expected 'RIFF....WAVE' at the start)");
  }
  std::optional<Format> format;
  size_t at = 12;
  while (at + kChunkHeaderSize <= file.size()) {
    std::string_view id = file.substr(at, 4);
    uint32_t size = get_u32(file, at + 4);
    size_t body_at = at + kChunkHeaderSize;
    size_t remaining = file.size() - body_at;
    if (id == "data") {
      if (!format) {
        return wav_error("data chunk before the fmt chunk");
      }
      bool streamed = size == kWavUnknownSize;
      if (!streamed && size > remaining) {
        return wav_error(
            fmt::format("data chunk says {} bytes but the file has {} more", size, remaining));
      }
      size_t bytes = streamed ? remaining : size;
      if (!streamed && bytes % static_cast<size_t>(format->block_align) != 0) {
        return wav_error(fmt::format("data chunk of {} bytes is not whole {}-byte frames", bytes,
                                     format->block_align));
      }
      bytes -= bytes % static_cast<size_t>(format->block_align);
      WavInfo info{format->sample_rate, format->channels, format->bits,
                   std::vector<int16_t>(bytes / 2)};
      std::memcpy(info.samples.data(), file.data() + body_at, bytes);  // little-endian host (pcm.h)
      return info;
    }
    if (size > remaining) {
      return wav_error(fmt::format("'{}' chunk says {} bytes but the file has {} more",
                                   printable(id), size, remaining));
    }
    if (id == "fmt ") {
      auto parsed = parse_fmt(file.substr(body_at, size));
      if (!parsed) {
        return tl::unexpected(parsed.error());
      }
      format = *parsed;
    }
    at = body_at + size + (size & 1);  // chunks are padded to an even length
  }
  return wav_error(format ? "no data chunk" : "no fmt chunk");
}

}  // namespace sy::audio
