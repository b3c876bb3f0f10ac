#include "audio/espeak.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include <gtest/gtest.h>

#include "audio/pcm.h"

#include <unistd.h>

namespace sy::audio {
namespace {

using Clock = std::chrono::steady_clock;

struct Spoken {
  std::vector<int16_t> pcm;
  Result<void> done;
  int pieces = 0;
  double seconds() const { return static_cast<double>(pcm.size()) / kSampleRate; }
};

// Queues a job and returns a future of everything it produced.
std::future<Spoken> queue(Espeak& engine, std::string text, const Voice& voice,
                          std::shared_ptr<std::atomic<bool>> cancelled = nullptr,
                          std::function<void(const Spoken&)> on_piece = {}) {
  auto spoken = std::make_shared<Spoken>();
  auto promise = std::make_shared<std::promise<Spoken>>();
  std::future<Spoken> future = promise->get_future();
  engine.synthesize(
      std::move(text), voice,
      [spoken, on_piece](std::span<const int16_t> pcm) {
        spoken->pcm.insert(spoken->pcm.end(), pcm.begin(), pcm.end());
        ++spoken->pieces;
        if (on_piece) {
          on_piece(*spoken);
        }
      },
      [spoken, promise](Result<void> done) {
        spoken->done = std::move(done);
        promise->set_value(std::move(*spoken));
      },
      std::move(cancelled));
  return future;
}

class EspeakTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto opened = Espeak::open();
    ASSERT_TRUE(opened) << opened.error().message;
    engine_ = *opened;
  }
  static void TearDownTestSuite() { engine_.reset(); }

  static Voice voice(std::string_view name) {
    Result<Voice> v = engine_->voice(name);
    EXPECT_TRUE(v) << v.error().message;
    return v ? *v : Voice{};
  }
  static Spoken speak(std::string text, std::string_view voice_name = "alloy") {
    Spoken spoken = queue(*engine_, std::move(text), voice(voice_name)).get();
    EXPECT_TRUE(spoken.done) << spoken.done.error().message;
    return spoken;
  }

  static inline std::shared_ptr<Espeak> engine_;
};

constexpr std::string_view kHello = "Hello world. This is a test.";

TEST_F(EspeakTest, SpeaksAPlausibleSentence) {
  EXPECT_EQ(engine_->native_sample_rate(), 22050);
  Spoken spoken = speak(std::string(kHello));
  EXPECT_GE(spoken.seconds(), 0.8);
  EXPECT_LE(spoken.seconds(), 5.0);
  EXPECT_GT(rms(spoken.pcm), 500);
  EXPECT_GT(spoken.pieces, 5) << "audio should arrive piece by piece";
}

TEST_F(EspeakTest, TwiceTheTextIsAboutTwiceTheAudio) {
  double once = speak(std::string(kHello)).seconds();
  double twice = speak(std::string(kHello) + " " + std::string(kHello)).seconds();
  EXPECT_GE(twice / once, 1.4);
  EXPECT_LE(twice / once, 2.8);
}

// The median pitch of the voiced parts, from the autocorrelation of 30 ms frames (60-600 Hz).
double median_pitch(std::span<const int16_t> pcm) {
  constexpr size_t kFrame = 720;
  constexpr size_t kMinLag = kSampleRate / 600;
  constexpr size_t kMaxLag = kSampleRate / 60;
  double loud = 0.5 * rms(pcm);
  auto sample = [&](size_t i) {
    return static_cast<double>(pcm[i]);
  };
  std::vector<double> pitches;
  for (size_t at = 0; at + kFrame + kMaxLag < pcm.size(); at += kFrame) {
    if (rms(pcm.subspan(at, kFrame)) < loud) {
      continue;
    }
    double best = 0;
    size_t best_lag = 0;
    for (size_t lag = kMinLag; lag <= kMaxLag; ++lag) {
      double product = 0, energy_a = 0, energy_b = 0;
      for (size_t i = at; i < at + kFrame; ++i) {
        product += sample(i) * sample(i + lag);
        energy_a += sample(i) * sample(i);
        energy_b += sample(i + lag) * sample(i + lag);
      }
      double correlation = product / std::sqrt(energy_a * energy_b + 1);
      if (correlation > best) {
        best = correlation;
        best_lag = lag;
      }
    }
    if (best > 0.6) {
      pitches.push_back(static_cast<double>(kSampleRate) / static_cast<double>(best_lag));
    }
  }
  if (pitches.empty()) {
    return 0;
  }
  std::nth_element(pitches.begin(), pitches.begin() + pitches.size() / 2, pitches.end());
  return pitches[pitches.size() / 2];
}

