#pragma once
// HttpPoster: blocking HTTP requests for a sender thread, over the gateway's http::Client
// (pooled keep-alive connections, TLS with verification) on a loop of the poster's own.
//
//   HttpPoster poster({});                                   // on the sender thread
//   auto reply = poster.send(url, "POST", "/import?strict=1", headers, body);
//   poster.cancel();                                         // from any thread: abort, now and later
//
// send() runs the poster's io_context until its exchange ends; only one thread may call it.
// This file keeps Asio out of the exporters.

#include <atomic>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"
#include "http/client.h"

namespace sy::exports {

struct HttpReply {
  int status = 0;
  std::string body;
  std::string retry_after;  // the Retry-After header, "" when absent
};

// 408, 429 and 5xx: the request may succeed later unchanged.
bool retryable_status(int status);
// Retry-After in delta-seconds form ("120") as milliseconds; -1 when absent or a date.
std::chrono::milliseconds parse_retry_after(std::string_view value);
// The start of an error body for messages and stats (at most 300 bytes, one line).
std::string body_excerpt(std::string_view body);

class HttpPoster {
 public:
  explicit HttpPoster(http::ClientOptions options);
  ~HttpPoster();
  HttpPoster(const HttpPoster&) = delete;
  HttpPoster& operator=(const HttpPoster&) = delete;

  // `target` is appended to the URL's base path. Connection errors and timeouts are errors;
  // any HTTP status is a reply.
  Result<HttpReply> send(const http::Url& url, std::string_view method, std::string_view target,
                         std::span<const http::Header> headers, std::string_view body);

  // Thread-safe: the request in flight fails at once, and so does every later one.
  void cancel();
  bool cancelled() const { return cancelled_.load(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace sy::exports
