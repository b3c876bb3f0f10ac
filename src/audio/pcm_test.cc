#include "audio/pcm.h"

#include <cmath>
#include <numbers>

#include <gtest/gtest.h>

namespace sy::audio {
namespace {

std::vector<int16_t> sine(double frequency, int rate, double seconds, double amplitude = 10000) {
  std::vector<int16_t> out(static_cast<size_t>(rate * seconds));
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<int16_t>(
        std::lround(amplitude * std::sin(2 * std::numbers::pi * frequency * i / rate)));
  }
  return out;
}

int zero_crossings(std::span<const int16_t> samples) {
  int count = 0;
  for (size_t i = 1; i < samples.size(); ++i) {
    count += (samples[i - 1] < 0) != (samples[i] < 0);
  }
  return count;
}

std::vector<int16_t> resample_all(int from, int to, std::span<const int16_t> in) {
  Resampler resampler(from, to);
  std::vector<int16_t> out;
  resampler.push(in, out);
  resampler.finish(out);
  return out;
}

TEST(Resampler, KeepsFrequencyLengthAndLevel) {
  std::vector<int16_t> in = sine(1000, 22050, 1.0);
  std::vector<int16_t> out = resample_all(22050, kSampleRate, in);
  EXPECT_EQ(out.size(), 24000u);  // ceil(22050 × 24000 / 22050)
  EXPECT_NEAR(zero_crossings(out), 2000, 2);
  std::span<const int16_t> middle(out.data() + 1000, out.size() - 2000);
  EXPECT_NEAR(rms(middle), 10000 / std::sqrt(2.0), 10000 * 0.01);
}

TEST(Resampler, OutputIsOnTimeWithNoPhaseShift) {
  // Sample n of the output is the input signal at time n / 24000: compare with the ideal sine.
  std::vector<int16_t> out = resample_all(22050, kSampleRate, sine(1000, 22050, 0.5));
  std::vector<int16_t> ideal = sine(1000, kSampleRate, 0.5);
  ASSERT_EQ(out.size(), ideal.size());
  int worst = 0;
  for (size_t i = 100; i + 100 < out.size(); ++i) {
    worst = std::max(worst, std::abs(out[i] - ideal[i]));
  }
  EXPECT_LT(worst, 60) << "more than 0.6% of the amplitude off the ideal sine";
}

TEST(Resampler, PiecesOfAnySizeGiveTheSameOutput) {
  std::vector<int16_t> in = sine(440, 22050, 0.7);
  std::vector<int16_t> whole = resample_all(22050, kSampleRate, in);
  for (size_t piece : {1u, 7u, 13u, 101u, 883u}) {
    Resampler resampler(22050, kSampleRate);
    std::vector<int16_t> out;
    size_t sizes[] = {piece, piece * 3 + 1, 2};  // uneven, cycled
    for (size_t at = 0, turn = 0; at < in.size(); ++turn) {
      size_t size = std::min(sizes[turn % 3], in.size() - at);
      resampler.push(std::span(in).subspan(at, size), out);
      at += size;
    }
    resampler.finish(out);
    EXPECT_EQ(out, whole) << "pieces of " << piece;
  }
}

TEST(Resampler, StreamsWithSmallHoldBack) {
  Resampler resampler(22050, kSampleRate);
  std::vector<int16_t> in = sine(440, 22050, 0.1);
  std::vector<int16_t> out;
  resampler.push(in, out);
  // 24000/22050 outputs per input, less the ~16 inputs of look-ahead.
  EXPECT_GE(out.size(), static_cast<size_t>(in.size() * 24000 / 22050 - 20));
  resampler.finish(out);
  EXPECT_EQ(out.size(), static_cast<size_t>(std::ceil(in.size() * 24000.0 / 22050)));
}

TEST(Resampler, DownsamplingFiltersWhatCannotBeRepresented) {
  std::vector<int16_t> low = resample_all(48000, kSampleRate, sine(1000, 48000, 0.5));
  EXPECT_EQ(low.size(), 12000u);
  EXPECT_NEAR(zero_crossings(low), 1000, 2);
  std::vector<int16_t> high =
      resample_all(48000, kSampleRate, sine(15000, 48000, 0.5));  // > 12 kHz Nyquist
  EXPECT_LT(rms(std::span(high).subspan(100, 11800)), 10000 * 0.01);
}

TEST(Resampler, UnusualRatesUseDirectTaps) {
  // 44101 and 24000 share no factor: 24000 phases, too many for a table.
  std::vector<int16_t> out = resample_all(44101, kSampleRate, sine(1000, 44101, 1.0));
  EXPECT_NEAR(static_cast<double>(out.size()), 24000, 1);
  EXPECT_NEAR(zero_crossings(out), 2000, 2);
}

TEST(Resampler, SameRatePassesThrough) {
  std::vector<int16_t> in = sine(440, kSampleRate, 0.1);
  EXPECT_EQ(resample_all(kSampleRate, kSampleRate, in), in);
}

TEST(Resampler, EmptyInput) {
  Resampler resampler(22050, kSampleRate);
  std::vector<int16_t> out;
  resampler.push({}, out);
  resampler.finish(out);
  EXPECT_TRUE(out.empty());
}

TEST(Pcm, RmsAndBytes) {
  EXPECT_EQ(rms({}), 0);
  std::vector<int16_t> square = {1000, -1000, 1000, -1000};
  EXPECT_DOUBLE_EQ(rms(square), 1000);
  std::vector<int16_t> samples = {0x0102, -2};
  EXPECT_EQ(as_bytes(samples), std::string_view("\x02\x01\xfe\xff", 4));
}

}  // namespace
}  // namespace sy::audio
