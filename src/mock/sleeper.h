#pragma once
// Helpers the mock's protocol handlers share: a disconnect-aware sleep, the count of
// requests in progress.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "http/message.h"
#include "mock/mock.h"

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

// Counts one completion request in MockStats while it lives.
class Active {
 public:
  explicit Active(MockStats& stats) : stats_(stats) {
    stats_.requests.fetch_add(1);
    stats_.active.fetch_add(1);
  }
  ~Active() { stats_.active.fetch_sub(1); }
  Active(const Active&) = delete;
  Active& operator=(const Active&) = delete;

 private:
  MockStats& stats_;
};

}  // namespace sy::mock
