#include "http/fetch.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace sy::http {
namespace {

Task<Result<FetchResult>> run(Client& client, Url url, OutRequest request) {
  auto ex = client.exchange(url);
  if (auto sent = co_await ex->send(request); !sent) co_return tl::unexpected(sent.error());
  FetchResult out;
  out.status = ex->status();
  out.content_type = std::string(ex->header("content-type"));
  out.etag = std::string(ex->header("etag"));
  auto body = co_await ex->read_body();
  if (!body) co_return tl::unexpected(body.error());
  out.body = std::move(*body);
  co_return out;
}

}  // namespace

Result<FetchResult> fetch(const Url& url, OutRequest request, ClientOptions options) {
  boost::asio::io_context ioc;
  Result<FetchResult> result = fail(ErrorCode::kInternal, "the request did not run");
  {
    Client client(options);
    boost::asio::co_spawn(ioc, run(client, url, request), [&](std::exception_ptr e, Result<FetchResult> r) {
      result = e ? Result<FetchResult>(fail(ErrorCode::kInternal, "the request failed with an exception")) : std::move(r);
      ioc.stop();  // the client's deadline sweep would keep the loop busy for another tick
    });
    ioc.run();
  }
  return result;
}

}  // namespace sy::http
