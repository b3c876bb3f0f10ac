#pragma once
// Our own small request/response types: what handlers see of HTTP.
//
//   Task<void> handle(Request& req, Response& res) {
//     if (req.method() != Method::kGet) co_return co_await res.send(405, "text/plain", "no");
//     co_await res.begin_stream(200, "text/event-stream", {});  co_await res.write("data: x\n\n");
//     co_await res.end_stream();
//   }

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "http/task.h"

namespace sy::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

struct Header {
  std::string_view name;
  std::string_view value;
};

// Something that can abort an operation in flight (an upstream exchange) when the client leaves.
class CancelHook {
 public:
  virtual ~CancelHook() = default;
  virtual void cancel() = 0;
};

// A parsed request, valid for the duration of the handler. Header lookup is case-insensitive.
class Request {
 public:
  virtual ~Request() = default;
  virtual Method method() const = 0;
  virtual std::string_view method_name() const = 0;
  virtual std::string_view target() const = 0;  // path and query as received
  virtual std::string_view header(std::string_view name) const = 0;  // "" when absent
  // Calls f(name, value) for each header field, in order.
  template <class F>
  void for_each_header(F&& f) const {
    for (size_t i = 0, n = header_count(); i < n; ++i) {
      const Header h = header_at(i);
      f(h.name, h.value);
    }
  }
  virtual size_t header_count() const = 0;
  virtual Header header_at(size_t i) const = 0;
  // The body; handlers may edit it in place (it is theirs until they return).
  virtual std::string& body() = 0;
  // While `hook` is set, a client disconnect calls hook->cancel() (noticed within one tick of
  // the server's deadline sweep, at most 100 ms). Pass nullptr to clear.
  virtual void on_disconnect(CancelHook* hook) = 0;
  // True once the client is known to have gone away.
  virtual bool client_gone() const = 0;

  std::string_view path() const {
    const std::string_view t = target();
    return t.substr(0, t.find('?'));
  }

 protected:
  Request() = default;
  Request(const Request&) = default;
  Request& operator=(const Request&) = default;
};

// Writes one response: either send() once, or begin_stream(), write()*, end_stream().
// Every call returns false when the client is gone; the handler should then stop.
class Response {
 public:
  virtual ~Response() = default;
  virtual Task<bool> send(int status, std::string_view content_type, std::string_view body,
                          std::span<const Header> headers = {}) = 0;
  virtual Task<bool> begin_stream(int status, std::string_view content_type,
                                  std::span<const Header> headers = {}) = 0;
  virtual Task<bool> write(std::string_view data) = 0;
  virtual Task<bool> end_stream() = 0;
  virtual bool started() const = 0;
  virtual int status() const = 0;  // the status sent; 0 before
  // Drops the connection at once with a TCP reset (a fault the mock upstream injects).
  virtual void abort() = 0;

 protected:
  Response() = default;
  Response(const Response&) = default;
  Response& operator=(const Response&) = default;
};

std::string_view reason_phrase(int status);

}  // namespace sy::http
