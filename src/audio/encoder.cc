#include "audio/encoder.h"

#include <cstdarg>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "audio/pcm.h"
#include "audio/wav.h"
#include "core/assert.h"

#include <lame/lame.h>

namespace sy::audio {
namespace {

// 64 rather than 48: a 48 kbit/s frame at 24 kHz (144 bytes) is too small for LAME's Info tag.
constexpr int kMp3KilobitsPerSecond = 64;
constexpr int kLameQuality = 5;           // 0 best .. 9 fastest; 5 is LAME's default trade-off
constexpr size_t kLameFlushBytes = 7200;  // lame.h: the flush buffer "should be at least 7200"

class PcmEncoder final : public Encoder {
 public:
  void push(std::span<const int16_t> pcm24k, std::string& out) override { out += as_bytes(pcm24k); }
  void finish(std::string& /*out*/) override {}
};

class StreamingWavEncoder final : public Encoder {
 public:
  void push(std::span<const int16_t> pcm24k, std::string& out) override {
    write_header_once(out);
    out += as_bytes(pcm24k);
  }
  void finish(std::string& out) override {
    write_header_once(out);
    header_written_ = false;
  }

 private:
  void write_header_once(std::string& out) {
    if (header_written_) {
      return;
    }
    out += wav_header(kSampleRate, 1, kWavUnknownSize);
    header_written_ = true;
  }
  bool header_written_ = false;
};

class BufferedWavEncoder final : public Encoder {
 public:
  void push(std::span<const int16_t> pcm24k, std::string& out) override {
    (void)out;
    data_ += as_bytes(pcm24k);
  }
  void finish(std::string& out) override {
    // A file past 4 GiB cannot say its size; it gets the streaming "unknown" size instead.
    uint32_t size =
        data_.size() >= kWavUnknownSize ? kWavUnknownSize : static_cast<uint32_t>(data_.size());
    out += wav_header(kSampleRate, 1, size);
    out += data_;
    data_.clear();
  }

 private:
  std::string data_;
};

// LAME fills global lookup tables the first time a context initialises; concurrent
// initialisation races on them, so contexts are made and freed one at a time.
std::mutex& lame_setup_mutex() {
  static std::mutex mutex;
  return mutex;
}

void quiet(const char* /*format*/, va_list /*args*/) {}

struct LameDeleter {
  void operator()(lame_global_flags* lame) const {
    std::lock_guard lock(lame_setup_mutex());
    lame_close(lame);
  }
};
using LamePtr = std::unique_ptr<lame_global_flags, LameDeleter>;

Result<LamePtr> open_lame(bool info_frame) {
  std::lock_guard lock(lame_setup_mutex());
  LamePtr lame(lame_init());
  if (!lame) {
    return fail(ErrorCode::kInternal, "mp3 encoder: lame_init failed (out of memory?)");
  }
  lame_global_flags* flags = lame.get();
  lame_set_errorf(flags, quiet);
  lame_set_debugf(flags, quiet);
  lame_set_msgf(flags, quiet);
  lame_set_in_samplerate(flags, kSampleRate);
  lame_set_out_samplerate(flags, kSampleRate);
  lame_set_num_channels(flags, 1);
  lame_set_mode(flags, MONO);
  lame_set_VBR(flags, vbr_off);
  lame_set_brate(flags, kMp3KilobitsPerSecond);
  lame_set_quality(flags, kLameQuality);
  lame_set_bWriteVbrTag(flags, info_frame ? 1 : 0);
  lame_set_write_id3tag_automatic(flags, 0);
  if (int status = lame_init_params(flags); status < 0) {
    return fail(ErrorCode::kInternal,
                fmt::format("mp3 encoder: lame_init_params failed ({})", status));
  }
  return lame;
}

class Mp3Encoder final : public Encoder {
 public:
  Mp3Encoder(LamePtr lame, bool streaming) : lame_(std::move(lame)), streaming_(streaming) {}

