#include "gateway/gateway.h"

#include <array>

#include <fmt/format.h>

#include "core/json_scan.h"
#include "http/sse.h"

namespace sy::gateway {
namespace {

constexpr std::array<std::string_view, 3> kChatKeys{"model", "stream", "messages"};

// Upstream headers a client should see again.
constexpr std::array<std::string_view, 2> kPassHeaders{"retry-after", "x-ratelimit-remaining-requests"};

}  // namespace

Gateway::Gateway(const SnapshotSource& source, http::ClientOptions options)
    : snapshots_(source), client_(options) {}

Gateway::~Gateway() = default;

http::Task<Result<bool>> Gateway::chat_completions(http::Request& req, http::Response& res,
                                                   const ClientDialect& dialect,
                                                   RequestContext& ctx) {
  const std::string& body = req.body();
  std::array<json::Field, 3> f;
  if (auto r = json::scan_object(body, kChatKeys, f); !r) {
    co_return fail(ErrorCode::kInvalidRequest,
                   fmt::format("The request body is not valid JSON: {}. Send a JSON object like "
                               "{{\"model\": \"demo/fast\", \"messages\": [...]}}.",
                               r.error().message));
  }
  if (f[0].kind != json::Kind::kString) {
    co_return fail(ErrorCode::kInvalidRequest,
                   "You must provide a model parameter: a string such as \"demo/fast\" "
                   "(GET /v1/models lists them).",
                   "model");
  }
  if (f[2].kind != json::Kind::kArray) {
    co_return fail(ErrorCode::kInvalidRequest,
                   "Missing required parameter: 'messages' (an array of {role, content}).",
                   "messages");
  }
  if (f[1].present() && f[1].kind != json::Kind::kTrue && f[1].kind != json::Kind::kFalse &&
      f[1].kind != json::Kind::kNull) {
    co_return fail(ErrorCode::kInvalidRequest, "'stream' must be true or false.", "stream");
  }
  const bool stream = f[1].kind == json::Kind::kTrue;
  std::string unescaped;
  std::string_view model = f[0].raw.substr(1, f[0].raw.size() - 2);
  if (model.find('\\') != std::string_view::npos) {
    unescaped = json::unescape(f[0].raw);
    model = unescaped;
  }
  ctx.model.assign(model);

  // Hold the snapshot for the whole request: a swap must not free what we point into.
  const std::shared_ptr<const Snapshot> snap = snapshots_.get();
  std::string scratch_id;
  std::string scratch_quoted;
  auto target = snap->resolve(model, scratch_id, scratch_quoted);
  if (!target) co_return tl::unexpected(target.error());
  ctx.model.assign(target->model_id);
  ctx.provider.assign(target->provider->name());

  const size_t at = f[0].offset_in(body);
  const std::array<std::string_view, 3> parts{std::string_view(body).substr(0, at),
                                              target->upstream_quoted,
                                              std::string_view(body).substr(at + f[0].raw.size())};
  const auto base = target->provider->chat_headers();
  std::array<http::Header, 4> up_headers{};
  size_t nh = 0;
  for (const auto& h : base) up_headers[nh++] = h;
  up_headers[nh++] = {"accept", stream ? "text/event-stream" : "application/json"};

  auto upstream = client_.exchange(target->provider->url());
  req.on_disconnect(upstream.get());
  auto sent = co_await upstream->send(
      {"POST", target->provider->chat_target(), std::span(up_headers.data(), nh), parts});
  if (!sent) {
    req.on_disconnect(nullptr);
    Error e = sent.error();
    e.message = fmt::format("provider '{}' failed: {}", ctx.provider, e.message);
    co_return tl::unexpected(std::move(e));
  }
  ctx.upstream_status = upstream->status();

  std::array<http::Header, 8> headers{};
  size_t n = 0;
  headers[n++] = {"x-switchyard-request-id", ctx.request_id};
  headers[n++] = {"x-switchyard-model", ctx.model};
  headers[n++] = {"x-switchyard-provider", ctx.provider};
  headers[n++] = {"x-request-id", ctx.request_id};
  if (auto id = upstream->header("x-request-id"); !id.empty()) headers[n++] = {"x-upstream-request-id", id};
  for (auto name : kPassHeaders) {
    if (auto v = upstream->header(name); !v.empty()) headers[n++] = {name, v};
  }
  const std::span<const http::Header> out_headers(headers.data(), n);

  const std::string_view content_type = upstream->header("content-type");
  if (stream && upstream->status() == 200 && content_type.starts_with("text/event-stream")) {
    auto r = co_await relay_stream(req, res, *upstream, out_headers, dialect);
    req.on_disconnect(nullptr);
    co_return r;
  }
  auto answer = co_await upstream->read_body();
  req.on_disconnect(nullptr);
  if (!answer) {
    Error e = answer.error();
    e.message = fmt::format("provider '{}' failed while answering: {}", ctx.provider, e.message);
    co_return tl::unexpected(std::move(e));
  }
  // Upstream errors pass through with their status and body.
  co_await res.send(upstream->status(), content_type.empty() ? "application/json" : content_type,
                    *answer, out_headers);
  co_return true;
}

http::Task<Result<bool>> Gateway::relay_stream(http::Request& req, http::Response& res,
                                               http::Exchange& upstream,
                                               std::span<const http::Header> headers,
                                               const ClientDialect& dialect) {
  if (!co_await res.begin_stream(200, "text/event-stream; charset=utf-8", headers)) co_return true;
  http::SseParser parser;
  std::string out;
  bool done = false;
  for (;;) {
    auto piece = co_await upstream.read_some();
    if (!piece) {
      if (req.client_gone()) co_return true;
      Error e = piece.error();
      e.code = ErrorCode::kUpstreamUnreachable;
      e.message = fmt::format("the provider's stream broke off: {}", e.message);
      const std::string event = dialect.stream_error_event(e);
      co_await res.write(event);
      co_await res.end_stream();
      co_return true;
    }
    if (piece->empty()) break;
    out.clear();
    auto fed = parser.feed(*piece, [&](const http::SseEvent& ev) {
      out.append(ev.raw);
      if (ev.data == "[DONE]") done = true;
    });
    if (!fed) {
      const std::string event = dialect.stream_error_event(fed.error());
      co_await res.write(event);
      co_await res.end_stream();
      co_return true;
    }
    // Every complete event goes out the moment its last byte arrived.
    if (!out.empty() && !co_await res.write(out)) co_return true;
  }
  if (!done) {
    Error e{ErrorCode::kUpstreamError, "the provider ended the stream without [DONE]", {}, 0};
    const std::string event = dialect.stream_error_event(e);
      co_await res.write(event);
  }
  co_await res.end_stream();
  co_return true;
}

}  // namespace sy::gateway
