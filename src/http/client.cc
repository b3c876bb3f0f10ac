#include "http/client.h"

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <deque>
#include <optional>
#include <unordered_map>
#include <variant>

#include <fmt/format.h>

namespace sy::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
using PlainStream = beast::tcp_stream;
using TlsStream = ssl::stream<beast::tcp_stream>;

struct Connection {
  std::variant<PlainStream, TlsStream> stream;
  beast::flat_buffer buffer;
  Clock::time_point idle_since{};

  beast::tcp_stream& tcp() {
    if (auto* p = std::get_if<PlainStream>(&stream)) return *p;
    return beast::get_lowest_layer(std::get<TlsStream>(stream));
  }
};

Error io_error(ErrorCode code, std::string_view what, const Url& url, beast::error_code ec) {
  return Error{code, fmt::format("{} {}: {}", what, url.origin(), ec.message()), {}, 0};
}
}  // namespace

Result<Url> Url::parse(std::string_view text) {
  Url u;
  if (text.starts_with("https://")) {
    u.tls = true;
    u.port = 443;
    text.remove_prefix(8);
  } else if (text.starts_with("http://")) {
    text.remove_prefix(7);
  } else {
    return fail(ErrorCode::kInvalidRequest, fmt::format("base_url '{}' must start with http:// or https://", text));
  }
  const size_t slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : text.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  u.path = std::string(path);
  const size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    const std::string_view port = authority.substr(colon + 1);
    unsigned p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || ptr != port.data() + port.size() || p == 0 || p > 65535) {
      return fail(ErrorCode::kInvalidRequest, fmt::format("base_url has an invalid port '{}'", port));
    }
    u.port = static_cast<uint16_t>(p);
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) return fail(ErrorCode::kInvalidRequest, "base_url has no host");
  u.host = std::string(authority);
  return u;
}

std::string Url::origin() const { return fmt::format("{}://{}:{}", tls ? "https" : "http", host, port); }

struct Client::Impl {
  ClientOptions options;
  ssl::context tls{ssl::context::tls_client};
  std::unordered_map<std::string, std::deque<std::unique_ptr<Connection>>> idle;

  std::unique_ptr<Connection> take_idle(const std::string& origin) {
    auto it = idle.find(origin);
    if (it == idle.end()) return nullptr;
    auto& q = it->second;
    const auto now = Clock::now();
    while (!q.empty()) {
      std::unique_ptr<Connection> c = std::move(q.back());
      q.pop_back();
      if (now - c->idle_since < options.idle_ttl) return c;
    }
    return nullptr;
  }

  void give_back(const std::string& origin, std::unique_ptr<Connection> c) {
    auto& q = idle[origin];
    if (q.size() >= options.max_idle_per_origin) return;
    c->idle_since = Clock::now();
    q.push_back(std::move(c));
  }
};

class PooledExchange final : public Exchange {
 public:
  PooledExchange(Client::Impl& pool, Url url) : pool_(pool), url_(std::move(url)), origin_(url_.origin()) {}
  ~PooledExchange() override {
    if (conn_ && reusable_ && parser_ && parser_->is_done() && parser_->get().keep_alive()) {
      pool_.give_back(origin_, std::move(conn_));
    }
  }
  PooledExchange(const PooledExchange&) = delete;
  PooledExchange& operator=(const PooledExchange&) = delete;

  void cancel() override {
    cancelled_ = true;
    reusable_ = false;
    if (conn_) {
      beast::error_code ec;
      conn_->tcp().socket().cancel(ec);
      conn_->tcp().socket().close(ec);
    }
  }

  Task<Result<bool>> send(OutRequest req) override {
    head_.clear();
    size_t body_size = 0;
    for (auto part : req.body) body_size += part.size();
    fmt::format_to(std::back_inserter(head_), "{} {} HTTP/1.1\r\nhost: {}\r\n", req.method, req.target, url_.host);
    for (const Header& h : req.headers) {
      head_ += h.name;
      head_ += ": ";
      head_ += h.value;
      head_ += "\r\n";
    }
    fmt::format_to(std::back_inserter(head_), "content-length: {}\r\n\r\n", body_size);
    buffers_.clear();
    buffers_.emplace_back(head_.data(), head_.size());
    for (auto part : req.body) buffers_.emplace_back(part.data(), part.size());

    // A pooled connection may have been closed by the server while idle: if it fails before
    // any byte of the response arrived, try once more on a fresh connection.
    for (int attempt = 0; attempt < 2; ++attempt) {
      conn_ = pool_.take_idle(origin_);
      const bool reused = conn_ != nullptr;
      if (!reused) {
        auto c = co_await connect();
        if (!c) co_return tl::unexpected(c.error());
      }
      auto r = co_await write_and_read_head();
      if (r || !reused || cancelled_ || !stale_) co_return r;
    }
    co_return fail(ErrorCode::kUpstreamUnreachable, fmt::format("cannot reach {}", origin_));
  }

  int status() const override { return parser_ ? static_cast<int>(parser_->get().result_int()) : 0; }

  std::string_view header(std::string_view name) const override {
    if (!parser_) return {};
    auto it = parser_->get().find(name);
    return it == parser_->get().end() ? std::string_view{} : std::string_view(it->value());
  }