  void push(std::span<const int16_t> pcm24k, std::string& out) override {
    if (pcm24k.empty() || !reopen_if_finished()) {
      return;
    }
    // lame.h's worst case for one call: 1.25 × samples + 7200 bytes.
    encoded_.resize(pcm24k.size() * 5 / 4 + kLameFlushBytes);
    int bytes = lame_encode_buffer(lame_.get(), pcm24k.data(), pcm24k.data(),
                                   static_cast<int>(pcm24k.size()), encoded_.data(),
                                   static_cast<int>(encoded_.size()));
    append(bytes, out);
  }

  void finish(std::string& out) override {
    if (!reopen_if_finished()) {
      return;
    }
    encoded_.resize(kLameFlushBytes);
    append(lame_encode_flush(lame_.get(), encoded_.data(), static_cast<int>(encoded_.size())), out);
    if (!streaming_) {
      write_info_frame();
      out += buffered_;
      buffered_.clear();
    }
    lame_.reset();
  }

 private:
  // After finish() the next stream needs a fresh context: LAME cannot restart one.
  bool reopen_if_finished() {
    if (lame_) {
      return true;
    }
    auto lame = open_lame(!streaming_);
    if (!lame) {
      SY_BUG("mp3 encoder: reopening LAME failed");
      return false;
    }
    lame_ = std::move(*lame);
    return true;
  }

  void append(int bytes, std::string& out) {
    if (bytes < 0) {
      SY_BUG("mp3 encoder: LAME failed to encode");
      return;
    }
    std::string& target = streaming_ ? out : buffered_;
    target.append(reinterpret_cast<const char*>(encoded_.data()), static_cast<size_t>(bytes));
  }

  // LAME's first frame is a placeholder for the Info tag it can only write at the end.
  void write_info_frame() {
    unsigned char frame[2880];
    size_t size = lame_get_lametag_frame(lame_.get(), frame, sizeof frame);
    if (size == 0 || size > sizeof frame || size > buffered_.size()) {
      return;
    }
    buffered_.replace(0, size, reinterpret_cast<const char*>(frame), size);
  }

  LamePtr lame_;
  bool streaming_;
  std::vector<unsigned char> encoded_;
  std::string buffered_;  // the whole file, when not streaming
};

}  // namespace

Result<Format> parse_format(std::string_view name) {
  if (name == "pcm16" || name == "pcm") {
    return Format::kPcm16;
  }
  if (name == "wav") {
    return Format::kWav;
  }
  if (name == "mp3") {
    return Format::kMp3;
  }
  return fail(ErrorCode::kInvalidRequest,
              fmt::format("audio format '{}' is not supported; use one of: pcm16, wav, mp3", name),
              "audio.format");
}

std::string_view content_type(Format format) {
  switch (format) {
    case Format::kPcm16:
      return "audio/pcm";
    case Format::kWav:
      return "audio/wav";
    case Format::kMp3:
      return "audio/mpeg";
  }
  return "application/octet-stream";
}

std::string_view format_name(Format format) {
  switch (format) {
    case Format::kPcm16:
      return "pcm16";
    case Format::kWav:
      return "wav";
    case Format::kMp3:
      return "mp3";
  }
  return "unknown";
}

Result<std::unique_ptr<Encoder>> Encoder::make(Format format, bool streaming) {
  switch (format) {
    case Format::kPcm16:
      return std::make_unique<PcmEncoder>();
    case Format::kWav:
      if (streaming) {
        return std::make_unique<StreamingWavEncoder>();
      }
      return std::make_unique<BufferedWavEncoder>();
    case Format::kMp3: {
      auto lame = open_lame(!streaming);
      if (!lame) {
        return tl::unexpected(lame.error());
      }
      return std::make_unique<Mp3Encoder>(std::move(*lame), streaming);
    }
  }
  return fail(ErrorCode::kInternal, "unknown audio format");
}

}  // namespace sy::audio
