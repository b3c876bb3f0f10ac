#pragma once
// Internal to http/: what the server and the upstream client share at the socket level.
//
//   io::Sweep sweep(std::chrono::milliseconds(100));
//   sweep.add(&entry, executor);           // entry.on_tick(now) runs every tick until removed
//   auto ec = co_await io::write_all(socket, buffers);
//
// Both keep system calls off the request path: a timer armed and cancelled around every read
// would reprogram the kernel timer several times per request, and an asynchronous write that
// could have completed at once costs a trip through the event loop.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "http/task.h"

namespace sy::http::io {

using Clock = std::chrono::steady_clock;
constexpr auto kNoDeadline = Clock::time_point::max();

// Writes all of `bufs` to a non-blocking socket: one direct write first, which usually takes
// everything, then the remainder (if any) asynchronously.
template <class Buffers>
Task<boost::system::error_code> write_all(boost::asio::ip::tcp::socket& socket, const Buffers& bufs) {
  boost::system::error_code ec;
  const size_t n = socket.write_some(bufs, ec);
  if (!ec && n == boost::asio::buffer_size(bufs)) co_return ec;
  if (ec && ec != boost::asio::error::would_block && ec != boost::asio::error::try_again) co_return ec;
  boost::beast::buffers_suffix<Buffers> rest(bufs);
  rest.consume(ec ? 0 : n);
  std::tie(ec, std::ignore) = co_await boost::asio::async_write(socket, rest, boost::asio::as_tuple(boost::asio::use_awaitable));
  co_return ec;
}

// Coarse timeouts for many sockets: one timer that wakes every tick, while there are entries,
// and gives each entry the time; an entry cancels whatever has waited past its deadline. After
// a burst of entries has gone, the memory it took is handed back to the system.
class Sweep {
 public:
  class Entry {
   public:
    virtual ~Entry() = default;
    // Must not add or remove entries (cancelling a socket's operations is fine).
    virtual void on_tick(Clock::time_point now) = 0;

   private:
    friend class Sweep;
    size_t index_ = 0;
  };

  explicit Sweep(std::chrono::milliseconds tick) : tick_(tick) {}
  ~Sweep() { *alive_ = false; }
  Sweep(const Sweep&) = delete;
  Sweep& operator=(const Sweep&) = delete;

  void add(Entry* e, const boost::asio::any_io_executor& ex);
  void remove(Entry* e);
  template <class F>
  void for_each(F f) const {
    for (Entry* e : entries_) f(e);
  }

 private:
  static Task<void> run(Sweep* self, std::shared_ptr<bool> alive);

  std::chrono::milliseconds tick_;
  std::vector<Entry*> entries_;
  std::optional<boost::asio::steady_timer> timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool running_ = false;
};

}  // namespace sy::http::io
