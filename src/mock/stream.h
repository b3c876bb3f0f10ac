#pragma once
// The paced delta loop the mock's three streaming protocols share.
//
//   auto emit = [&](int i, std::string& out) { out += "data: ...delta i...\n\n"; };
//   auto garble = [&](std::string& out) { out += R"(data: {"delta":"cut-o)" "\n\n"; };
//   if (!co_await write_deltas(req, res, sleeper, b, count, emit, garble)) co_return;  // over
//   co_await res.write(closing_events);

#include <chrono>
#include <string>

#include "http/message.h"
#include "mock/behaviour.h"
#include "mock/sleeper.h"

namespace sy::mock {

// Writes deltas 0..count-1, each as `emit(i, out)` appends it. Delta i is due at start +
// i * gap however late a write was; when the mock falls behind, the deltas already due go out
// together in one write. At delta b.reset_after (count included: after the last delta) the
// connection is reset instead, and at delta b.garble the response ends with a malformed event
// in its place. False when the stream must stop: the client left, or a fault ended it.
// `emit`, `garble` and `sleeper` are the caller's named locals (stable across suspensions).
template <class Emit, class Garble>
http::Task<bool> write_deltas(http::Request& req, http::Response& res, Sleeper& sleeper, Behaviour b, int count,
                              Emit& emit, Garble& garble) {
  using Clock = std::chrono::steady_clock;
  // The stream stops at `end`: after the last delta, or at a fault's.
  int end = count;
  for (const int fault : {b.reset_after, b.garble}) {
    if (fault >= 0 && fault < end) end = fault;
  }
  std::string event;
  auto due = Clock::now();
  for (int i = 0; i < count;) {
    if (i > 0) {
      due += b.gap;
      if (due > Clock::now() && !co_await sleeper.sleep_until(req, due)) co_return false;
    }
    if (i == end) break;  // the fault is due in place of delta i
    event.clear();
    const auto now = Clock::now();
    for (;;) {
      emit(i, event);
      ++i;
      if (i == end || b.gap.count() == 0 || due + b.gap > now) break;
      due += b.gap;
    }
    if (!co_await res.write(event)) co_return false;
  }
  if (end == b.garble) {
    event.clear();
    garble(event);
    if (!co_await res.write(event)) co_return false;
    co_await res.end_stream();
    co_return false;
  }
  if (end == b.reset_after) {
    res.abort();
    co_return false;
  }
  co_return true;
}

}  // namespace sy::mock
