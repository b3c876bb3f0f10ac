#include "mock/speech.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include "mock/mock.h"

namespace sy::mock {
namespace {

constexpr int kSyllableCharacters = 3;
constexpr int kHarmonics = 6;
constexpr double kDriftHz = 0.9;     // the intonation's rise and fall
constexpr double kDriftDepth = 0.06; // ± 6 % of the fundamental
constexpr double kPeak = 0.55 * 32767;

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

// Whitespace and ASCII punctuation are pauses; letters, digits and any non-ASCII code point
// are voiced.
bool voiced(std::string_view code_point) {
  const auto c = static_cast<unsigned char>(code_point.front());
  if (c >= 0x80) return true;
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// The code points of `text`, each as its bytes.
std::vector<std::string_view> code_points(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i + 1;
    while (j < text.size() && (static_cast<unsigned char>(text[j]) & 0xC0) == 0x80) ++j;
    out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

// sin(2π · turns), from a table: the mock renders minutes of audio per request, and a table
// lookup costs a fraction of std::sin.
double sine_of_turns(double turns) {
  constexpr size_t kSize = 4096;
  static const std::array<double, kSize + 1> kTable = [] {
    std::array<double, kSize + 1> t{};
    for (size_t i = 0; i <= kSize; ++i) t[i] = std::sin(2 * std::numbers::pi * static_cast<double>(i) / kSize);
    return t;
  }();
  const double x = (turns - std::floor(turns)) * kSize;
  const auto i = std::min(static_cast<size_t>(x), kSize - 1);
  return kTable[i] + (kTable[i + 1] - kTable[i]) * (x - static_cast<double>(i));
}

}  // namespace

SpeechVoice speech_voice(std::string_view name, std::optional<double> pitch_hz) {
  const uint64_t seed = splitmix64(fnv1a(name));
  return {pitch_hz.value_or(120.0 + static_cast<double>(seed % 101)), seed};
}

SpeechSignal::SpeechSignal(std::string_view text, SpeechVoice voice, int sample_rate, double speed)
    : sample_rate_(sample_rate), voice_(voice) {
  const std::vector<std::string_view> chars = code_points(text);
  const double per_char = std::chrono::duration<double>(kPerCharacter).count() / speed;
  const double seconds = std::max(per_char * static_cast<double>(chars.size()),
                                  std::chrono::duration<double>(kMinimum).count());
  samples_ = static_cast<size_t>(std::llround(seconds * sample_rate));
  piece_samples_ = std::max<size_t>(1, static_cast<size_t>(sample_rate) * kPiece.count() / 1000);
  if (chars.empty()) {
    segments_.push_back({0, samples_, false, 0});
    return;
  }
  // Character i spans [bound(i), bound(i + 1)): every character the same length, the whole
  // exactly samples_.
  auto bound = [&](size_t i) { return i * samples_ / chars.size(); };
  for (size_t i = 0; i < chars.size();) {
    size_t j = i + 1;
    if (!voiced(chars[i])) {
      while (j < chars.size() && !voiced(chars[j])) ++j;
      segments_.push_back({bound(i), bound(j), false, 0});
    } else {
      while (j < chars.size() && j - i < kSyllableCharacters && voiced(chars[j])) ++j;
      const std::string_view syllable(chars[i].data(), static_cast<size_t>(chars[j - 1].data() + chars[j - 1].size() - chars[i].data()));
      segments_.push_back({bound(i), bound(j), true, splitmix64(fnv1a(syllable) ^ voice_.seed)});
    }
    i = j;
  }
}

void SpeechSignal::render(size_t first, size_t count, std::string& out) const {
  const size_t end = std::min(samples_, first + count);
  if (first >= end) return;
  out.reserve(out.size() + 2 * (end - first));
  auto put = [&](double v) {
    const auto bits = static_cast<uint16_t>(static_cast<int16_t>(std::lround(std::clamp(v, -32767.0, 32767.0))));
    out += static_cast<char>(bits & 0xFF);
    out += static_cast<char>(bits >> 8);
  };
  // The intonation: f(t) = f0 * (1 + d * sin(2π r t + θ)), whose phase integrates in closed
  // form, so any sample can be computed on its own.
  const double theta = static_cast<double>(voice_.seed % 1000) / 1000.0;  // in turns
  const double drift_scale = kDriftDepth / (2 * std::numbers::pi * kDriftHz);
  const double drift_zero = sine_of_turns(theta + 0.25);  // cos θ
  auto seg = std::upper_bound(segments_.begin(), segments_.end(), first,
                              [](size_t n, const Segment& s) { return n < s.end; });
  for (size_t n = first; n < end; ++seg) {
    const size_t seg_end = std::min(end, seg->end);
    if (!seg->voiced) {
      for (; n < seg_end; ++n) put(0);
      continue;
    }
    std::array<double, kHarmonics> w{};  // the syllable's mix of harmonics, normalised
    double norm = 0;
    for (int k = 1; k <= kHarmonics; ++k) {
      w[static_cast<size_t>(k - 1)] = (0.35 + 0.65 * static_cast<double>((seg->shape >> (4 * k)) & 15) / 15.0) / k;
      norm += w[static_cast<size_t>(k - 1)];
    }
    const double length = static_cast<double>(seg->end - seg->begin);
    for (; n < seg_end; ++n) {
      const double t = static_cast<double>(n) / sample_rate_;
      const double envelope = sine_of_turns(0.5 * static_cast<double>(n - seg->begin) / length);  // once per syllable
      const double drift = drift_scale * (drift_zero - sine_of_turns(kDriftHz * t + theta + 0.25));
      const double turns = voice_.pitch_hz * (t + drift);
      double sum = 0;
      for (size_t k = 0; k < w.size(); ++k) sum += w[k] * sine_of_turns(static_cast<double>(k + 1) * turns);
      put(kPeak * envelope * sum / norm);
    }
  }
}

size_t count_characters(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}


Behaviour paced(Behaviour b) {
  b.gap = std::chrono::duration_cast<std::chrono::microseconds>(SpeechSignal::kPiece) / std::max(1, b.pace);
  return b;
}

}  // namespace sy::mock