TEST_F(EspeakTest, OpenAiVoicesSoundDifferent) {
  std::vector<std::string> names = engine_->voice_names();
  ASSERT_EQ(names, (std::vector<std::string>{"alloy", "ash", "ballad", "coral", "echo", "fable",
                                             "onyx", "nova", "sage", "shimmer", "verse"}));
  const std::set<std::string> female = {"alloy", "coral", "nova", "sage", "shimmer"};
  std::map<std::string, double> pitch;
  std::set<std::tuple<std::string, int, int>> settings;
  std::vector<std::vector<int16_t>> audio;
  for (const std::string& name : names) {
    Voice v = voice(name);
    settings.emplace(v.espeak, v.rate_wpm, v.pitch);
    Spoken spoken = speak("The quick brown fox jumps over the lazy dog.", name);
    EXPECT_GT(rms(spoken.pcm), 1000) << name;
    EXPECT_GT(spoken.seconds(), 1.5) << name;
    pitch[name] = median_pitch(spoken.pcm);
    if (female.contains(name)) {
      EXPECT_GT(pitch[name], 150) << name << " should sound female";
    } else {
      EXPECT_LT(pitch[name], 130) << name << " should sound male";
    }
    audio.push_back(std::move(spoken.pcm));
  }
  EXPECT_EQ(settings.size(), names.size()) << "two OpenAI names share an espeak voice and settings";
  EXPECT_LT(pitch["onyx"], pitch["echo"]) << "onyx is the deep one";
  for (size_t i = 0; i < audio.size(); ++i) {
    for (size_t j = i + 1; j < audio.size(); ++j) {
      EXPECT_NE(audio[i], audio[j]) << names[i] << " = " << names[j];
    }
  }
}

// espeak-ng is not bit-exact from one run to the next (the same sentence varies by ~3% in
// length), so "the same" audio means about the same length.
void expect_same_length(const Spoken& a, const Spoken& b) {
  EXPECT_NEAR(static_cast<double>(a.pcm.size()), static_cast<double>(b.pcm.size()),
              0.06 * a.pcm.size());
}

TEST_F(EspeakTest, SameJobSameLength) {
  expect_same_length(speak("Again."), speak("Again."));
}

TEST_F(EspeakTest, AcceptsEspeakVoiceNames) {
  for (std::string_view name : {"en-us", "EN-US", "en-gb+m3", "en+f2", "de", "fr", "en-us+klatt"}) {
    Result<Voice> v = engine_->voice(name);
    ASSERT_TRUE(v) << name << ": " << v.error().message;
    EXPECT_EQ(v->name, name);
    EXPECT_GT(rms(speak("one two three", name).pcm), 300) << name;
  }
}

TEST_F(EspeakTest, UnknownVoicesListTheValidOnes) {
  for (std::string_view name : {"bob", "en-us+nosuch", "+f3", "en-us+", "Alloy", ""}) {
    Result<Voice> v = engine_->voice(name);
    ASSERT_FALSE(v) << name;
    EXPECT_EQ(v.error().code, ErrorCode::kInvalidRequest);
    EXPECT_EQ(v.error().param, "audio.voice");
    EXPECT_NE(v.error().message.find(
                  "use one of: alloy, ash, ballad, coral, echo, fable, onyx, nova, sage, "
                  "shimmer, verse"),
              std::string::npos)
        << v.error().message;
  }
  EXPECT_TRUE(engine_->voice("bob").error().message.starts_with(
      "voice 'bob' is not available in engine 'espeak'; use one of: alloy, "));
  EXPECT_NE(engine_->voice("en-us+nosuch").error().message.find("no variant 'nosuch'"),
            std::string::npos);
}

