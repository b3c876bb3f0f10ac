// The OpenAI chat-completions wire protocol, as api.openai.com speaks it.
#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <chrono>
#include <ctime>

#include <fmt/format.h>

#include "core/ids.h"
#include "core/json_scan.h"
#include "mock/anthropic.h"
#include "mock/behaviour.h"
#include "mock/sleeper.h"
#include "mock/mock.h"

namespace sy::mock {
namespace {

namespace asio = boost::asio;
using http::Header;
using http::Request;
using http::Response;
using http::Task;

std::string error_json(std::string_view message, std::string_view type, std::string_view param,
                       std::string_view code) {
  std::string out = "{\"error\":{\"message\":";
  json::append_quoted(out, message);
  out += ",\"type\":";
  json::append_quoted(out, type);
  out += ",\"param\":";
  if (param.empty()) out += "null";
  else json::append_quoted(out, param);
  out += ",\"code\":";
  if (code.empty()) out += "null";
  else json::append_quoted(out, code);
  out += "}}";
  return out;
}

class OpenAiHandler final : public http::Handler {
 public:
  explicit OpenAiHandler(MockOptions options) : options_(std::move(options)) {}

  std::string error_body(const Error& e, std::string_view) const override {
    return error_json(e.message, openai_error_type(e.code), e.param, {});
  }

  Task<void> handle(Request& req, Response& res) override {
    std::string_view path = req.path();
    if (path.starts_with("/v1/")) path.remove_prefix(3);
    if (path == "/messages" && req.method() == http::Method::kPost) {  // Anthropic's protocol, its own auth
      auto& st = *options_.stats;
      st.requests.fetch_add(1);
      st.active.fetch_add(1);
      co_await anthropic_messages(req, res, options_);
      st.active.fetch_sub(1);
      co_return;
    }
    if (!options_.api_key.empty() && req.header("authorization") != "Bearer " + options_.api_key) {
      co_await send_error(req, res, 401, "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", {}, "invalid_api_key");
      co_return;
    }
    if (path == "/chat/completions" && req.method() == http::Method::kPost) {
      auto& st = *options_.stats;
      st.requests.fetch_add(1);
      st.active.fetch_add(1);
      co_await chat(req, res);
      st.active.fetch_sub(1);
    } else if (req.path() == "/mock/stats") {
      const std::string body = fmt::format(R"({{"requests":{},"active":{}}})", options_.stats->requests.load(), options_.stats->active.load());
      co_await res.send(200, "application/json", body);
    } else if (path == "/models" && req.method() == http::Method::kGet) {
      co_await models(req, res);
    } else {
      const std::string message = fmt::format("Invalid URL ({} {})", req.method_name(), req.target());
      co_await send_error(req, res, 404, message, "invalid_request_error", {}, {});
    }
  }

 private:
  Task<void> send_error(Request& req, Response& res, int status, std::string_view message,
                        std::string_view type, std::string_view param, std::string_view code,
                        int retry_after = -1) {
    (void)req;
    char request_id[kRequestIdSize];
    new_request_id(request_id);
    const std::string body = error_json(message, type, param, code);
    const std::string retry = std::to_string(retry_after);
    std::array<Header, 2> headers{Header{"x-request-id", std::string_view(request_id, kRequestIdSize)},
                                  Header{"retry-after", retry}};
    co_await res.send(status, "application/json", body, std::span<const Header>(headers.data(), retry_after >= 0 ? 2 : 1));
  }

  Task<void> models(Request& req, Response& res) {
    (void)req;
    std::string body = R"({"object":"list","data":[)";
    static constexpr std::string_view kIds[] = {"fast", "smart", "cheap", "gpt-4o-mini", "gpt-4o"};
    for (size_t i = 0; i < std::size(kIds); ++i) {
      if (i > 0) body += ',';
      fmt::format_to(std::back_inserter(body), R"({{"id":"{}","object":"model","created":1715367049,"owned_by":"mock"}})", kIds[i]);
    }
    body += "]}";
    co_await res.send(200, "application/json", body);
  }

