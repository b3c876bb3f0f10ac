#pragma once
// Speech: one answer's speech, made while the answer is written. Text comes in as deltas, is
// cut into speakable pieces (chunker.h), and each piece is spoken by the first engine of the
// plan that can, while the model goes on writing; encoded audio comes out in order.
//
//   Speech speech({.engines = plan, .voice = "alloy", .format = audio::Format::kPcm16, .streaming = true},
//                 client, executor);
//   co_spawn(executor, speech.run(), detached-with-care);    // speaks as pieces complete
//   speech.add_text("Hello there. "); ...; speech.end_text();
//   while (!speech.finished()) { co_await speech.ready().wait(); for (auto& out : speech.take()) send(out); }
//
// Everything runs on the executor's thread. A piece that an engine fails before any of its audio
// came is spoken by the plan's next engine (failover); an engine that fails mid-piece is not used
// for the pieces after it.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "audio/encoder.h"
#include "http/task.h"
#include "speech/chunker.h"
#include "speech/engine.h"

namespace sy::speech {

using Clock = std::chrono::steady_clock;

// A wake-up for one waiting coroutine on a single-threaded executor; a notify() before the
// wait is not lost.
class Event {
 public:
  explicit Event(const boost::asio::any_io_executor& ex) : timer_(ex, Clock::time_point::max()) {}
  void notify() {
    signalled_ = true;
    timer_.cancel();
  }
  // Returns at a notify() or at `deadline`.
  http::Task<void> wait(Clock::time_point deadline = Clock::time_point::max());

 private:
  boost::asio::steady_timer timer_;
  bool signalled_ = false;
};

struct SpeechOptions {
  std::vector<const TtsEngine*> engines;  // the plan: the requested engine, then the others
  std::string voice;
  std::string model;                      // the engine's model, when the request named one
  audio::Format format = audio::Format::kPcm16;
  bool streaming = true;
  double speed = 1.0;
  ChunkerOptions chunker;
  // Text held without a boundary this long is spoken up to its last word anyway.
  std::chrono::milliseconds max_wait{300};
};

// What was spoken, for the request log.
struct SpeechStats {
  std::string engine;           // the engine that spoke the first piece ("" when none did)
  int64_t chars = 0;            // characters (bytes of UTF-8) synthesized
  int64_t samples = 0;          // of 24 kHz audio
  Clock::time_point first_audio{};  // when the first audio was ready; {} when none
  double cost_usd = 0;
  std::string error;            // the last engine error, "" when none
  double seconds() const { return static_cast<double>(samples) / 24000.0; }
};

class Speech {
 public:
  // Transcript text (a piece about to be spoken) or encoded audio bytes, in order.
  struct Out {
    bool transcript = false;
    std::string bytes;
  };

  Speech(SpeechOptions options, http::Client& client, const boost::asio::any_io_executor& ex);
  Speech(const Speech&) = delete;
  Speech& operator=(const Speech&) = delete;

  void add_text(std::string_view text);
  void end_text();  // no more text: what is held is spoken, then run() ends
  void cancel();    // stop speaking (the client left); run() ends soon

  // Speaks until end_text() and every piece is done, or cancel(). Call once.
  http::Task<void> run();

  std::deque<Out> take();       // what is ready, in order
  Event& ready() { return ready_; }
  bool finished() const { return finished_; }  // run() is over: nothing more will be ready
  // Every engine failed on a piece: nothing more will be spoken.
  bool failed() const { return failed_; }
  const SpeechStats& stats() const { return stats_; }

 private:
  class Sink;
  http::Task<void> speak(std::string piece);
  // Ends when `limit` passes with no audio in `sink`; else only when cancelled.
  static http::Task<void> watchdog(boost::asio::steady_timer& limit, const Sink& sink);
  void emit(bool transcript, std::string bytes);

  SpeechOptions options_;
  http::Client& client_;
  boost::asio::any_io_executor client_executor_;  // the worker's: timers
  Chunker chunker_;
  std::unique_ptr<audio::Encoder> encoder_;
  std::deque<std::string> pieces_;  // waiting to be spoken
  Clock::time_point held_since_{};  // when the chunker began holding text; {} when not
  bool text_ended_ = false;
  bool cancelled_ = false;
  bool finished_ = false;
  bool failed_ = false;
  size_t engine_ = 0;  // the plan's engine to try first
  Event work_;         // new pieces, the end of the text, cancel()
  Event ready_;        // output ready, or run() over
  std::deque<Out> out_;
  SpeechStats stats_;
};

}  // namespace sy::speech