TEST_F(EspeakTest, BlankTextIsNoAudio) {
  for (std::string text : {"", "   ", " \n\t "}) {
    Spoken spoken = speak(text);
    EXPECT_TRUE(spoken.pcm.empty());
    EXPECT_EQ(spoken.pieces, 0);
  }
}

TEST_F(EspeakTest, TextIsNotMarkup) {
  // As SSML, "<b>" would be an (ignored) element and "&lt;" an entity; as text they are spoken.
  double plain = speak("one three").seconds();
  EXPECT_GT(speak("one <two> three").seconds(), plain * 1.3);
  EXPECT_GT(speak("one <speak>two</speak> three").seconds(), plain * 1.3);
  EXPECT_GT(speak("one [[h@'loU]] three").seconds(), plain * 1.3);
  EXPECT_GT(speak(std::string("one\0two three", 13)).seconds(), plain * 1.3);  // a NUL ends nothing
}

TEST_F(EspeakTest, LongTextIsSpokenWhole) {
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text += "Sentence number " + std::to_string(i) + " goes here. ";
  }
  Spoken spoken = speak(text);
  EXPECT_GT(spoken.seconds(), 40.0);
  EXPECT_GT(rms(std::span(spoken.pcm).last(kSampleRate * 5)), 300)
      << "the end should be spoken too";
}

