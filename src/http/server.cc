#include "http/server.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/thread_name.h"
#include "http/io.h"
#include "http/wire.h"

namespace sy::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
constexpr auto kTuple = asio::as_tuple(use_awaitable);
constexpr auto kLingerTime = std::chrono::seconds(2);  // lingering close: longest drain
constexpr size_t kLingerBytes = 64 * 1024 * 1024;     // ... and most bytes discarded
constexpr size_t kReadSize = 16 * 1024;               // a whole typical request in one read
using io::Clock;
using io::kNoDeadline;

class Session;

// An io_context whose pending work can be destroyed on demand: the coroutine frames of
// requests still running when a drain timed out use the worker's sweep and handler, so they
// must go before those — while the sweep's timer must go before the io_context itself.
class WorkerContext : public asio::io_context {
 public:
  using asio::io_context::io_context;
  using asio::execution_context::shutdown;
};

struct Worker {
  explicit Worker(std::chrono::milliseconds tick) : sessions(tick) {}
  ~Worker() { ioc.shutdown(); }  // destroys the pending frames while everything they use lives
  WorkerContext ioc{1};
  std::optional<tcp::acceptor> acceptor;
  std::unique_ptr<Handler> handler;
  io::Sweep sessions;  // every open session; its ticks check their deadlines
  bool draining = false;
  std::thread thread;
};

// Shared with the disconnect watcher's completion handler, which may outlive the session.
struct WatchState {
  tcp::socket* socket = nullptr;  // valid while alive
  CancelHook* hook = nullptr;
  bool alive = true;
  bool armed = false;
  bool gone = false;
};

Method to_method(bhttp::verb v) {
  switch (v) {
    case bhttp::verb::get: return Method::kGet;
    case bhttp::verb::head: return Method::kHead;
    case bhttp::verb::post: return Method::kPost;
    case bhttp::verb::put: return Method::kPut;
    case bhttp::verb::patch: return Method::kPatch;
    case bhttp::verb::delete_: return Method::kDelete;
    case bhttp::verb::options: return Method::kOptions;
    default: return Method::kOther;
  }
}

class Session final : public Request, public Response, public io::Sweep::Entry {
 public:
  Session(Worker& worker, tcp::socket socket, const ServerLimits& limits)
      : worker_(worker), socket_(std::move(socket)), limits_(limits),
        watch_(std::make_shared<WatchState>()) {
    watch_->socket = &socket_;
    beast::error_code ec;
    socket_.non_blocking(true, ec);  // lets write_all() try a direct write first
    worker_.sessions.add(this, worker_.ioc.get_executor());
  }
  ~Session() override {
    watch_->alive = false;
    watch_->socket = nullptr;
    worker_.sessions.remove(this);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Task<void> run() {
    try {
      co_await loop();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "switchyard: session ended by exception: %s\n", e.what());
    }
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    socket_.close(ec);
  }

  // Called by the worker's sweep every tick: a read that has waited past its deadline is
  // cancelled, and a request still in its handler gets its disconnect watch.
  void on_tick(Clock::time_point now) override {
    if (watch_->hook != nullptr && !watch_->armed && !watch_->gone) arm_watch(watch_);
    if (deadline_ > now) return;
    deadline_ = kNoDeadline;
    timed_out_ = true;
    beast::error_code ec;
    socket_.cancel(ec);
  }

  // Drain: a connection between requests is closed now; one in a request closes after it.
  void close_if_idle() {
    if (!in_request_) {
      beast::error_code ec;
      socket_.cancel(ec);
    }
  }

  // Request
  Method method() const override { return to_method(msg().method()); }
  std::string_view method_name() const override { return std::string_view(msg().method_string()); }
  std::string_view target() const override { return std::string_view(msg().target()); }
  std::string_view header(std::string_view name) const override { return find_header(msg(), name); }
  size_t header_count() const override { return static_cast<size_t>(std::distance(msg().begin(), msg().end())); }
  Header header_at(size_t i) const override {
    auto it = msg().begin();
    std::advance(it, static_cast<std::ptrdiff_t>(i));
    return {std::string_view(it->name_string()), std::string_view(it->value())};
  }
  std::string& body() override { return parser_->get().body(); }
  void on_disconnect(CancelHook* hook) override {
    watch_->hook = hook;  // the sweep arms the watch if the request lasts past one tick
  }
  bool client_gone() const override { return watch_->gone || write_failed_; }

