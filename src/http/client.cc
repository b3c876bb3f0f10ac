#include "http/client.h"

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <cstdio>
#include <deque>
#include <optional>
#include <unordered_map>
#include <variant>

#include <fmt/format.h>

#include "http/io.h"
#include "http/wire.h"

namespace sy::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
using PlainStream = tcp::socket;
using TlsStream = ssl::stream<tcp::socket>;
constexpr size_t kReadSize = 16 * 1024;
constexpr auto kTick = std::chrono::milliseconds(100);  // granularity of connect/read timeouts
using io::kNoDeadline;

// A connection and its buffers, reused by every exchange that borrows it from the pool.
// Counts a connection in its pool's PoolCounters::open for as long as it lives.
struct OpenCount {
  PoolCounters* counters = nullptr;
  OpenCount() = default;
  explicit OpenCount(PoolCounters* c) : counters(c) { counters->open.fetch_add(1, std::memory_order_relaxed); }
  OpenCount(OpenCount&& o) noexcept : counters(std::exchange(o.counters, nullptr)) {}
  OpenCount& operator=(OpenCount&& o) noexcept {
    std::swap(counters, o.counters);
    return *this;
  }
  ~OpenCount() {
    if (counters) counters->open.fetch_sub(1, std::memory_order_relaxed);
  }
};

struct Connection {
  std::variant<PlainStream, TlsStream> stream;
  beast::flat_buffer buffer;
  Clock::time_point idle_since{};
  std::string head;                          // the request line and headers being sent
  std::vector<asio::const_buffer> request;   // head + body parts, one gather write
  char body_piece[4096];                     // what read_some() hands out (SSE events are small)
  OpenCount open;