TEST_F(EspeakTest, CancellationStopsEarly) {
  Spoken before = speak(std::string(kHello), "echo");
  std::string text;
  for (int i = 0; i < 30; ++i) {
    text += "This sentence would take a while to say. ";
  }
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  auto started = Clock::now();
  Spoken spoken =
      queue(*engine_, text, voice("echo"), cancelled, [cancelled](const Spoken& so_far) {
        if (so_far.pcm.size() >= kSampleRate / 2) {
          *cancelled = true;
        }
      }).get();
  double wall = std::chrono::duration<double>(Clock::now() - started).count();
  ASSERT_FALSE(spoken.done);
  EXPECT_EQ(spoken.done.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(spoken.done.error().message.find("cancelled"), std::string::npos);
  EXPECT_LT(spoken.seconds(), 1.0);
  EXPECT_LT(wall, 2.0);

  Spoken never =
      queue(*engine_, "Not a word.", voice("echo"), cancelled).get();  // cancelled before it starts
  EXPECT_FALSE(never.done);
  EXPECT_TRUE(never.pcm.empty());

  // The cut-short text leaves nothing behind for the next job.
  expect_same_length(before, speak(std::string(kHello), "echo"));
}

TEST_F(EspeakTest, CancellingFromAnotherThread) {
  std::string text;
  for (int i = 0; i < 30; ++i) {
    text += "Another long sentence for the engine to read. ";
  }
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  auto first_audio = std::make_shared<std::promise<void>>();
  auto once = std::make_shared<std::once_flag>();
  std::future<Spoken> job =
      queue(*engine_, text, voice("nova"), cancelled, [first_audio, once](const Spoken&) {
        std::call_once(*once, [&] { first_audio->set_value(); });
      });
  first_audio->get_future().wait();
  *cancelled = true;
  Spoken spoken = job.get();
  EXPECT_FALSE(spoken.done);
  EXPECT_LT(spoken.seconds(), 10.0);
}

TEST_F(EspeakTest, JobsFromTwoThreadsRunInOrder) {
  std::mutex mutex;
  std::vector<std::string> events;
  auto job = [&](std::string label, std::string text) {
    return [&, label, text](std::promise<void>& done) {
      engine_->synthesize(
          text, voice("sage"),
          [&, label](std::span<const int16_t>) {
            std::lock_guard lock(mutex);
            if (events.empty() || events.back() != label + " audio") {
              events.push_back(label + " audio");
            }
          },
          [&, label](Result<void> result) {
            EXPECT_TRUE(result);
            {
              std::lock_guard lock(mutex);
              events.push_back(label + " done");
            }
            done.set_value();  // last: the test's locals may be gone right after
          });
    };
  };
  std::promise<void> first_done;
  std::promise<void> second_done;
  std::promise<void> first_queued;
  std::thread a([&] {
    job("first", "The first job.")(first_done);
    first_queued.set_value();
  });
  std::thread b([&] {
    first_queued.get_future().wait();  // queued strictly after the first
    job("second", "The second job.")(second_done);
  });
  a.join();
  b.join();
  first_done.get_future().wait();
  second_done.get_future().wait();
  EXPECT_EQ(events,
            (std::vector<std::string>{"first audio", "first done", "second audio", "second done"}));
}

TEST_F(EspeakTest, ManyJobsFromManyThreads) {
  std::vector<std::future<Spoken>> jobs[2];
  std::thread threads[2];
  for (int t = 0; t < 2; ++t) {
    threads[t] = std::thread([&, t] {
      for (int i = 0; i < 4; ++i) {
        jobs[t].push_back(queue(*engine_, "Number " + std::to_string(i), voice("coral")));
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  for (auto& list : jobs) {
    for (auto& job : list) {
      Spoken spoken = job.get();
      EXPECT_TRUE(spoken.done);
      EXPECT_GT(spoken.seconds(), 0.3);
    }
  }
}

TEST_F(EspeakTest, RealTimeFactorAndFirstAudioLatency) {
  std::string paragraph =
      "The gateway can answer with speech as well as text. This engine runs on the same machine, "
      "without a "
      "network, and produces audio a piece at a time, so the first words can be sent while the "
      "rest of the "
      "answer is still being synthesised. Its voice is robotic, but it is fast and always "
      "available.";
  Voice alloy = voice("alloy");
  speak("Warm up.");
  auto started = Clock::now();
  Spoken spoken = speak(paragraph);
  double wall = std::chrono::duration<double>(Clock::now() - started).count();
  double factor = wall / spoken.seconds();
  EXPECT_LT(factor, 1.0) << "espeak-ng should run faster than real time";

  std::vector<double> latencies;
  for (int i = 0; i < 5; ++i) {
    auto first = std::make_shared<std::promise<Clock::time_point>>();
    auto once = std::make_shared<std::once_flag>();
    auto queued = Clock::now();
    auto job = queue(*engine_, "Hello world.", alloy, nullptr, [first, once](const Spoken&) {
      std::call_once(*once, [&] { first->set_value(Clock::now()); });
    });
    latencies.push_back(
        std::chrono::duration<double, std::milli>(first->get_future().get() - queued).count());
    job.get();
  }
  std::sort(latencies.begin(), latencies.end());
  std::printf(
      "[ espeak   ] %.1f s of audio in %.3f s: real-time factor %.4f (%.0fx faster than real "
      "time); "
      "first audio of a short sentence after %.1f ms (median of 5)\n",
      spoken.seconds(), wall, factor, 1 / factor, latencies[2]);
}

// Opening and closing: no engine is alive during these (the fixture's suite holds its own).
TEST(EspeakOpen, OneEnginePerProcessAndReopenable) {
  auto first = Espeak::open();
  ASSERT_TRUE(first) << first.error().message;
  auto second = Espeak::open();
  ASSERT_TRUE(second);
  EXPECT_EQ(first->get(), second->get());
  Result<Voice> voice = (*first)->voice("ash");
  ASSERT_TRUE(voice);
  Spoken before = queue(**first, "Reopen me.", *voice).get();
  first->reset();
  second->reset();

  auto reopened = Espeak::open();  // espeak-ng terminated and initialised again
  ASSERT_TRUE(reopened) << reopened.error().message;
  Spoken after = queue(**reopened, "Reopen me.", *voice).get();
  EXPECT_TRUE(after.done);
  expect_same_length(after, before);
}

TEST(EspeakOpen, ShutdownFailsQueuedJobs) {
  auto opened = Espeak::open();
  ASSERT_TRUE(opened);
  std::shared_ptr<Espeak> engine = std::move(*opened);
  Voice voice = *engine->voice("onyx");
  std::string text;
  for (int i = 0; i < 20; ++i) {
    text += "A long job that is still running at shutdown. ";
  }
  std::vector<std::future<Spoken>> jobs;
  for (int i = 0; i < 3; ++i) {
    jobs.push_back(queue(*engine, text, voice));
  }
  engine.reset();  // joins the thread
  for (auto& job : jobs) {
    ASSERT_EQ(job.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    Spoken spoken = job.get();
    ASSERT_FALSE(spoken.done);
    EXPECT_EQ(spoken.done.error().code, ErrorCode::kUnavailable);
  }
}

TEST(EspeakOpen, LastReferenceDroppedInACallback) {
  auto opened = Espeak::open();
  ASSERT_TRUE(opened);
  std::shared_ptr<Espeak> engine = std::move(*opened);
  Voice voice = *engine->voice("fable");
  std::promise<void> done;
  std::weak_ptr<Espeak> watch = engine;
  Espeak& raw = *engine;
  raw.synthesize(
      "Goodbye.", voice, [](std::span<const int16_t>) {},
      [holder = std::move(engine), &done](Result<void>) mutable {
        EXPECT_TRUE(holder);
        done.set_value();
      });
  done.get_future().wait();
  EXPECT_EQ(engine, nullptr);
  // The job (and with it the last reference) is destroyed on the synthesis thread, which then
  // ends on its own; a new engine waits for it.
  auto again = Espeak::open();
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(queue(**again, "Still here.", *(*again)->voice("alloy")).get().done);
}

// espeak-ng is initialised once per process, so the failures are checked in a fresh process
// (a death test that re-runs this binary) where it has not been initialised yet.
void open_with_bad_data_then_good() {
  auto missing = Espeak::open({.data_path = "/nonexistent/espeak"});
  if (missing || missing.error().code != ErrorCode::kUnavailable ||
      missing.error().message.find("'/nonexistent/espeak'") == std::string::npos) {
    std::fprintf(stderr, "missing: %s\n", missing ? "opened" : missing.error().message.c_str());
    std::exit(1);
  }
  // Data that exists but is not espeak-ng's: espeak-ng itself refuses it.
  auto dir = std::filesystem::temp_directory_path() / ("sy_espeak_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "espeak-ng-data");
  std::ofstream(dir / "espeak-ng-data" / "phontab") << "not phoneme data";
  auto broken = Espeak::open({.data_path = dir.string()});
  std::filesystem::remove_all(dir);
  if (broken ||
      broken.error().message.find("espeak-ng could not load its data") == std::string::npos) {
    std::fprintf(stderr, "broken: %s\n", broken ? "opened" : broken.error().message.c_str());
    std::exit(2);
  }
  std::fprintf(stderr, "%s\n%s\n", missing.error().message.c_str(), broken.error().message.c_str());
  auto good = Espeak::open();  // and a good one still works afterwards
  if (!good || !queue(**good, "Fine.", *(*good)->voice("alloy")).get().done) {
    std::exit(3);
  }
  std::exit(0);
}

TEST(EspeakOpen, MissingDataIsAClearError) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(open_with_bad_data_then_good(), ::testing::ExitedWithCode(0),
              "espeak-ng data not found");
}

}  // namespace
}  // namespace sy::audio
