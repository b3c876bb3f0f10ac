// The espeak engine inside a real io_context run loop.
#include "speech/espeak_engine.h"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <cmath>
#include <future>
#include <numeric>

#include "http/client.h"
#include "speech/testing/collect.h"

namespace sy::speech {
namespace {

namespace asio = boost::asio;
using testing::CollectSink;
using testing::run_to_end;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kHello = "Hello world. This is a test.";

std::string long_text(int sentences) {
  std::string text;
  for (int i = 0; i < sentences; ++i) text += "This sentence is one of many that make a long text to speak. ";
  return text;
}

// What audio::Espeak gives for `text` directly, for comparison.
std::vector<int16_t> direct(audio::Espeak& espeak, std::string text, std::string_view voice) {
  auto pcm = std::make_shared<std::vector<int16_t>>();
  std::promise<void> done;
  auto on_audio = [pcm](std::span<const int16_t> piece) { pcm->insert(pcm->end(), piece.begin(), piece.end()); };
  auto on_done = [&done](Result<void>) { done.set_value(); };
  espeak.synthesize(std::move(text), *espeak.voice(voice), on_audio, on_done);
  done.get_future().get();
  return *pcm;
}

// How alike two takes of the same speech are: the correlation of their loudness over 50 ms
// windows. espeak-ng's output varies a little from take to take (lengths within a few %), so
// takes of one text correlate above 0.9, while the same audio with its pieces out of order
// falls below 0.5.
double envelope_correlation(std::span<const int16_t> a, std::span<const int16_t> b) {
  constexpr size_t kWindow = audio::kSampleRate / 20;
  const size_t n = std::min(a.size(), b.size()) / kWindow;
  if (n < 2) return 0;
  std::vector<double> ea;
  std::vector<double> eb;
  for (size_t i = 0; i < n; ++i) {
    ea.push_back(audio::rms(a.subspan(i * kWindow, kWindow)));
    eb.push_back(audio::rms(b.subspan(i * kWindow, kWindow)));
  }
  const double ma = std::accumulate(ea.begin(), ea.end(), 0.0) / static_cast<double>(n);
  const double mb = std::accumulate(eb.begin(), eb.end(), 0.0) / static_cast<double>(n);
  double ab = 0;
  double aa = 0;
  double bb = 0;
  for (size_t i = 0; i < n; ++i) {
    ab += (ea[i] - ma) * (eb[i] - mb);
    aa += (ea[i] - ma) * (ea[i] - ma);
    bb += (eb[i] - mb) * (eb[i] - mb);
  }
  return ab / std::sqrt(aa * bb);
}

// Our take matches a direct one: about as long, and loud and quiet in the same places.
void expect_same_speech(const std::vector<int16_t>& ours, const std::vector<int16_t>& direct) {
  EXPECT_NEAR(static_cast<double>(ours.size()), static_cast<double>(direct.size()), 0.1 * static_cast<double>(direct.size()));
  EXPECT_GT(envelope_correlation(ours, direct), 0.8);
}

class EspeakEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = EspeakEngine::open({.name = "espeak", .kind = "espeak"});
    ASSERT_TRUE(opened) << opened.error().message;
    engine_ = std::move(*opened);
  }

  Result<void> speak(std::string_view text, CollectSink& sink, std::string_view voice = "alloy", double speed = 1.0) {
    return run_to_end(ioc_, engine_->speak({.text = text, .voice = voice, .speed = speed}, client_, sink));
  }

  asio::io_context ioc_;
  http::Client client_;  // not used by espeak, but part of the interface
  std::unique_ptr<EspeakEngine> engine_;
};

TEST_F(EspeakEngineTest, AudioArrivesOnTheWorkerThreadInOrder) {
  CollectSink sink;
  Result<void> r = speak(kHello, sink);
  ASSERT_TRUE(r) << r.error().message;
  for (const std::thread::id id : sink.threads) EXPECT_EQ(id, std::this_thread::get_id());
  // Pieces as they are made: seconds of speech come in many (how many the worker takes at once
  // depends on the machine's load, so only a long text is counted on).
  CollectSink long_sink;
  ASSERT_TRUE(speak(long_text(20), long_sink));
  EXPECT_GE(long_sink.pieces, 2);
  EXPECT_GE(sink.seconds(), 0.8);
  EXPECT_LE(sink.seconds(), 5.0);
  EXPECT_GT(audio::rms(sink.samples), 500);
  // The speech espeak-ng gives, its pieces in order.
  auto espeak = audio::Espeak::open();
  ASSERT_TRUE(espeak);
  expect_same_speech(sink.samples, direct(**espeak, std::string(kHello), "alloy"));
}

TEST_F(EspeakEngineTest, LengthFollowsTextAndSpeed) {
  CollectSink one;
  CollectSink four;
  CollectSink fast;
  ASSERT_TRUE(speak(long_text(1), one));
  ASSERT_TRUE(speak(long_text(4), four));
  ASSERT_TRUE(speak(long_text(4), fast, "alloy", 2.0));
  EXPECT_GT(four.seconds(), 3.0 * one.seconds());
  EXPECT_LT(four.seconds(), 5.0 * one.seconds());
  EXPECT_LT(fast.seconds(), 0.7 * four.seconds());
  EXPECT_GT(fast.seconds(), 0.35 * four.seconds());
}