  Task<Result<std::string_view>> read_some() override {
    while (!parser_->is_done()) {
      auto& body = parser_->get().body();
      body.data = chunk_;
      body.size = sizeof(chunk_);
      conn_->tcp().expires_after(pool_.options.read_timeout);
      beast::error_code ec;
      if (auto* p = std::get_if<PlainStream>(&conn_->stream)) {
        std::tie(ec, std::ignore) = co_await bhttp::async_read_some(*p, conn_->buffer, *parser_, kTuple);
      } else {
        std::tie(ec, std::ignore) = co_await bhttp::async_read_some(std::get<TlsStream>(conn_->stream), conn_->buffer, *parser_, kTuple);
      }
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) {
        reusable_ = false;
        co_return tl::unexpected(read_error(ec));
      }
      const size_t n = sizeof(chunk_) - parser_->get().body().size;
      if (n > 0) co_return std::string_view(chunk_, n);
    }
    co_return std::string_view{};
  }

  Task<Result<std::string>> read_body() override {
    std::string out;
    for (;;) {
      auto piece = co_await read_some();
      if (!piece) co_return tl::unexpected(piece.error());
      if (piece->empty()) co_return out;
      if (out.size() + piece->size() > pool_.options.max_body_bytes) {
        reusable_ = false;
        co_return fail(ErrorCode::kUpstreamError, fmt::format("the response from {} exceeds {} bytes", origin_, pool_.options.max_body_bytes));
      }
      out.append(*piece);
    }
  }

 private:
  Error read_error(beast::error_code ec) const {
    if (cancelled_) return Error{ErrorCode::kUnavailable, "the request was cancelled", {}, 0};
    if (ec == beast::error::timeout) {
      return Error{ErrorCode::kUpstreamTimeout, fmt::format("{} sent nothing for {} ms", origin_, pool_.options.read_timeout.count()), {}, 0};
    }
    return io_error(ErrorCode::kUpstreamUnreachable, "connection lost reading from", url_, ec);
  }

  Task<Result<bool>> connect() {
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    const std::string port = std::to_string(url_.port);
    auto [rec, endpoints] = co_await resolver.async_resolve(url_.host, port, kTuple);
    if (rec) co_return tl::unexpected(io_error(ErrorCode::kUpstreamUnreachable, "cannot resolve", url_, rec));
    auto c = std::make_unique<Connection>(Connection{PlainStream(ex), {}, {}});
    if (url_.tls) c->stream.emplace<TlsStream>(beast::tcp_stream(ex), pool_.tls);
    conn_ = std::move(c);
    if (cancelled_) co_return fail(ErrorCode::kUnavailable, "the request was cancelled");
    auto& stream = conn_->tcp();
    stream.expires_after(pool_.options.connect_timeout);
    auto [cec, ep] = co_await stream.async_connect(endpoints, kTuple);
    if (cec) {
      if (cec == beast::error::timeout) co_return tl::unexpected(Error{ErrorCode::kUpstreamTimeout, fmt::format("connecting to {} timed out", origin_), {}, 0});
      co_return tl::unexpected(io_error(ErrorCode::kUpstreamUnreachable, "cannot connect to", url_, cec));
    }
    stream.socket().set_option(tcp::no_delay(true), cec);
    if (auto* s = std::get_if<TlsStream>(&conn_->stream)) {
      if (SSL_ctrl(s->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(url_.host.c_str())) != 1) {
        co_return fail(ErrorCode::kUpstreamUnreachable, fmt::format("cannot set TLS server name for {}", url_.host));
      }
      if (pool_.options.verify_tls) {
        s->set_verify_mode(ssl::verify_peer);
        s->set_verify_callback(ssl::host_name_verification(url_.host));
      } else {
        s->set_verify_mode(ssl::verify_none);
      }
      auto [hec] = co_await s->async_handshake(ssl::stream_base::client, kTuple);
      if (hec) co_return tl::unexpected(io_error(ErrorCode::kUpstreamUnreachable, "TLS handshake failed with", url_, hec));
    }
    co_return true;
  }

  Task<Result<bool>> write_and_read_head() {
    stale_ = false;
    conn_->tcp().expires_after(pool_.options.read_timeout);
    beast::error_code ec;
    if (auto* p = std::get_if<PlainStream>(&conn_->stream)) {
      std::tie(ec, std::ignore) = co_await asio::async_write(*p, buffers_, kTuple);
    } else {
      std::tie(ec, std::ignore) = co_await asio::async_write(std::get<TlsStream>(conn_->stream), buffers_, kTuple);
    }
    if (ec) {
      stale_ = true;
      reusable_ = false;
      co_return tl::unexpected(io_error(ErrorCode::kUpstreamUnreachable, "cannot send to", url_, ec));
    }
    parser_.emplace();
    parser_->body_limit(boost::none);
    parser_->header_limit(64 * 1024);
    if (auto* p = std::get_if<PlainStream>(&conn_->stream)) {
      std::tie(ec, std::ignore) = co_await bhttp::async_read_header(*p, conn_->buffer, *parser_, kTuple);
    } else {
      std::tie(ec, std::ignore) = co_await bhttp::async_read_header(std::get<TlsStream>(conn_->stream), conn_->buffer, *parser_, kTuple);
    }
    if (ec) {
      reusable_ = false;
      stale_ = !parser_->got_some() && (ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset || ec == asio::error::eof);
      co_return tl::unexpected(read_error(ec));
    }
    reusable_ = true;
    co_return true;
  }

  Client::Impl& pool_;
  Url url_;
  std::string origin_;
  std::unique_ptr<Connection> conn_;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser_;
  std::string head_;
  std::vector<asio::const_buffer> buffers_;
  bool reusable_ = false;
  bool cancelled_ = false;
  bool stale_ = false;
  char chunk_[16384];
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->tls.set_default_verify_paths();
  impl_->tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
}

Client::~Client() = default;

std::unique_ptr<Exchange> Client::exchange(const Url& url) {
  return std::make_unique<PooledExchange>(*impl_, url);
}

size_t Client::idle_connections() const {
  size_t n = 0;
  for (const auto& [k, q] : impl_->idle) n += q.size();
  return n;
}

}  // namespace sy::http