  // Response
  Task<bool> send(int status, std::string_view content_type, std::string_view body,
                  std::span<const Header> headers) override {
    started_ = true;
    status_ = status;
    head_.clear();
    append_head(head_, status, content_type, headers, !keep_going());
    fmt::format_to(std::back_inserter(head_), "content-length: {}\r\n\r\n", body.size());
    const std::array<asio::const_buffer, 2> bufs{asio::buffer(head_), asio::buffer(body)};
    co_return co_await write_all(bufs);
  }
  Task<bool> begin_stream(int status, std::string_view content_type,
                          std::span<const Header> headers) override {
    started_ = true;
    status_ = status;
    streaming_ = true;
    if (buffer_.size() == 0) buffer_.shrink_to_fit();  // a stream may last minutes: hold no read buffer
    head_.clear();
    append_head(head_, status, content_type, headers, !keep_going());
    head_ += "transfer-encoding: chunked\r\n\r\n";
    co_return co_await write_all(std::array<asio::const_buffer, 1>{asio::buffer(head_)});
  }
  Task<bool> write(std::string_view data) override {
    if (data.empty()) co_return !client_gone();
    char size_line[24];
    const auto end = fmt::format_to(size_line, "{:x}\r\n", data.size());
    const std::array<asio::const_buffer, 3> bufs{
        asio::buffer(size_line, static_cast<size_t>(end - size_line)), asio::buffer(data),
        asio::buffer("\r\n", 2)};
    co_return co_await write_all(bufs);
  }
  Task<bool> end_stream() override {
    streaming_ = false;
    co_return co_await write_all(std::array<asio::const_buffer, 1>{asio::buffer("0\r\n\r\n", 5)});
  }
  bool started() const override { return started_; }
  int status() const override { return status_; }
  void abort() override {
    write_failed_ = true;
    beast::error_code ec;
    socket_.set_option(asio::socket_base::linger(true, 0), ec);
    socket_.close(ec);
  }

 private:
  const bhttp::request<bhttp::string_body>& msg() const { return parser_->get(); }

  bool keep_going() const { return keep_alive_ && !worker_.draining; }

  template <class Buffers>
  Task<bool> write_all(const Buffers& bufs) {
    if (write_failed_) co_return false;
    if (const beast::error_code ec = co_await io::write_all(socket_, bufs); ec) {
      write_failed_ = true;
      if (watch_->hook != nullptr) watch_->hook->cancel();
      co_return false;
    }
    co_return true;
  }

  // Watches for the client going away while a handler works on its request. Armed by the
  // sweep, so that quick requests never pay for it; left pending after the request
  // (cancelling it would cost a trip through the event loop), it completes with the next
  // request's bytes and then finds no hook, or that request's hook.
  static void arm_watch(const std::shared_ptr<WatchState>& watch) {
    watch->armed = true;
    watch->socket->async_wait(tcp::socket::wait_read, [w = watch](beast::error_code ec) {
      w->armed = false;
      if (!w->alive || ec || w->hook == nullptr) return;
      char c = 0;
      const ssize_t n = ::recv(w->socket->native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        w->gone = true;
        w->hook->cancel();
      } else if (n < 0) {
        arm_watch(w);  // the bytes that woke us were the request's own, already read
      }
      // n > 0: the client pipelined its next request; it is still there.
    });
  }

  void disarm_watch() { watch_->hook = nullptr; }

  Task<void> send_error(ErrorCode code, std::string message) {
    keep_alive_ = false;
    const Error err{code, std::move(message), {}, 0};
    const std::string_view path = parser_ && parser_->is_header_done() ? std::string_view(parser_->get().target()) : std::string_view("/");
    const std::string body = worker_.handler->error_body(err, path.substr(0, path.find('?')));
    co_await send(http_status(code), "application/json", body, {});
  }

  Task<void> loop() {
    for (;;) {
      in_request_ = false;
      if (worker_.draining) co_return;
      if (buffer_.size() == 0) {
        auto ec = co_await read_more(limits_.idle_timeout);
        if (ec) co_return;  // closed, idle timeout, or drained
      }
      in_request_ = true;
      if (auto ec = co_await read_request(); ec) {
        if (co_await answer_read_error(ec)) co_await linger();
        co_return;
      }
      keep_alive_ = parser_->get().keep_alive();
      started_ = streaming_ = write_failed_ = false;
      status_ = 0;
      co_await worker_.handler->handle(*this, *this);
      disarm_watch();
      if (!started_) {
        std::string message = "the handler sent no response";
        co_await send_error(ErrorCode::kInternal, std::move(message));
      }
      if (streaming_ || write_failed_ || watch_->gone || !keep_going()) co_return;
    }
  }

