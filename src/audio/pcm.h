#pragma once
// PCM: the gateway's one raw audio format (16-bit signed little-endian mono at kSampleRate),
// a streaming resampler into it, and small helpers.
//
//   Resampler resampler(22050, kSampleRate);
//   for (auto chunk : chunks) resampler.push(chunk, out);   // out grows as input arrives
//   resampler.finish(out);                                    // the tail; `out` is complete

#include <bit>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace sy::audio {

inline constexpr int kSampleRate = 24000;

// Changes the sample rate of a mono PCM16 stream fed in pieces of any size.
//
// A windowed-sinc (Blackman, 32 taps at the lower of the two rates) polyphase filter: the
// output is the same whichever way the input is cut into pieces, is not delayed (sample n of
// the output is at time n / to_rate), and has ceil(inputs * to_rate / from_rate) samples in
// all. It holds back ~16 input samples until more input or finish() arrives.
// Not thread-safe; one per stream.
class Resampler {
 public:
  // Both rates positive and at most 384000 (checked: a violation aborts).
  Resampler(int from_rate, int to_rate);

  // Appends to `out` every output sample the input so far determines.
  void push(std::span<const int16_t> in, std::vector<int16_t>& out);
  // Appends the rest (the input is taken to end with silence). push() after finish() is a bug.
  void finish(std::vector<int16_t>& out);

  int from_rate() const { return from_rate_; }
  int to_rate() const { return to_rate_; }

 private:
  void produce(std::vector<int16_t>& out, int64_t output_end);
  float filter_at(int64_t output_index) const;
  float kernel(double distance) const;
  void drop_consumed_history();

  int from_rate_;
  int to_rate_;
  int64_t up_;                  // to_rate / gcd: output samples per `down_` input samples
  int64_t down_;                // from_rate / gcd
  int half_width_;              // filter taps on each side of the output time, in input samples
  double cutoff_;               // in cycles per input sample
  std::vector<float> table_;    // up_ phases × 2·half_width_ taps; empty when up_ is too large
  std::vector<float> history_;  // input samples from index history_start_ on
  int64_t history_start_ = 0;
  int64_t inputs_ = 0;
  int64_t next_output_ = 0;
  bool finished_ = false;
};

// Root mean square of the samples, in sample units (0 for silence, ~23170 for a full-scale
// sine, 0 for an empty span).
double rms(std::span<const int16_t> samples);

// The samples' bytes as they go on the wire (little-endian; the host is checked to be).
static_assert(std::endian::native == std::endian::little, "PCM16 bytes are sent in host order");
inline std::string_view as_bytes(std::span<const int16_t> samples) {
  return {reinterpret_cast<const char*>(samples.data()), samples.size_bytes()};
}

}  // namespace sy::audio
