#pragma once
// The upstream HTTP/1.1 client: keep-alive connection pools per worker, TLS with verification.
//
//   Client client(io_executor_of_this_worker, {});
//   auto ex = client.exchange(*Url::parse("https://api.openai.com/v1"));
//   if (auto r = co_await ex->send({"POST", "/v1/chat/completions", headers, body_parts}); !r) ...
//   while (auto piece = co_await ex->read_some()) { if (piece->empty()) break; relay(*piece); }
//
// A Client belongs to one worker thread and is used only there (no locks). An Exchange returns
// its connection to the pool when it is destroyed after a complete, reusable response.
// Pooled connections live on the io_context they were opened on: destroy the Client first.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"
#include "http/message.h"

namespace sy::http {

struct Url {
  bool tls = false;
  std::string host;
  uint16_t port = 80;
  std::string path;  // base path without a trailing slash: "/v1"

  // "http://127.0.0.1:9000", "https://api.openai.com/v1". Errors name what is wrong.
  static Result<Url> parse(std::string_view text);
  std::string origin() const;  // "https://api.openai.com:443", the pool key
};

// A client's connection counts, kept by its pool and readable from any thread (the metrics
// endpoint reads every worker's). `open` counts connections established and not yet closed,
// idle ones included.
struct PoolCounters {
  std::atomic<long> open{0};
  std::atomic<long> idle{0};
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{10'000};  // TCP connect + TLS handshake
  std::chrono::milliseconds read_timeout{300'000};    // longest silence while reading a response
  size_t max_idle_per_origin = 256;                   // pooled idle connections kept per origin
  std::chrono::milliseconds idle_ttl{50'000};         // an idle connection older than this is closed
  size_t max_body_bytes = 64 * 1024 * 1024;           // read_body() limit
  bool verify_tls = true;                             // certificate and host name checks
  std::string ca_file;                                // extra trusted CAs (PEM), besides the system's
  PoolCounters* counters = nullptr;                   // where the pool counts; it owns its own if null
};

struct OutRequest {
  std::string_view method = "POST";
  std::string_view target;                  // path and query
  std::span<const Header> headers;          // host and content-length are added
  std::span<const std::string_view> body;   // written as one gather write
};

class Exchange : public CancelHook {
 public:
  ~Exchange() override = default;
  // Connects (or reuses a pooled connection), writes the request and reads the response head.
  virtual Task<Result<bool>> send(OutRequest request) = 0;
  virtual int status() const = 0;
  virtual std::string_view header(std::string_view name) const = 0;
  // The next piece of the body as it arrives (chunked framing removed); empty at the end.
  virtual Task<Result<std::string_view>> read_some() = 0;
  // The whole remaining body (up to ClientOptions::max_body_bytes).
  virtual Task<Result<std::string>> read_body() = 0;
};

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  std::unique_ptr<Exchange> exchange(const Url& url);
  const PoolCounters& counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  friend class PooledExchange;
};

}  // namespace sy::http