  // Reads what has arrived into buffer_, waiting at most `timeout`.
  Task<beast::error_code> read_more(std::chrono::milliseconds timeout) {
    deadline_ = Clock::now() + timeout;
    timed_out_ = false;
    auto [ec, n] = co_await socket_.async_read_some(buffer_.prepare(kReadSize), kTuple);
    deadline_ = kNoDeadline;
    if (ec == asio::error::operation_aborted && timed_out_) co_return beast::error::timeout;
    if (!ec) buffer_.commit(n);
    co_return ec;
  }

  // Parses one request from buffer_, reading more as needed within limits.read_timeout.
  Task<beast::error_code> read_request() {
    parser_.emplace();
    parser_->eager(true);
    parser_->header_limit(static_cast<std::uint32_t>(limits_.header_bytes));
    parser_->body_limit(limits_.body_bytes);
    const auto deadline = Clock::now() + limits_.read_timeout;
    for (;;) {
      if (buffer_.size() > 0) {
        beast::error_code ec;
        buffer_.consume(parser_->put(buffer_.data(), ec));
        if (ec && ec != bhttp::error::need_more) co_return ec;
        if (parser_->is_done()) co_return beast::error_code{};
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) co_return beast::error::timeout;
      auto ec = co_await read_more(left);
      if (ec == asio::error::eof) {
        if (!parser_->got_some()) co_return bhttp::error::end_of_stream;
        parser_->put_eof(ec);
        co_return ec ? ec : bhttp::error::partial_message;
      }
      if (ec) co_return ec;
    }
  }

  // After an error answer to a request whose body is still arriving: stop sending, then read
  // and discard for a moment, so the client can finish writing and read the answer instead of
  // meeting a reset (what nginx calls a lingering close).
  Task<void> linger() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    deadline_ = Clock::now() + kLingerTime;
    std::array<char, 8192> scratch;
    size_t total = 0;
    while (total < kLingerBytes) {
      auto [rec, n] = co_await socket_.async_read_some(asio::buffer(scratch), kTuple);
      if (rec) break;
      total += n;
    }
    deadline_ = kNoDeadline;
  }

  // Answers a request that could not be read; true when an answer was sent.
  Task<bool> answer_read_error(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      std::string message = fmt::format("request body is larger than the limit of {} bytes (limits.body_bytes); send a smaller request", limits_.body_bytes);
      co_await send_error(ErrorCode::kPayloadTooLarge, std::move(message));
      co_return true;
    } else if (ec == bhttp::error::header_limit) {
      std::string message = fmt::format("request line and headers exceed the limit of {} bytes (limits.header_bytes)", limits_.header_bytes);
      co_await send_error(ErrorCode::kHeaderTooLarge, std::move(message));
      co_return true;
    } else if (ec == beast::error::timeout) {
      if (parser_->is_header_done() || buffer_.size() > 0) {
        std::string message = fmt::format("the request was not received within {} ms (limits.read_timeout_ms)", limits_.read_timeout.count());
        co_await send_error(ErrorCode::kRequestTimeout, std::move(message));
        co_return false;
      }
    } else if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
               ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      std::string message = fmt::format("malformed HTTP request: {}", ec.message());
      co_await send_error(ErrorCode::kInvalidRequest, std::move(message));
      co_return true;
    }
    // Otherwise the connection closed or failed: nobody to answer.
    co_return false;
  }

  Worker& worker_;
  tcp::socket socket_;
  const ServerLimits& limits_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string head_;
  std::shared_ptr<WatchState> watch_;
  Clock::time_point deadline_ = kNoDeadline;
  bool timed_out_ = false;
  bool in_request_ = false;
  bool keep_alive_ = true;
  bool started_ = false;
  int status_ = 0;
  bool streaming_ = false;
  bool write_failed_ = false;
};

Task<void> run_session(Worker& worker, tcp::socket socket, const ServerLimits& limits) {
  Session session(worker, std::move(socket), limits);
  co_await session.run();
}

