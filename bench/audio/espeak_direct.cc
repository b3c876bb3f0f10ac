// The embedded espeak-ng engine measured directly, the baseline of bench/audio/run.sh:
//   espeak_direct "<text>" [runs] [voice]
// prints one JSON line: the median and p90 time from synthesize() to the first audio (ms), the
// median time to synthesize the whole text, its audio duration, and the real-time factor
// (synthesis time / audio time).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "audio/espeak.h"
#include "audio/pcm.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double at(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: espeak_direct <text> [runs] [voice]\n");
    return 2;
  }
  const std::string text = argv[1];
  const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 50;
  auto engine = sy::audio::Espeak::open();
  if (!engine) {
    std::fprintf(stderr, "espeak_direct: %s\n", engine.error().message.c_str());
    return 1;
  }
  auto voice = (*engine)->voice(argc > 3 ? argv[3] : "nova");
  if (!voice) {
    std::fprintf(stderr, "espeak_direct: %s\n", voice.error().message.c_str());
    return 1;
  }
  std::vector<double> first, total;
  double seconds = 0;
  for (int i = 0; i < runs + 3; ++i) {  // 3 warm-up runs
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    Clock::time_point first_audio{};
    size_t samples = 0;
    const auto start = Clock::now();
    (*engine)->synthesize(
        text, *voice,
        [&](std::span<const int16_t> pcm) {
          std::lock_guard lock(mu);
          if (samples == 0) first_audio = Clock::now();
          samples += pcm.size();
        },
        [&](sy::Result<void>) {
          std::lock_guard lock(mu);
          done = true;
          cv.notify_one();
        });
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
    const auto end = Clock::now();
    if (i < 3) continue;
    first.push_back(ms(first_audio - start));
    total.push_back(ms(end - start));
    seconds = static_cast<double>(samples) / sy::audio::kSampleRate;
  }
  std::printf(
      "{\"runs\":%d,\"first_audio_ms_p50\":%.3f,\"first_audio_ms_p90\":%.3f,\"synthesis_ms_p50\":%.3f,"
      "\"audio_seconds\":%.3f,\"real_time_factor\":%.5f}\n",
      runs, at(first, 0.5), at(first, 0.9), at(total, 0.5), seconds, at(total, 0.5) / 1000.0 / seconds);
  return 0;
}
