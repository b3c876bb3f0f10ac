#pragma once
// The HTTP/1.1 server: N workers, each an io_context with its own SO_REUSEPORT listener.
//
//   http::Server server(options, [](int worker) { return std::make_unique<MyHandler>(); });
//   auto port = server.start();        // binds and runs the workers
//   server.drain();                    // on SIGTERM: stop accepting, finish what is in flight
//
// Handlers are created one per worker (share nothing); each is only called on its worker.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/error.h"
#include "core/result.h"
#include "http/message.h"

namespace sy::http {

struct ServerLimits {
  size_t header_bytes = 16 * 1024;                 // request line + headers; over it: 431
  size_t body_bytes = 32 * 1024 * 1024;            // request body; over it: 413
  std::chrono::milliseconds read_timeout{30'000};  // to receive a whole request; over it: 408
  std::chrono::milliseconds idle_timeout{75'000};  // keep-alive connection with no request
  std::chrono::milliseconds drain_timeout{30'000}; // graceful shutdown: longest wait for streams
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: pick a free port (see Server::port)
  int workers = 0;       // 0: one per core
  ServerLimits limits;
  // Workers' threads are named "<thread_name>-<i>" (top -H, perf, gdb); 15 bytes are kept.
  std::string thread_name = "sy-http";
};

class Handler {
 public:
  virtual ~Handler() = default;
  virtual Task<void> handle(Request& req, Response& res) = 0;
  // The body of an error the server produces itself (bad request line, 413, 431, 408),
  // in the dialect of the endpoint `path` names.
  virtual std::string error_body(const Error& error, std::string_view path) const = 0;
};

using HandlerFactory = std::function<std::unique_ptr<Handler>(int worker)>;

class Server {
 public:
  Server(ServerOptions options, HandlerFactory factory);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every worker's listener and starts the worker threads. Returns the bound port.
  Result<uint16_t> start();
  // Stops accepting, closes idle connections, lets requests and streams in flight finish
  // (up to limits.drain_timeout), then stops the workers. Safe to call from any thread.
  void drain();
  // Blocks until the workers have stopped.
  void wait();
  uint16_t port() const;
  int workers() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sy::http