Task<void> accept_loop(Worker& worker, const ServerLimits& limits) {
  for (;;) {
    auto [ec, socket] = co_await worker.acceptor->async_accept(kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !worker.acceptor->is_open()) co_return;
      // Out of descriptors or similar: back off briefly instead of spinning.
      asio::steady_timer t(worker.ioc, std::chrono::milliseconds(50));
      co_await t.async_wait(kTuple);
      continue;
    }
    beast::error_code opt_ec;
    socket.set_option(tcp::no_delay(true), opt_ec);
    asio::co_spawn(worker.ioc, run_session(worker, std::move(socket), limits), asio::detached);
  }
}

}  // namespace

std::string_view reason_phrase(int status) {
  return std::string_view(bhttp::obsolete_reason(static_cast<bhttp::status>(status)));
}

struct Server::Impl {
  ServerOptions options;
  HandlerFactory factory;
  std::vector<std::unique_ptr<Worker>> workers;
  uint16_t port = 0;
  std::mutex mu;
  std::condition_variable stopped_cv;
  int running = 0;
  std::atomic<bool> draining{false};
  std::thread watchdog;
};

Server::Server(ServerOptions options, HandlerFactory factory) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->factory = std::move(factory);
}

Server::~Server() {
  if (!impl_->workers.empty()) {
    drain();
    wait();
  }
}

Result<uint16_t> Server::start() {
  auto& o = impl_->options;
  int n = o.workers > 0 ? o.workers : static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  beast::error_code ec;
  const auto address = asio::ip::make_address(o.host, ec);
  if (ec) return fail(ErrorCode::kInvalidRequest, fmt::format("listen address '{}' is not an IP address", o.host));
  uint16_t port = o.port;
  for (int i = 0; i < n; ++i) {
    // Timeouts are noticed within a tick: a tenth of the shortest, at most 100 ms.
    auto w = std::make_unique<Worker>(std::clamp(std::min(o.limits.read_timeout, o.limits.idle_timeout) / 10,
                                                 std::chrono::milliseconds(5), std::chrono::milliseconds(100)));
    w->handler = impl_->factory(i);
    w->acceptor.emplace(w->ioc);
    const tcp::endpoint ep(address, port);
    w->acceptor->open(ep.protocol(), ec);
    if (!ec) w->acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) w->acceptor->set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), ec);
    if (!ec) w->acceptor->bind(ep, ec);
    if (!ec) w->acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return fail(ErrorCode::kUnavailable,
                  fmt::format("cannot listen on {}:{}: {}", o.host, port, ec.message()));
    }
    port = w->acceptor->local_endpoint().port();
    impl_->workers.push_back(std::move(w));
  }
  impl_->port = port;
  impl_->running = n;
  for (size_t i = 0; i < impl_->workers.size(); ++i) {
    Worker* const wp = impl_->workers[i].get();
    asio::co_spawn(wp->ioc, accept_loop(*wp, o.limits), asio::detached);
    wp->thread = std::thread([this, wp, i] {
      name_this_thread(fmt::format("{}-{}", impl_->options.thread_name, i));
      wp->ioc.run();
      std::lock_guard lock(impl_->mu);
      --impl_->running;
      impl_->stopped_cv.notify_all();
    });
  }
  return port;
}

void Server::drain() {
  if (impl_->draining.exchange(true)) return;
  for (auto& w : impl_->workers) {
    asio::post(w->ioc, [wp = w.get()] {
      wp->draining = true;
      beast::error_code ec;
      wp->acceptor->close(ec);
      wp->sessions.for_each([](io::Sweep::Entry* e) { static_cast<Session*>(e)->close_if_idle(); });
    });
  }
  impl_->watchdog = std::thread([this] {
    name_this_thread(impl_->options.thread_name + "-drain");
    std::unique_lock lock(impl_->mu);
    if (!impl_->stopped_cv.wait_for(lock, impl_->options.limits.drain_timeout,
                                    [this] { return impl_->running == 0; })) {
      for (auto& w : impl_->workers) w->ioc.stop();
    }
  });
}

void Server::wait() {
  for (auto& w : impl_->workers) {
    if (w->thread.joinable()) w->thread.join();
  }
  if (impl_->watchdog.joinable()) impl_->watchdog.join();
}

uint16_t Server::port() const { return impl_->port; }
int Server::workers() const { return static_cast<int>(impl_->workers.size()); }

}  // namespace sy::http
