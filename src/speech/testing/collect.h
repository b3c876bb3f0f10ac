#pragma once
// Test helpers for engines: a sink that keeps what it is given, and a runner that drives one
// coroutine to its end on an io_context.
//
//   asio::io_context ioc;  http::Client client;  testing::CollectSink sink;
//   Result<void> r = testing::run_to_end(ioc, engine.speak({.text = "Hi.", .voice = "alloy"}, client, sink));
//   sink.seconds(), sink.pieces, sink.threads  // what arrived, in how many calls, on which threads

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <exception>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "audio/pcm.h"
#include "http/task.h"
#include "speech/engine.h"

namespace sy::speech::testing {

struct CollectSink : PcmSink {
  void audio(std::span<const int16_t> pcm) override {
    samples.insert(samples.end(), pcm.begin(), pcm.end());
    ++pieces;
    threads.push_back(std::this_thread::get_id());
  }
  double seconds() const { return static_cast<double>(samples.size()) / audio::kSampleRate; }

  std::vector<int16_t> samples;
  int pieces = 0;
  std::vector<std::thread::id> threads;  // of each call
};

// Runs `task` on `ioc` (on this thread) until it returns; rethrows what it throws.
template <class T>
T run_to_end(boost::asio::io_context& ioc, http::Task<T> task) {
  std::optional<T> out;
  std::exception_ptr thrown;
  auto done = [&](std::exception_ptr e, T value) {
    thrown = e;
    if (!e) out.emplace(std::move(value));
  };
  boost::asio::co_spawn(ioc, std::move(task), done);
  ioc.restart();
  ioc.run();
  if (thrown) std::rethrow_exception(thrown);
  return std::move(*out);
}

}  // namespace sy::speech::testing
