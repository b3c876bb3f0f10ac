#pragma once
// The paced delta loop the mock's three streaming protocols share.
//
//   auto emit = [&](int i, std::string& out) { out += "data: ...delta i...\n\n"; };
//   if (!co_await write_deltas(req, res, sleeper, b, count, emit)) co_return;  // gone or reset
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
// connection is reset instead. False when the stream must stop: the client left or was reset.
// `emit` and `sleeper` are the caller's named locals (stable references across suspensions).
template <class Emit>
http::Task<bool> write_deltas(http::Request& req, http::Response& res, Sleeper& sleeper, Behaviour b, int count,
                              Emit& emit) {
  using Clock = std::chrono::steady_clock;
  std::string event;
  auto due = Clock::now();
  for (int i = 0; i < count;) {
    if (i > 0) {
      due += b.gap;
      if (due > Clock::now() && !co_await sleeper.sleep_until(req, due)) co_return false;
    }
    event.clear();
    const auto now = Clock::now();
    for (;;) {
      if (i == b.reset_after) {
        if (!event.empty()) co_await res.write(event);
        res.abort();
        co_return false;
      }
      emit(i, event);
      ++i;
      if (i == count || b.gap.count() == 0 || due + b.gap > now) break;
      due += b.gap;
    }
    if (!co_await res.write(event)) co_return false;
  }
  if (b.reset_after == count) {
    res.abort();
    co_return false;
  }
  co_return true;
}

}  // namespace sy::mock
