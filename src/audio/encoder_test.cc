#include "audio/encoder.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <sstream>

#include <gtest/gtest.h>

#include "audio/pcm.h"
#include "audio/wav.h"

#include <lame/lame.h>
#include <unistd.h>

namespace sy::audio {
namespace {

std::vector<int16_t> tone(double seconds, double frequency = 440) {
  std::vector<int16_t> out(static_cast<size_t>(kSampleRate * seconds));
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] =
        static_cast<int16_t>(8000 * std::sin(2 * std::numbers::pi * frequency * i / kSampleRate));
  }
  return out;
}

std::unique_ptr<Encoder> make(Format format, bool streaming) {
  auto encoder = Encoder::make(format, streaming);
  EXPECT_TRUE(encoder) << encoder.error().message;
  return std::move(*encoder);
}

// Pushes `pcm` in 20 ms pieces; returns the bytes out before finish() and in all.
std::pair<std::string, std::string> encode(Encoder& encoder, std::span<const int16_t> pcm) {
  std::string out;
  for (size_t at = 0; at < pcm.size(); at += 480) {
    encoder.push(pcm.subspan(at, std::min<size_t>(480, pcm.size() - at)), out);
  }
  std::string before_finish = out;
  encoder.finish(out);
  return {before_finish, out};
}

TEST(Format, ParsesOpenAiNames) {
  EXPECT_EQ(parse_format("pcm16"), Format::kPcm16);
  EXPECT_EQ(parse_format("pcm"), Format::kPcm16);
  EXPECT_EQ(parse_format("wav"), Format::kWav);
  EXPECT_EQ(parse_format("mp3"), Format::kMp3);
  for (std::string_view other : {"flac", "opus", "aac", "MP3", ""}) {
    Result<Format> format = parse_format(other);
    ASSERT_FALSE(format) << other;
    EXPECT_EQ(format.error().code, ErrorCode::kInvalidRequest);
    EXPECT_EQ(format.error().param, "audio.format");
  }
  EXPECT_EQ(parse_format("flac").error().message,
            "audio format 'flac' is not supported; use one of: pcm16, wav, mp3");
}

TEST(Format, NamesAndContentTypes) {
  EXPECT_EQ(content_type(Format::kPcm16), "audio/pcm");
  EXPECT_EQ(content_type(Format::kWav), "audio/wav");
  EXPECT_EQ(content_type(Format::kMp3), "audio/mpeg");
  for (Format format : {Format::kPcm16, Format::kWav, Format::kMp3}) {
    EXPECT_EQ(parse_format(format_name(format)), format);
  }
}

TEST(Encoder, Pcm16IsTheRawBytes) {
  std::vector<int16_t> pcm = tone(0.05);
  auto [before_finish, all] = encode(*make(Format::kPcm16, true), pcm);
  EXPECT_EQ(before_finish, as_bytes(pcm));
  EXPECT_EQ(all, as_bytes(pcm));
}

TEST(Encoder, StreamingWavSendsTheHeaderFirst) {
  auto encoder = make(Format::kWav, true);
  std::vector<int16_t> pcm = tone(0.05);
  for (int stream = 0; stream < 2; ++stream) {  // a second stream after finish() starts afresh
    auto [before_finish, all] = encode(*encoder, pcm);
    EXPECT_EQ(before_finish,
              wav_header(kSampleRate, 1, kWavUnknownSize) + std::string(as_bytes(pcm)));
    EXPECT_EQ(all, before_finish);
    Result<WavInfo> wav = read_wav(all);
    ASSERT_TRUE(wav) << wav.error().message;
    EXPECT_EQ(wav->samples, pcm);
  }
  std::string empty;
  encoder->finish(empty);  // a stream with no audio is still a valid file
  EXPECT_EQ(empty, wav_header(kSampleRate, 1, kWavUnknownSize));
}

TEST(Encoder, WholeWavHasExactSizes) {
  auto encoder = make(Format::kWav, false);
  std::vector<int16_t> pcm = tone(0.25);
  for (int stream = 0; stream < 2; ++stream) {
    auto [before_finish, all] = encode(*encoder, pcm);
    EXPECT_EQ(before_finish, "");
    EXPECT_EQ(all, wav_header(kSampleRate, 1, static_cast<uint32_t>(pcm.size() * 2)) +
                       std::string(as_bytes(pcm)));
    Result<WavInfo> wav = read_wav(all);
    ASSERT_TRUE(wav) << wav.error().message;
    EXPECT_DOUBLE_EQ(wav->seconds(), 0.25);
  }
}

struct Mp3Frame {
  size_t bytes;
  bool ok;
};

// Checks the MPEG audio frame header at `at`: MPEG-2 layer III, no CRC, 64 kbit/s, 24 kHz, mono.
Mp3Frame check_frame(std::string_view mp3, size_t at) {
  if (at + 4 > mp3.size()) {
    return {0, false};
  }
  auto byte = [&](size_t i) {
    return static_cast<unsigned char>(mp3[at + i]);
  };
  bool sync = byte(0) == 0xFF && (byte(1) & 0xE0) == 0xE0;
  bool mpeg2 = (byte(1) >> 3 & 3) == 2;
  bool layer3 = (byte(1) >> 1 & 3) == 1;
  bool bitrate_64k = (byte(2) >> 4) == 8;  // MPEG-2 layer III bitrate index 8
  bool rate_24k = (byte(2) >> 2 & 3) == 1;
  bool mono = (byte(3) >> 6) == 3;
  int padding = byte(2) >> 1 & 1;
  bool ok = sync && mpeg2 && layer3 && bitrate_64k && rate_24k && mono;
  return {static_cast<size_t>(72 * 64000 / 24000 + padding), ok};  // 192 bytes (+1 padding)
}

