#include "audio/wav.h"

#include <gtest/gtest.h>

#include "audio/pcm.h"

namespace sy::audio {
namespace {

using namespace std::string_literals;

std::string u32(uint32_t v) {
  return {static_cast<char>(v & 0xFF), static_cast<char>(v >> 8 & 0xFF),
          static_cast<char>(v >> 16 & 0xFF), static_cast<char>(v >> 24)};
}

std::string fmt_chunk(uint16_t tag, uint16_t channels, uint32_t rate, uint16_t bits) {
  uint16_t align = static_cast<uint16_t>(channels * bits / 8);
  std::string body;
  body += static_cast<char>(tag & 0xFF);
  body += static_cast<char>(tag >> 8);
  body += static_cast<char>(channels);
  body += '\0';
  body += u32(rate) + u32(rate * align);
  body += static_cast<char>(align);
  body += '\0';
  body += static_cast<char>(bits);
  body += '\0';
  return "fmt " + u32(16) + body;
}

TEST(Wav, HeaderBytesAreExact) {
  std::string expected = "RIFF"s + u32(36 + 1000) + "WAVE" + "fmt " + u32(16) +
                         "\x01\x00\x01\x00"s + u32(24000) + u32(48000) + "\x02\x00\x10\x00"s +
                         "data" + u32(1000);
  std::string header = wav_header(24000, 1, 1000);
  ASSERT_EQ(header.size(), 44u);
  EXPECT_EQ(header, expected);
}

TEST(Wav, StreamingHeaderSaysUnknownSizes) {
  std::string header = wav_header(24000, 1, kWavUnknownSize);
  EXPECT_EQ(header.substr(4, 4), "\xff\xff\xff\xff"s);
  EXPECT_EQ(header.substr(40, 4), "\xff\xff\xff\xff"s);
  EXPECT_EQ(wav_header(44100, 2, 8).substr(28, 8), u32(44100 * 4) + "\x04\x00\x10\x00"s);
}

TEST(Wav, ReadsItsOwnOutput) {
  std::vector<int16_t> samples = {0, 1, -1, 32767, -32768, 1234};
  std::string file = wav_header(kSampleRate, 1, 12) + std::string(as_bytes(samples));
  Result<WavInfo> wav = read_wav(file);
  ASSERT_TRUE(wav) << wav.error().message;
  EXPECT_EQ(wav->sample_rate, kSampleRate);
  EXPECT_EQ(wav->channels, 1);
  EXPECT_EQ(wav->bits, 16);
  EXPECT_EQ(wav->samples, samples);
  EXPECT_DOUBLE_EQ(wav->seconds(), 6.0 / kSampleRate);
}

TEST(Wav, ReadsAStreamedFileToTheEnd) {
  std::vector<int16_t> samples(2400, 7);
  std::string file =
      wav_header(kSampleRate, 1, kWavUnknownSize) + std::string(as_bytes(samples)) + "x";
  Result<WavInfo> wav = read_wav(file);  // the odd byte (a cut-off sample) is dropped
  ASSERT_TRUE(wav) << wav.error().message;
  EXPECT_EQ(wav->samples, samples);
  EXPECT_DOUBLE_EQ(wav->seconds(), 0.1);
}

TEST(Wav, SkipsOtherChunksIncludingPadding) {
  std::vector<int16_t> samples = {1, 2, 3, 4};
  std::string list = "LIST"s + u32(5) + "INFOx" + '\0';  // odd size: one pad byte
  std::string file = "RIFF"s + u32(0) + "WAVE" + fmt_chunk(1, 2, 8000, 16) + list + "data" +
                     u32(8) + std::string(as_bytes(samples)) + "junk" + u32(0);
  Result<WavInfo> wav = read_wav(file);
  ASSERT_TRUE(wav) << wav.error().message;
  EXPECT_EQ(wav->channels, 2);
  EXPECT_EQ(wav->sample_rate, 8000);
  EXPECT_EQ(wav->samples, samples);
  EXPECT_DOUBLE_EQ(wav->seconds(), 2.0 / 8000);
}

void expect_error(const std::string& file, std::string_view fragment) {
  Result<WavInfo> wav = read_wav(file);
  ASSERT_FALSE(wav) << "accepted: " << fragment;
  EXPECT_EQ(wav.error().code, ErrorCode::kInvalidRequest);
  EXPECT_NE(wav.error().message.find(fragment), std::string::npos) << wav.error().message;
}

TEST(Wav, ExplainsWhatIsWrong) {
  std::string riff = "RIFF"s + u32(100) + "WAVE";
  std::string data = "data"s + u32(4) + "abcd";
  expect_error("", "not a RIFF/WAVE file");
  expect_error("RIFF"s + u32(4) + "AVI ", "not a RIFF/WAVE file");
  expect_error("ID3\x03garbage garbage garbage"s, "not a RIFF/WAVE file");
  expect_error(riff, "no fmt chunk");
  expect_error(riff + fmt_chunk(1, 1, 24000, 16), "no data chunk");
  expect_error(riff + data, "data chunk before the fmt chunk");
  expect_error(riff + fmt_chunk(3, 1, 24000, 32) + data, "format tag 3 is not integer PCM");
  expect_error(riff + fmt_chunk(1, 1, 24000, 8) + data, "8-bit samples");
  expect_error(riff + fmt_chunk(1, 0, 24000, 16) + data, "0 channels");
  expect_error(riff + fmt_chunk(1, 1, 24000, 16) + "data" + u32(100) + "abcd",
               "says 100 bytes but the file has 4");
  expect_error(riff + fmt_chunk(1, 1, 24000, 16) + "data" + u32(3) + "abc",
               "not whole 2-byte frames");
  expect_error(riff + "LIST" + u32(1000) + "abc", "'LIST' chunk says 1000 bytes");
  expect_error(riff + "fmt " + u32(4) + "abcd" + data, "fmt chunk has 4 bytes");
}

}  // namespace
}  // namespace sy::audio
