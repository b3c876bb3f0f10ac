#include "harness.h"

#include <array>
#include <boost/asio.hpp>
#include <future>
#include <stdexcept>

namespace sy::testing {
namespace {

namespace asio = boost::asio;

constexpr std::array<std::string_view, 20> kCaptured{
    "x-switchyard-request-id", "x-switchyard-model", "x-switchyard-provider", "retry-after", "content-type",
    "allow", "x-upstream-request-id", "connection", "x-switchyard-router", "x-switchyard-router-version",
    "x-switchyard-route", "x-switchyard-variant", "x-switchyard-routing-reason", "etag", "location",
    "www-authenticate", "content-length", "x-switchyard-cost-usd", "x-switchyard-token-count",
    "x-switchyard-attempts"};

asio::io_context& loop() {
  static asio::io_context ioc;
  return ioc;
}

void capture(const http::Exchange& ex, Reply& reply) {
  reply.status = ex.status();
  for (auto name : kCaptured) {
    if (auto v = ex.header(name); !v.empty()) reply.headers[std::string(name)] = std::string(v);
  }
}

http::Url url(int port) { return *http::Url::parse("http://127.0.0.1:" + std::to_string(port)); }

// Runs `body` on a loop of its own, so any thread may call; the client dies before the loop.
template <class F>
void run_alone(F body) {
  asio::io_context ioc;
  std::exception_ptr error;
  {
    http::Client client;
    // Stop when the body is done: the client's deadline sweep would keep the loop busy.
    asio::co_spawn(ioc, body(client), [&](std::exception_ptr e) {
      error = e;
      ioc.stop();
    });
    ioc.run();
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace

void run(const std::function<http::Task<void>()>& body) {
  std::promise<void> done;
  asio::co_spawn(loop(), body(), [&](std::exception_ptr e) {
    if (e) done.set_exception(e);
    else done.set_value();
  });
  loop().restart();
  loop().run();
  done.get_future().get();
}

Reply call(int port, std::string_view method, std::string_view target, std::string_view body,
           std::span<const http::Header> headers) {
  Reply reply;
  run_alone([&](http::Client& client) -> http::Task<void> {
    auto ex = client.exchange(url(port));
    const std::array<std::string_view, 1> parts{body};
    auto r = co_await ex->send({method, target, headers, parts});
    if (!r) throw std::runtime_error(r.error().message);
    capture(*ex, reply);
    auto text = co_await ex->read_body();
    if (!text) throw std::runtime_error(text.error().message);
    reply.body = *text;
  });
  return reply;
}

Reply stream(int port, std::string_view target, std::string_view body, std::span<const http::Header> headers,
             const std::function<void(std::string_view)>& on_piece) {
  Reply reply;
  run_alone([&](http::Client& client) -> http::Task<void> {
    auto ex = client.exchange(url(port));
    const std::array<std::string_view, 1> parts{body};
    auto r = co_await ex->send({"POST", target, headers, parts});
    if (!r) throw std::runtime_error(r.error().message);
    capture(*ex, reply);
    for (;;) {
      auto piece = co_await ex->read_some();
      if (!piece) throw std::runtime_error(piece.error().message);
      if (piece->empty()) break;
      reply.body.append(*piece);
      on_piece(*piece);
    }
  });
  return reply;
}

std::string chat_body(std::string_view model, bool stream, std::string_view extra) {
  return std::string(R"({"model":")") + std::string(model) + R"(","messages":[{"role":"user","content":"Hello there"}])" +
         (stream ? R"(,"stream":true)" : "") + std::string(extra) + "}";
}

}  // namespace sy::testing
