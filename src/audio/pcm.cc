#include "audio/pcm.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

#include "core/assert.h"

namespace sy::audio {
namespace {

constexpr int kMaxRate = 384000;
constexpr int kHalfTaps = 16;              // at the lower rate; 32 taps in all
constexpr double kPassband = 0.9;          // cutoff as a fraction of the lower Nyquist frequency
constexpr int64_t kMaxTablePhases = 1024;  // beyond this, taps are computed per sample
constexpr size_t kTrimThreshold = 8192;    // consumed history kept before one erase

double sinc(double x) {
  if (std::abs(x) < 1e-9) {
    return 1.0;
  }
  double pi_x = std::numbers::pi * x;
  return std::sin(pi_x) / pi_x;
}

int16_t to_sample(float value) {
  return static_cast<int16_t>(std::clamp(std::lround(value), -32768L, 32767L));
}

}  // namespace

Resampler::Resampler(int from_rate, int to_rate) : from_rate_(from_rate), to_rate_(to_rate) {
  SY_RELEASE_ASSERT(from_rate > 0 && from_rate <= kMaxRate && to_rate > 0 && to_rate <= kMaxRate);
  int64_t divisor = std::gcd(from_rate, to_rate);
  up_ = to_rate / divisor;
  down_ = from_rate / divisor;
  // Downsampling widens the filter (in input samples) by the same factor it lowers the cutoff.
  double stretch = std::max(1.0, static_cast<double>(down_) / static_cast<double>(up_));
  half_width_ = static_cast<int>(std::ceil(kHalfTaps * stretch));
  cutoff_ = 0.5 * kPassband / stretch;
  if (up_ == down_ || up_ > kMaxTablePhases) {
    return;
  }

  int taps = 2 * half_width_;
  table_.resize(static_cast<size_t>(up_ * taps));
  for (int64_t phase = 0; phase < up_; ++phase) {
    double fraction = static_cast<double>(phase) / static_cast<double>(up_);
    float* row = &table_[static_cast<size_t>(phase * taps)];
    double sum = 0;
    for (int tap = 0; tap < taps; ++tap) {
      row[tap] = kernel(fraction - (tap - half_width_ + 1));
      sum += row[tap];
    }
    // Unity gain at DC in every phase, or the phases beat against each other as a faint tone.
    for (int tap = 0; tap < taps; ++tap) {
      row[tap] = static_cast<float>(row[tap] / sum);
    }
  }
}

float Resampler::kernel(double distance) const {
  double x = distance / half_width_;
  if (std::abs(x) >= 1.0) {
    return 0.0F;
  }
  double window =
      0.42 + 0.5 * std::cos(std::numbers::pi * x) + 0.08 * std::cos(2 * std::numbers::pi * x);
  return static_cast<float>(2 * cutoff_ * sinc(2 * cutoff_ * distance) * window);
}

void Resampler::push(std::span<const int16_t> in, std::vector<int16_t>& out) {
  SY_RELEASE_ASSERT(!finished_);
  if (up_ == down_) {
    out.insert(out.end(), in.begin(), in.end());
    inputs_ += static_cast<int64_t>(in.size());
    return;
  }
  history_.insert(history_.end(), in.begin(), in.end());
  inputs_ += static_cast<int64_t>(in.size());
  // Output n sits at input time n·down/up and needs input up to floor(that) + half_width.
  int64_t last_usable_center = inputs_ - half_width_;  // exclusive
  int64_t output_end = last_usable_center <= 0 ? 0 : (last_usable_center * up_ + down_ - 1) / down_;
  produce(out, output_end);
  drop_consumed_history();
}

void Resampler::finish(std::vector<int16_t>& out) {
  SY_RELEASE_ASSERT(!finished_);
  finished_ = true;
  if (up_ == down_) {
    return;
  }
  produce(out, (inputs_ * up_ + down_ - 1) / down_);
  history_.clear();
}

void Resampler::produce(std::vector<int16_t>& out, int64_t output_end) {
  if (output_end <= next_output_) {
    return;
  }
  out.reserve(out.size() + static_cast<size_t>(output_end - next_output_));
  for (; next_output_ < output_end; ++next_output_) {
    out.push_back(to_sample(filter_at(next_output_)));
  }
}

float Resampler::filter_at(int64_t output_index) const {
  int64_t position = output_index * down_;
  int64_t center = position / up_;
  int64_t phase = position % up_;
  int64_t first = center - half_width_ + 1;
  int taps = 2 * half_width_;
  auto sample = [&](int64_t index) -> float {
    if (index < history_start_ || index >= inputs_) {  // before the start, after the end
      return 0.0F;
    }
    return history_[static_cast<size_t>(index - history_start_)];
  };
  float sum = 0;
  if (!table_.empty()) {
    const float* row = &table_[static_cast<size_t>(phase * taps)];
    for (int tap = 0; tap < taps; ++tap) {
      sum += row[tap] * sample(first + tap);
    }
    return sum;
  }
  double fraction = static_cast<double>(phase) / static_cast<double>(up_);
  float weight_sum = 0;
  for (int tap = 0; tap < taps; ++tap) {
    float weight = kernel(fraction - (tap - half_width_ + 1));
    weight_sum += weight;
    sum += weight * sample(first + tap);
  }
  return sum / weight_sum;
}

void Resampler::drop_consumed_history() {
  int64_t first_needed = next_output_ * down_ / up_ - half_width_ + 1;
  auto consumed = static_cast<size_t>(std::max<int64_t>(0, first_needed - history_start_));
  if (consumed < kTrimThreshold) {
    return;
  }
  history_.erase(history_.begin(), history_.begin() + static_cast<std::ptrdiff_t>(consumed));
  history_start_ += static_cast<int64_t>(consumed);
}

double rms(std::span<const int16_t> samples) {
  if (samples.empty()) {
    return 0;
  }
  double sum = 0;
  for (int16_t s : samples) {
    sum += static_cast<double>(s) * s;
  }
  return std::sqrt(sum / static_cast<double>(samples.size()));
}

}  // namespace sy::audio