  Task<void> chat(Request& req, Response& res) {
    static constexpr std::array<std::string_view, 5> kKeys{"model", "messages", "stream", "stream_options", "seed"};
    std::array<json::Field, 5> f;
    const std::string& body = req.body();
    if (auto r = json::scan_object(body, kKeys, f); !r) {
      const std::string message = fmt::format("We could not parse the JSON body of your request. ({})", r.error().message);
      co_await send_error(req, res, 400, message, "invalid_request_error", {}, {});
      co_return;
    }
    if (f[0].kind != json::Kind::kString) {
      co_await send_error(req, res, 400, "you must provide a model parameter", "invalid_request_error", {}, {});
      co_return;
    }
    if (f[1].kind != json::Kind::kArray) {
      co_await send_error(req, res, 400, "Missing required parameter: 'messages'.", "invalid_request_error", "messages", "missing_required_parameter");
      co_return;
    }
    const std::string model = json::unescape(f[0].raw);
    Behaviour b = Behaviour::parse(model, &req);
    if (!b.seed && f[4].kind == json::Kind::kNumber) b.seed = static_cast<uint64_t>(std::strtoull(std::string(f[4].raw).c_str(), nullptr, 10));
    const uint64_t seed = b.seed.value_or(fnv1a(f[1].raw));
    const bool stream = f[2].kind == json::Kind::kTrue;
    bool include_usage = false;
    if (f[3].kind == json::Kind::kObject) {
      static constexpr std::array<std::string_view, 1> kUsage{"include_usage"};
      std::array<json::Field, 1> u;
      if (json::scan_object(f[3].raw, kUsage, u)) include_usage = u[0].kind == json::Kind::kTrue;
    }
    const int prompt_tokens = static_cast<int>(f[1].raw.size() / 4) + 1;

    Sleeper sleeper(co_await asio::this_coro::executor);
    if (b.hang) {
      co_await sleeper.sleep(req, std::chrono::hours(1));
      co_return;
    }
    if (!co_await sleeper.sleep(req, b.ttft)) co_return;
    if (b.status != 200) {
      co_await fault(req, res, b);
      co_return;
    }
    char request_id[kRequestIdSize];
    new_request_id(request_id);
    const std::string processing_ms = std::to_string(b.ttft.count());
    const std::array<Header, 3> headers{Header{"x-request-id", std::string_view(request_id, kRequestIdSize)},
                                        Header{"openai-version", "2020-10-01"},
                                        Header{"openai-processing-ms", processing_ms}};
    const auto created = static_cast<long>(std::time(nullptr));
    char id[40];
    const auto id_end = fmt::format_to(id, "chatcmpl-{}", std::string_view(request_id + 4, 22));
    const std::string_view chat_id(id, static_cast<size_t>(id_end - id));

    if (!stream) {
      std::string text;
      if (b.echo) {
        text = req.body();
      } else {
        for (int i = 0; i < b.length; ++i) text += mock_token(seed, i);
      }
      if (!co_await sleeper.sleep(req, b.gap * b.length)) co_return;
      std::string out;
      out.reserve(text.size() + 700);
      fmt::format_to(std::back_inserter(out), R"({{"id":"{}","object":"chat.completion","created":{},"model":)", chat_id, created);
      json::append_quoted(out, model);
      out += R"(,"choices":[{"index":0,"message":{"role":"assistant","content":)";
      json::append_quoted(out, text);
      out += R"(,"refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],)";
      append_usage(out, prompt_tokens, b.length);
      out += R"(,"service_tier":"default","system_fingerprint":"fp_mock"})";
      co_await res.send(200, "application/json", out, headers);
      co_return;
    }

