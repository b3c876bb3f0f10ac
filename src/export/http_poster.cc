#include "export/http_poster.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <array>
#include <charconv>

namespace sy::exports {
namespace asio = boost::asio;

bool retryable_status(int status) { return status == 408 || status == 429 || status >= 500; }

std::chrono::milliseconds parse_retry_after(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || seconds < 0) return std::chrono::milliseconds(-1);
  return std::chrono::seconds(std::min<int64_t>(seconds, 86'400));
}

std::string body_excerpt(std::string_view body) {
  std::string out(body.substr(0, 300));
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

struct HttpPoster::Impl {
  explicit Impl(http::ClientOptions options) : client(std::move(options)) {}
  asio::io_context ioc{1};
  http::Client client;                    // destroyed before the loop its connections live on
  http::Exchange* in_flight = nullptr;    // touched only on the loop's thread
};

HttpPoster::HttpPoster(http::ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
HttpPoster::~HttpPoster() = default;

void HttpPoster::cancel() {
  cancelled_.store(true);
  // Runs on the loop: inside a send() in progress, or at the start of the next one.
  asio::post(impl_->ioc, [impl = impl_.get()] {
    if (impl->in_flight != nullptr) impl->in_flight->cancel();
  });
}

namespace {

Result<HttpReply> cancelled_error() { return fail(ErrorCode::kUnavailable, "the exporter is stopping"); }

http::Task<Result<HttpReply>> exchange(http::Client& client, http::Exchange*& in_flight, const std::atomic<bool>& cancelled,
                                       http::Url url, std::string method, std::string target,
                                       std::span<const http::Header> headers, std::string_view body) {
  auto ex = client.exchange(url);
  in_flight = ex.get();
  // cancel() sets the flag before posting its handler: checked here, after in_flight is set,
  // a cancel is either seen now or finds the exchange later.
  if (cancelled.load()) {
    in_flight = nullptr;
    co_return cancelled_error();
  }
  std::string full_target = url.path + target;
  if (full_target.empty()) full_target = "/";
  const std::array<std::string_view, 1> parts{body};
  auto sent = co_await ex->send({method, full_target, headers, parts});
  Result<HttpReply> out = HttpReply{};
  if (!sent) {
    out = tl::unexpected(sent.error());
  } else {
    out->status = ex->status();
    out->retry_after = std::string(ex->header("retry-after"));
    auto text = co_await ex->read_body();
    if (text) out->body = std::move(*text);
    else out = tl::unexpected(text.error());
  }
  in_flight = nullptr;
  if (!out && cancelled.load()) co_return cancelled_error();
  co_return out;
}

}  // namespace

Result<HttpReply> HttpPoster::send(const http::Url& url, std::string_view method, std::string_view target,
                                   std::span<const http::Header> headers, std::string_view body) {
  if (cancelled_.load()) return cancelled_error();
  Result<HttpReply> result = fail(ErrorCode::kInternal, "the request did not run");
  auto done = [&](std::exception_ptr e, Result<HttpReply> r) {
    result = e ? Result<HttpReply>(fail(ErrorCode::kInternal, "the request failed with an exception")) : std::move(r);
    impl_->ioc.stop();  // the client's deadline sweep would keep the loop busy
  };
  asio::co_spawn(impl_->ioc,
                 exchange(impl_->client, impl_->in_flight, cancelled_, url, std::string(method), std::string(target), headers, body),
                 std::move(done));
  impl_->ioc.restart();
  impl_->ioc.run();
  return result;
}

}  // namespace sy::exports
