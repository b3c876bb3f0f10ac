#include "mock/anthropic.h"

#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include <array>
#include <chrono>

#include "core/ids.h"
#include "core/json_scan.h"
#include "mock/behaviour.h"
#include "mock/sleeper.h"

namespace sy::mock {
namespace {

using http::Header;

std::string_view error_type(int status) {
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 529: return "overloaded_error";
    default: return "api_error";
  }
}

std::string error_json(int status, std::string_view message) {
  std::string out = R"({"type":"error","error":{"type":)";
  json::append_quoted(out, error_type(status));
  out += R"(,"message":)";
  json::append_quoted(out, message);
  out += "}}";
  return out;
}

http::Task<void> send_error(http::Response& res, int status, std::string_view message, int retry_after = -1) {
  char request_id[kRequestIdSize];
  new_request_id(request_id);
  const std::string body = error_json(status, message);
  const std::string retry = std::to_string(retry_after);
  const std::array<Header, 2> headers{Header{"request-id", std::string_view(request_id, kRequestIdSize)},
                                      Header{"retry-after", retry}};
  co_await res.send(status, "application/json", body, std::span<const Header>(headers.data(), retry_after >= 0 ? 2 : 1));
}

std::string usage_json(int input, int output) {
  return fmt::format(R"({{"input_tokens":{},"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":{}}})",
                     input, output);
}

}  // namespace

http::Task<void> anthropic_messages(http::Request& req, http::Response& res, const MockOptions& options) {
  if (!options.api_key.empty() && req.header("x-api-key") != options.api_key &&
      req.header("authorization") != "Bearer " + options.api_key) {
    co_await send_error(res, 401, "invalid x-api-key");
    co_return;
  }
  static constexpr std::array<std::string_view, 5> kKeys{"model", "messages", "stream", "max_tokens", "metadata"};
  std::array<json::Field, 5> f;
  const std::string& body = req.body();
  if (auto r = json::scan_object(body, kKeys, f); !r) {
    co_await send_error(res, 400, fmt::format("The request body is not valid JSON: {}", r.error().message));
    co_return;
  }
  if (f[0].kind != json::Kind::kString) {
    co_await send_error(res, 400, "model: Field required");
    co_return;
  }
  if (f[1].kind != json::Kind::kArray) {
    co_await send_error(res, 400, "messages: Field required");
    co_return;
  }
  if (f[3].kind != json::Kind::kNumber) {
    co_await send_error(res, 400, "max_tokens: Field required");
    co_return;
  }
  const std::string model = json::unescape(f[0].raw);
  const bool stream = f[2].kind == json::Kind::kTrue;
  Behaviour b = Behaviour::parse(model, &req);
  const uint64_t seed = b.seed.value_or(fnv1a(f[1].raw));
  const int input_tokens = static_cast<int>(f[1].raw.size() / 4) + 1;
  Sleeper sleeper(co_await boost::asio::this_coro::executor);
  if (b.hang) {
    co_await sleeper.sleep(req, std::chrono::hours(1));
    co_return;
  }
  if (!co_await sleeper.sleep(req, b.ttft)) co_return;
  if (b.status != 200) {
    switch (b.status) {
      case 429: co_await send_error(res, 429, "Number of request tokens has exceeded your per-minute rate limit", b.retry_after_s); break;
      case 529: co_await send_error(res, 529, "Overloaded"); break;
      case 400: co_await send_error(res, 400, "Invalid request (injected by the mock)."); break;
      case 401: co_await send_error(res, 401, "invalid x-api-key"); break;
      default: co_await send_error(res, b.status, "Internal server error"); break;
    }
    co_return;
  }
  char request_id[kRequestIdSize];
  new_request_id(request_id);
  const std::string message_id = fmt::format("msg_{}", std::string_view(request_id + 4, 22));
  const std::array<Header, 1> headers{Header{"request-id", std::string_view(request_id, kRequestIdSize)}};

  if (!stream) {
    std::string text;
    if (b.echo) {
      text = body;
    } else {
      for (int i = 0; i < b.length; ++i) text += mock_token(seed, i);
    }
    if (!co_await sleeper.sleep(req, b.gap * b.length)) co_return;
    std::string out = R"({"id":)";
    json::append_quoted(out, message_id);
    out += R"(,"type":"message","role":"assistant","model":)";
    json::append_quoted(out, model);
    out += R"(,"content":[{"type":"text","text":)";
    json::append_quoted(out, text);
    out += R"(}],"stop_reason":"end_turn","stop_sequence":null,"usage":)";
    out += usage_json(input_tokens, b.length);
    out += '}';
    co_await res.send(200, "application/json", out, headers);
    co_return;
  }

  if (!co_await res.begin_stream(200, "text/event-stream; charset=utf-8", headers)) co_return;
  std::string event = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":";
  json::append_quoted(event, message_id);
  event += R"(,"type":"message","role":"assistant","model":)";
  json::append_quoted(event, model);
  event += R"(,"content":[],"stop_reason":null,"stop_sequence":null,"usage":)";
  event += usage_json(input_tokens, 1);
  event += "}}\n\n";
  event += "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n";
  event += "event: ping\ndata: {\"type\": \"ping\"}\n\n";
  if (!co_await res.write(event)) co_return;
  auto due = std::chrono::steady_clock::now();
  for (int i = 0; i < b.length; ++i) {
    if (i > 0) {
      due += b.gap;
      if (due > std::chrono::steady_clock::now() && !co_await sleeper.sleep_until(req, due)) co_return;
    }
    if (i == b.reset_after) {
      res.abort();
      co_return;
    }
    event.assign("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":");
    json::append_quoted(event, mock_token(seed, i));
    event += "}}\n\n";
    if (!co_await res.write(event)) co_return;
  }
  if (b.reset_after == b.length) {
    res.abort();
    co_return;
  }
  event.assign("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n");
  fmt::format_to(std::back_inserter(event),
                 "event: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"end_turn\","
                 "\"stop_sequence\":null}},\"usage\":{{\"output_tokens\":{}}}}}\n\n",
                 b.length);
  event += "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
  if (!co_await res.write(event)) co_return;
  co_await res.end_stream();
}

}  // namespace sy::mock