  tcp::socket& socket() {
    if (auto* p = std::get_if<PlainStream>(&stream)) return *p;
    return std::get<TlsStream>(stream).next_layer();
  }
  // Reads what has arrived into `buffer`.
  Task<std::tuple<beast::error_code, size_t>> read_more() {
    if (auto* p = std::get_if<PlainStream>(&stream)) co_return co_await p->async_read_some(buffer.prepare(kReadSize), kTuple);
    co_return co_await std::get<TlsStream>(stream).async_read_some(buffer.prepare(kReadSize), kTuple);
  }
  // Writes everything (directly first on a plain socket, see io::write_all).
  Task<beast::error_code> write_all(const std::vector<asio::const_buffer>& bufs) {
    if (auto* p = std::get_if<PlainStream>(&stream)) return io::write_all(*p, bufs);
    return write_tls(std::get<TlsStream>(stream), bufs);
  }
  static Task<beast::error_code> write_tls(TlsStream& s, const std::vector<asio::const_buffer>& bufs) {
    auto [ec, n] = co_await asio::async_write(s, bufs, kTuple);
    co_return ec;
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

// One upstream origin ("https://api.openai.com:443") and its idle keep-alive connections.
struct Origin {
  Url url;
  std::string key;
  std::deque<std::unique_ptr<Connection>> idle;
};

struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Client::Impl {
  ClientOptions options;
  PoolCounters own_counters;  // when options.counters is null
  PoolCounters* counters = &own_counters;

  ~Impl() {  // the idle connections close with the pool
    for (const auto& [k, o] : origins) counters->idle.fetch_sub(static_cast<long>(o->idle.size()), std::memory_order_relaxed);
  }
  std::optional<ssl::context> tls;  // built on the first https origin: loading the CA store costs milliseconds
  std::unordered_map<std::string, std::unique_ptr<Origin>, StringViewHash, std::equal_to<>> origins;
  io::Sweep exchanges{kTick};  // in flight; ticks check their connect and read deadlines

  ssl::context& tls_context();

  // Found without allocating: the key is formatted on the stack.
  Origin& origin_for(const Url& url) {
    char buf[320];
    const auto r = fmt::format_to_n(buf, sizeof buf, "{}://{}:{}", url.tls ? "https" : "http", url.host, url.port);
    const std::string key = r.size <= sizeof buf ? std::string() : url.origin();
    const std::string_view k = key.empty() ? std::string_view(buf, r.size) : std::string_view(key);
    if (auto it = origins.find(k); it != origins.end()) return *it->second;
    auto o = std::make_unique<Origin>(Origin{url, std::string(k), {}});
    Origin& ref = *o;
    origins.emplace(ref.key, std::move(o));
    return ref;
  }

  std::unique_ptr<Connection> take_idle(Origin& origin) {
    auto& q = origin.idle;
    const auto now = Clock::now();
    while (!q.empty()) {
      std::unique_ptr<Connection> c = std::move(q.back());
      q.pop_back();
      counters->idle.fetch_sub(1, std::memory_order_relaxed);
      if (now - c->idle_since < options.idle_ttl) return c;
    }
    return nullptr;
  }

  void give_back(Origin& origin, std::unique_ptr<Connection> c) {
    auto& q = origin.idle;
    if (q.size() >= options.max_idle_per_origin) return;
    c->idle_since = Clock::now();
    q.push_back(std::move(c));
    counters->idle.fetch_add(1, std::memory_order_relaxed);
  }
};

class PooledExchange final : public Exchange, io::Sweep::Entry {
 public:
  PooledExchange(Client::Impl& pool, Origin& origin) : pool_(pool), origin_(origin), url_(origin.url) {}
  ~PooledExchange() override {
    if (registered_) pool_.exchanges.remove(this);
    if (conn_ && reusable_ && parser_ && parser_->is_done() && parser_->get().keep_alive()) {
      pool_.give_back(origin_, std::move(conn_));
    }
  }
  PooledExchange(const PooledExchange&) = delete;
  PooledExchange& operator=(const PooledExchange&) = delete;

  void cancel() override {
    cancelled_ = true;
    close();
  }

  Task<Result<bool>> send(OutRequest req) override {
    if (!registered_) {
      pool_.exchanges.add(this, co_await asio::this_coro::executor);
      registered_ = true;
    }
    // A pooled connection may have been closed by the server while idle: if it fails before
    // any byte of the response arrived, try once more on a fresh connection.
    for (int attempt = 0; attempt < 2; ++attempt) {
      conn_ = pool_.take_idle(origin_);
      const bool reused = conn_ != nullptr;
      if (!reused) {
        auto c = co_await connect();
        if (!c) co_return tl::unexpected(c.error());
      }
      compose(req);
      auto r = co_await write_and_read_head();
      if (r || !reused || cancelled_ || !stale_) co_return r;
    }
    co_return fail(ErrorCode::kUpstreamUnreachable, fmt::format("cannot reach {}", origin_.key));
  }

  int status() const override { return parser_ ? static_cast<int>(parser_->get().result_int()) : 0; }

  std::string_view header(std::string_view name) const override {
    return parser_ ? find_header(parser_->get(), name) : std::string_view{};
  }

  Task<Result<std::string_view>> read_some() override {
    auto& body = parser_->get().body();
    char* const piece = conn_->body_piece;
    body.data = piece;
    body.size = sizeof(conn_->body_piece);
    for (;;) {
      // Parse what is buffered: body bytes land in the piece, framing (chunked) removed.
      while (conn_->buffer.size() > 0 && !parser_->is_done() && body.size > 0) {
        beast::error_code ec;
        const size_t used = parser_->put(conn_->buffer.data(), ec);
        conn_->buffer.consume(used);
        if (ec == bhttp::error::need_more || ec == bhttp::error::need_buffer) break;
        if (ec) {
          reusable_ = false;
          co_return tl::unexpected(io_error(ErrorCode::kUpstreamError, "malformed response from", url_, ec));
        }
        if (used == 0) break;
      }
      const size_t n = sizeof(conn_->body_piece) - body.size;
      if (n > 0) co_return std::string_view(piece, n);
      if (parser_->is_done()) co_return std::string_view{};
      auto ec = co_await read_more();
      if (ec == asio::error::eof && parser_->need_eof()) {  // a body delimited by the close
        parser_->put_eof(ec);
        reusable_ = false;
        if (!ec) continue;
      }
      if (ec) {
        reusable_ = false;
        co_return tl::unexpected(read_error(ec));
      }
    }
  }

  Task<Result<std::string>> read_body() override {
    std::string out;
    for (;;) {
      auto piece = co_await read_some();
      if (!piece) co_return tl::unexpected(piece.error());
      if (piece->empty()) co_return out;
      if (out.size() + piece->size() > pool_.options.max_body_bytes) {
        reusable_ = false;
        co_return fail(ErrorCode::kUpstreamError, fmt::format("the response from {} exceeds {} bytes", origin_.key, pool_.options.max_body_bytes));
      }
      out.append(*piece);
    }
  }

 private:
  // The request head and the gather list, in the connection's own (reused) buffers.
  void compose(const OutRequest& req) {
    std::string& head = conn_->head;
    head.clear();
    size_t body_size = 0;
    for (auto part : req.body) body_size += part.size();
    fmt::format_to(std::back_inserter(head), "{} {} HTTP/1.1\r\nhost: {}\r\n", req.method, req.target, url_.host);
    for (const Header& h : req.headers) {
      head += h.name;
      head += ": ";
      head += h.value;
      head += "\r\n";
    }
    fmt::format_to(std::back_inserter(head), "content-length: {}\r\n\r\n", body_size);
    conn_->request.clear();
    conn_->request.emplace_back(head.data(), head.size());
    for (auto part : req.body) conn_->request.emplace_back(part.data(), part.size());
  }

  void on_tick(Clock::time_point now) override {
    if (deadline_ > now) return;
    deadline_ = kNoDeadline;
    timed_out_ = true;
    close();
  }

  void close() {
    reusable_ = false;
    if (conn_) {
      beast::error_code ec;
      conn_->socket().cancel(ec);
      conn_->socket().close(ec);
    }
  }

  // Reads more of the response into the connection's buffer within options.read_timeout.
  Task<beast::error_code> read_more() {
    deadline_ = Clock::now() + pool_.options.read_timeout;
    auto [ec, n] = co_await conn_->read_more();
    deadline_ = kNoDeadline;
    if (!ec) conn_->buffer.commit(n);
    co_return ec;
  }

  Error read_error(beast::error_code ec) const {
    if (timed_out_) {
      return Error{ErrorCode::kUpstreamTimeout, fmt::format("{} sent nothing for {} ms", origin_.key, pool_.options.read_timeout.count()), {}, 0};
    }
    if (cancelled_) return Error{ErrorCode::kUnavailable, "the request was cancelled", {}, 0};
    return io_error(ErrorCode::kUpstreamUnreachable, "connection lost reading from", url_, ec);
  }

  Task<Result<bool>> connect() {
    auto ex = co_await asio::this_coro::executor;
    deadline_ = Clock::now() + pool_.options.connect_timeout;
    auto r = co_await connect_within_deadline(ex);
    deadline_ = kNoDeadline;
    if (!r && timed_out_) {
      timed_out_ = false;
      co_return tl::unexpected(Error{ErrorCode::kUpstreamTimeout, fmt::format("connecting to {} timed out after {} ms", origin_.key, pool_.options.connect_timeout.count()), {}, 0});
    }
    co_return r;
  }

  Task<Result<bool>> connect_within_deadline(const asio::any_io_executor& ex) {
    // An address needs no resolver (whose lookups run one at a time on a helper thread).
    beast::error_code aec;
    const auto address = asio::ip::make_address(url_.host, aec);
    std::vector<tcp::endpoint> endpoints;
    if (!aec) {
      endpoints.emplace_back(address, url_.port);
    } else {
      tcp::resolver resolver(ex);
      const std::string port = std::to_string(url_.port);
      auto [rec, found] = co_await resolver.async_resolve(url_.host, port, kTuple);
      if (rec) co_return tl::unexpected(io_error(ErrorCode::kUpstreamUnreachable, "cannot resolve", url_, rec));
      for (const auto& entry : found) endpoints.push_back(entry.endpoint());
    }
    auto c = std::make_unique<Connection>(Connection{PlainStream(ex), {}, {}});
    c->open = OpenCount(pool_.counters);
    if (url_.tls) c->stream.emplace<TlsStream>(tcp::socket(ex), pool_.tls_context());
    conn_ = std::move(c);
    if (cancelled_) co_return fail(ErrorCode::kUnavailable, "the request was cancelled");
    auto [cec, ep] = co_await asio::async_connect(conn_->socket(), endpoints, kTuple);
    if (cec) co_return tl::unexpected(io_error(ErrorCode::kUpstreamUnreachable, "cannot connect to", url_, cec));
    conn_->socket().set_option(tcp::no_delay(true), cec);
    conn_->socket().non_blocking(true, cec);
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
    deadline_ = Clock::now() + pool_.options.read_timeout;
    beast::error_code ec = co_await conn_->write_all(conn_->request);
    deadline_ = kNoDeadline;
    if (ec) {
      stale_ = !timed_out_;
      reusable_ = false;
      if (timed_out_) co_return tl::unexpected(read_error(ec));
      co_return tl::unexpected(io_error(ErrorCode::kUpstreamUnreachable, "cannot send to", url_, ec));
    }
    parser_.emplace();
    parser_->body_limit(boost::none);
    parser_->header_limit(64 * 1024);
    for (;;) {
      if (conn_->buffer.size() > 0) {
        const size_t used = parser_->put(conn_->buffer.data(), ec);
        conn_->buffer.consume(used);
        if (ec == bhttp::error::need_more) ec = {};
        if (ec) break;
        if (parser_->is_header_done()) break;
      }
      ec = co_await read_more();
      if (ec == asio::error::eof) ec = parser_->got_some() ? bhttp::error::partial_message : bhttp::error::end_of_stream;
      if (ec) break;
    }
    if (ec) {
      reusable_ = false;
      stale_ = !parser_->got_some() && !timed_out_ && (ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset);
      co_return tl::unexpected(read_error(ec));
    }
    reusable_ = true;
    co_return true;
  }

  Client::Impl& pool_;
  Origin& origin_;
  const Url& url_;
  std::unique_ptr<Connection> conn_;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser_;
  Clock::time_point deadline_ = kNoDeadline;  // of the connect or read in progress
  bool registered_ = false;
  bool reusable_ = false;
  bool cancelled_ = false;
  bool timed_out_ = false;
  bool stale_ = false;
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  if (impl_->options.counters != nullptr) impl_->counters = impl_->options.counters;
}

ssl::context& Client::Impl::tls_context() {
  if (tls) return *tls;
  tls.emplace(ssl::context::tls_client);
  tls->set_default_verify_paths();
  if (!options.ca_file.empty()) {
    boost::system::error_code ec;
    tls->load_verify_file(options.ca_file, ec);
    if (ec) std::fprintf(stderr, "switchyard: cannot load upstream.ca_file '%s': %s\n", options.ca_file.c_str(), ec.message().c_str());
  }
  tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  return *tls;
}

Client::~Client() = default;

std::unique_ptr<Exchange> Client::exchange(const Url& url) {
  return std::make_unique<PooledExchange>(*impl_, impl_->origin_for(url));
}

const PoolCounters& Client::counters() const { return *impl_->counters; }

}  // namespace sy::http