TEST_F(EspeakEngineTest, SpeedMapsToWordsPerMinute) {
  EXPECT_EQ(espeak_rate(175, 1.0), 175);
  EXPECT_EQ(espeak_rate(170, 2.0), 340);
  EXPECT_EQ(espeak_rate(175, 4.0), 450);   // espeak-ng's fastest
  EXPECT_EQ(espeak_rate(175, 0.25), 80);   // and slowest
  EXPECT_EQ(espeak_rate(175, std::nan("")), 175);
}

TEST_F(EspeakEngineTest, BlankTextIsNoAudio) {
  CollectSink sink;
  ASSERT_TRUE(speak("  \n", sink));
  EXPECT_EQ(sink.pieces, 0);
}

TEST_F(EspeakEngineTest, UnknownVoiceNamesTheEngineAndParam) {
  auto named = EspeakEngine::open({.name = "robot", .kind = "espeak", .voices = {{"narrator", "en-gb+m3"}}});
  ASSERT_TRUE(named) << named.error().message;
  EXPECT_TRUE((*named)->check_voice("narrator", "audio.voice"));
  EXPECT_TRUE((*named)->check_voice("alloy", "audio.voice"));
  EXPECT_TRUE((*named)->check_voice("en-us", "audio.voice"));
  Result<void> bad = (*named)->check_voice("bob", "audio.voice");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(bad.error().param, "audio.voice");
  EXPECT_NE(bad.error().message.find("voice 'bob' is not available in engine 'robot'"), std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("use one of: narrator, alloy, ash"), std::string::npos) << bad.error().message;

  CollectSink sink;
  Result<void> spoken = run_to_end(ioc_, (*named)->speak({.text = "Hi.", .voice = "bob"}, client_, sink));
  ASSERT_FALSE(spoken);
  EXPECT_EQ(spoken.error().param, "voice");
  EXPECT_EQ(sink.pieces, 0);
}

TEST_F(EspeakEngineTest, ConfiguredVoiceThatDoesNotResolveFailsToOpen) {
  auto bad = EspeakEngine::open({.name = "robot", .kind = "espeak", .voices = {{"narrator", "xx-nowhere"}}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidRequest);
  EXPECT_NE(bad.error().message.find("'narrator' maps to 'xx-nowhere'"), std::string::npos) << bad.error().message;
}

TEST_F(EspeakEngineTest, TwoConcurrentCallsBothComplete) {
  CollectSink a;
  CollectSink b;
  std::optional<Result<void>> ra;
  std::optional<Result<void>> rb;
  auto done_a = [&](std::exception_ptr, Result<void> r) { ra = std::move(r); };
  auto done_b = [&](std::exception_ptr, Result<void> r) { rb = std::move(r); };
  asio::co_spawn(ioc_, engine_->speak({.text = kHello, .voice = "alloy"}, client_, a), done_a);
  asio::co_spawn(ioc_, engine_->speak({.text = "Another voice, another text.", .voice = "onyx"}, client_, b), done_b);
  ioc_.run();
  ASSERT_TRUE(ra && *ra);
  ASSERT_TRUE(rb && *rb);
  auto espeak = audio::Espeak::open();
  ASSERT_TRUE(espeak);
  expect_same_speech(a.samples, direct(**espeak, std::string(kHello), "alloy"));
  expect_same_speech(b.samples, direct(**espeak, "Another voice, another text.", "onyx"));
}

// A sink that asks for the call to be cancelled once audio came.
struct CancelOnAudio : CollectSink {
  CancelOnAudio(asio::io_context& ioc, asio::cancellation_signal& signal) : ioc_(ioc), signal_(signal) {}
  void audio(std::span<const int16_t> pcm) override {
    CollectSink::audio(pcm);
    if (pieces == 1) {
      auto cancel = [this] { signal_.emit(asio::cancellation_type::terminal); };
      asio::post(ioc_, cancel);
    }
  }
  asio::io_context& ioc_;
  asio::cancellation_signal& signal_;
};

TEST_F(EspeakEngineTest, CancellationStopsTheJob) {
  const std::string text = long_text(300);  // minutes of speech
  asio::cancellation_signal signal;
  CancelOnAudio sink(ioc_, signal);
  std::optional<Result<void>> result;
  auto done = [&](std::exception_ptr, Result<void> r) { result = std::move(r); };
  asio::co_spawn(ioc_, engine_->speak({.text = text, .voice = "alloy"}, client_, sink),
                 asio::bind_cancellation_slot(signal.slot(), done));
  ioc_.run();
  ASSERT_TRUE(result);
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error().code, ErrorCode::kUnavailable);
  EXPECT_NE(result->error().message.find("cancelled"), std::string::npos) << result->error().message;
  EXPECT_LT(sink.seconds(), 60);
  const int pieces = sink.pieces;

  // The job ended: the next one runs at once, and nothing more reached the first sink.
  const auto start = Clock::now();
  CollectSink next;
  ASSERT_TRUE(speak(kHello, next));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(sink.pieces, pieces);
}

TEST_F(EspeakEngineTest, DestroyedFrameLeavesNothingBehind) {
  const std::string text = long_text(300);
  CollectSink sink;
  {
    asio::io_context worker;
    asio::co_spawn(worker, engine_->speak({.text = text, .voice = "alloy"}, client_, sink), asio::detached);
    while (sink.pieces == 0) worker.run_one();
  }  // the worker goes away mid-job, and the coroutine's frame with it
  const int pieces = sink.pieces;
  const auto start = Clock::now();
  CollectSink next;
  ASSERT_TRUE(speak(kHello, next));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(sink.pieces, pieces);
  EXPECT_GT(next.seconds(), 0.8);
}

}  // namespace
}  // namespace sy::speech