// Walks every frame; returns how many, or -1 at the first bad header.
int count_frames(std::string_view mp3) {
  int frames = 0;
  for (size_t at = 0; at < mp3.size(); ++frames) {
    Mp3Frame frame = check_frame(mp3, at);
    if (!frame.ok) {
      ADD_FAILURE() << "bad frame header at byte " << at << " of " << mp3.size();
      return -1;
    }
    at += frame.bytes;
  }
  return frames;
}

TEST(Encoder, StreamingMp3IsBareMpeg2Layer3Frames) {
  auto encoder = make(Format::kMp3, true);
  std::vector<int16_t> pcm = tone(1.0);
  auto [before_finish, all] = encode(*encoder, pcm);
  ASSERT_GE(all.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(all[0]), 0xFF);
  EXPECT_EQ(static_cast<unsigned char>(all[1]) & 0xE0, 0xE0);
  // Frames leave as the audio arrives: LAME holds back at most ~6 frames until finish().
  EXPECT_GE(before_finish.size() + 6 * 192, all.size());
  EXPECT_EQ(all.find("Info"), std::string::npos);
  EXPECT_EQ(all.find("Xing"), std::string::npos);
  EXPECT_EQ(all.find("ID3"), std::string::npos);
  int frames = count_frames(all);
  // 576 samples a frame: the second of audio plus LAME's delay and padding.
  EXPECT_GE(frames * 576, 24000);
  EXPECT_LE(frames * 576, 24000 + 3 * 576);
  EXPECT_EQ(all.size(), static_cast<size_t>(frames) * 192);  // CBR at 24 kHz never pads

  auto [again_before, again] = encode(*encoder, pcm);  // reusable, and deterministic
  EXPECT_EQ(again, all);
}

TEST(Encoder, WholeMp3StartsWithAnInfoFrame) {
  auto encoder = make(Format::kMp3, false);
  auto [before_finish, all] = encode(*encoder, tone(1.0));
  EXPECT_EQ(before_finish, "");
  ASSERT_GT(all.size(), 200u);
  // MPEG-2 mono side information is 9 bytes: the tag follows the 4-byte header.
  EXPECT_EQ(all.substr(4 + 9, 4), "Info");
  EXPECT_GT(count_frames(all), 40);
}

TEST(Encoder, EmptyStreams) {
  std::string pcm;
  make(Format::kPcm16, true)->finish(pcm);
  EXPECT_EQ(pcm, "");
  std::string mp3;
  make(Format::kMp3, true)->finish(mp3);
  EXPECT_GE(count_frames(mp3), 0);
}

// Decodes with LAME's own decoder (hip, from mpg123): what a player would hear.
std::vector<int16_t> decode_mp3(std::string mp3, mp3data_struct& header) {
  hip_t decoder = hip_decode_init();
  std::vector<int16_t> pcm;
  std::vector<int16_t> left(kSampleRate);
  std::vector<int16_t> right(left.size());
  header = {};
  // Fed as a network would deliver it; hip returns what it has decoded so far each time.
  for (size_t at = 0; at < mp3.size(); at += 100) {
    size_t size = std::min<size_t>(100, mp3.size() - at);
    int samples = hip_decode_headers(decoder, reinterpret_cast<unsigned char*>(mp3.data() + at),
                                     size, left.data(), right.data(), &header);
    EXPECT_GE(samples, 0);
    pcm.insert(pcm.end(), left.begin(), left.begin() + std::max(samples, 0));
  }
  hip_decode_exit(decoder);
  return pcm;
}

int zero_crossings(std::span<const int16_t> samples) {
  int count = 0;
  for (size_t i = 1; i < samples.size(); ++i) {
    count += (samples[i - 1] < 0) != (samples[i] < 0);
  }
  return count;
}

TEST(Encoder, LameDecodesOurMp3BackToTheTone) {
  for (bool streaming : {true, false}) {
    auto [before_finish, mp3] = encode(*make(Format::kMp3, streaming), tone(1.0));
    mp3data_struct header;
    std::vector<int16_t> pcm = decode_mp3(mp3, header);
    EXPECT_EQ(header.header_parsed, 1);
    EXPECT_EQ(header.samplerate, kSampleRate);
    EXPECT_EQ(header.stereo, 1);
    EXPECT_EQ(header.bitrate, 64);
    // A second of audio plus the encoder's delay and padding (the decoder does not trim them).
    EXPECT_GE(pcm.size(), 24000u) << "streaming " << streaming;
    EXPECT_LE(pcm.size(), 24000u + 4 * 576) << "streaming " << streaming;
    std::span<const int16_t> middle = std::span(pcm).subspan(2400, 19200);  // 0.8 s
    EXPECT_NEAR(zero_crossings(middle), 2 * 440 * 0.8, 4);
    EXPECT_NEAR(rms(middle), 8000 / std::sqrt(2.0), 300);
    if (!streaming) {
      EXPECT_GT(header.totalframes, 40) << "the Info frame gives the frame count";
    }
  }
}

}  // namespace
}  // namespace sy::audio