    if (!co_await res.begin_stream(200, "text/event-stream; charset=utf-8", headers)) co_return;
    std::string prefix;
    fmt::format_to(std::back_inserter(prefix), R"(data: {{"id":"{}","object":"chat.completion.chunk","created":{},"model":)", chat_id, created);
    json::append_quoted(prefix, model);
    prefix += R"(,"service_tier":"default","system_fingerprint":"fp_mock","choices":[)";
    const std::string_view usage_null = include_usage ? R"(,"usage":null)" : "";
    std::string event;  // what the next write sends: one or more chunks
    auto chunk = [&](std::string_view delta_json, std::string_view finish) {
      event += prefix;
      event += R"({"index":0,"delta":)";
      event += delta_json;
      event += R"(,"logprobs":null,"finish_reason":)";
      event += finish;
      event += "}]";
      event += usage_null;
      event += "}\n\n";
    };
    chunk(R"({"role":"assistant","content":"","refusal":null})", "null");
    if (!co_await res.write(event)) co_return;
    // Deltas keep to their schedule (start + i * gap) however late a write was; when the
    // mock falls behind, the deltas already due go out together in one write.
    std::string delta;
    auto due = std::chrono::steady_clock::now();
    for (int i = 0; i < b.length;) {
      if (i > 0) {
        due += b.gap;
        if (due > std::chrono::steady_clock::now() && !co_await sleeper.sleep_until(req, due)) co_return;
      }
      event.clear();
      const auto now = std::chrono::steady_clock::now();
      for (;;) {
        if (i == b.reset_after) {
          if (!event.empty() && !co_await res.write(event)) co_return;
          res.abort();
          co_return;
        }
        delta.assign(R"({"content":)");
        json::append_quoted(delta, mock_token(seed, i));
        delta += '}';
        chunk(delta, "null");
        ++i;
        if (i == b.length || b.gap.count() == 0 || due + b.gap > now) break;
        due += b.gap;
      }
      if (!co_await res.write(event)) co_return;
    }
    if (b.reset_after == b.length) {
      res.abort();
      co_return;
    }
    event.clear();
    chunk("{}", "\"stop\"");
    if (include_usage) {  // the usage chunk follows in the same write
      event += prefix;
      event += "],";
      append_usage(event, prompt_tokens, b.length);
      event += "}\n\n";
    }
    event += "data: [DONE]\n\n";
    if (!co_await res.write(event)) co_return;
    co_await res.end_stream();
  }

  static void append_usage(std::string& out, int prompt, int completion) {
    fmt::format_to(std::back_inserter(out),
                   R"("usage":{{"prompt_tokens":{},"completion_tokens":{},"total_tokens":{},)"
                   R"("prompt_tokens_details":{{"cached_tokens":0,"audio_tokens":0}},)"
                   R"("completion_tokens_details":{{"reasoning_tokens":0,"audio_tokens":0,)"
                   R"("accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}})",
                   prompt, completion, prompt + completion);
  }

  Task<void> fault(Request& req, Response& res, const Behaviour& b) {
    switch (b.status) {
      case 400: co_await send_error(req, res, 400, "Invalid request (injected by the mock).", "invalid_request_error", {}, {}); break;
      case 401: co_await send_error(req, res, 401, "Incorrect API key provided.", "invalid_request_error", {}, "invalid_api_key"); break;
      case 429: co_await send_error(req, res, 429, "Rate limit reached for requests. Please try again later.", "requests", {}, "rate_limit_exceeded", b.retry_after_s); break;
      case 503: co_await send_error(req, res, 503, "The engine is currently overloaded, please try again later.", "server_error", {}, {}); break;
      default: co_await send_error(req, res, b.status, "The server had an error while processing your request. Sorry about that!", "server_error", {}, {}); break;
    }
  }

  MockOptions options_;
};

}  // namespace

http::HandlerFactory openai_handler_factory(const MockOptions& options) {
  return [options](int) { return std::make_unique<OpenAiHandler>(options); };
}

MockUpstream::MockUpstream(MockOptions options) : options_(std::move(options)) {}
MockUpstream::~MockUpstream() { stop(); }

Result<uint16_t> MockUpstream::start() {
  http::ServerOptions so;
  so.host = options_.host;
  so.port = options_.port;
  so.workers = options_.workers;
  so.limits.drain_timeout = std::chrono::milliseconds(2000);
  server_ = std::make_unique<http::Server>(so, openai_handler_factory(options_));
  auto port = server_->start();
  if (port) options_.port = *port;
  return port;
}

void MockUpstream::stop() {
  if (server_) {
    server_->drain();
    server_->wait();
    server_.reset();
  }
}

std::string MockUpstream::base_url() const {
  return fmt::format("http://{}:{}/v1", options_.host, options_.port);
}

}  // namespace sy::mock
