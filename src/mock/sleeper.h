#pragma once
// Helpers the mock's protocol handlers share: a disconnect-aware sleep, a stable hash.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <string_view>

#include "http/message.h"

namespace sy::mock {

// A sleep that ends early when the client goes away.
class Sleeper final : public http::CancelHook {
 public:
  explicit Sleeper(boost::asio::any_io_executor ex) : timer_(std::move(ex)) {}
  void cancel() override { timer_.cancel(); }
  // False when cut short by a disconnect.
  http::Task<bool> sleep(http::Request& req, std::chrono::microseconds d) {
    if (d.count() <= 0) co_return !req.client_gone();
    co_return co_await sleep_until(req, std::chrono::steady_clock::now() + d);
  }
  http::Task<bool> sleep_until(http::Request& req, std::chrono::steady_clock::time_point t) {
    req.on_disconnect(this);
    timer_.expires_at(t);
    co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    req.on_disconnect(nullptr);
    co_return !req.client_gone();
  }

 private:
  boost::asio::steady_timer timer_;
};

inline uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return h;
}

}  // namespace sy::mock
