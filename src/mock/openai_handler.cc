// The mock's HTTP handler: routes each path to its protocol (OpenAI, Anthropic, Gemini, and the
// text-to-speech ones: OpenAI's audio/speech, ElevenLabs).
#include <fmt/format.h>

#include <chrono>

#include "mock/anthropic.h"
#include "mock/elevenlabs.h"
#include "mock/gemini.h"
#include "mock/mock.h"
#include "mock/openai.h"
#include "mock/sleeper.h"

namespace sy::mock {
namespace {

using http::Request;
using http::Response;
using http::Task;

class OpenAiHandler final : public http::Handler {
 public:
  explicit OpenAiHandler(MockOptions options) : options_(std::move(options)) {}

  // Errors the server finds itself (413, 431, ...) in the shape of the protocol `path` names.
  std::string error_body(const Error& e, std::string_view path) const override {
    if (is_gemini(path)) return gemini_error_json(http_status(e.code), e.message);
    if (path.starts_with("/v1/messages")) return anthropic_error_json(http_status(e.code), e.message);
    if (is_elevenlabs(path)) return elevenlabs_error_json(error_code_name(e.code), e.message);
    return openai_error_json(e.message, openai_error_type(e.code), e.param, {});
  }

  Task<void> handle(Request& req, Response& res) override {
    std::string_view path = req.path();
    if (is_gemini(path)) {  // Google's protocol, its own auth and stats
      co_await gemini(req, res, options_);
      co_return;
    }
    if (is_elevenlabs(path)) {  // ElevenLabs' text-to-speech, its own auth
      const Active active(*options_.stats);
      co_await elevenlabs_tts(req, res, options_);
      co_return;
    }
    if (path.starts_with("/v1/")) path.remove_prefix(3);
    const bool post = req.method() == http::Method::kPost;
    if (path == "/messages/count_tokens" && post) {
      co_await anthropic_count_tokens(req, res, options_);
      co_return;
    }
    if (path == "/messages" && post) {  // Anthropic's protocol, its own auth
      const Active active(*options_.stats);
      co_await anthropic_messages(req, res, options_);
      co_return;
    }
    if (!options_.api_key.empty() && req.header("authorization") != "Bearer " + options_.api_key) {
      co_await openai_error(res, 401, "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", {}, "invalid_api_key");
      co_return;
    }
    if (path == "/chat/completions" && post) {
      const Active active(*options_.stats);
      co_await openai_chat(req, res);
    } else if (path == "/audio/speech" && post) {
      const Active active(*options_.stats);
      co_await openai_speech(req, res);
    } else if (req.path() == "/mock/stats") {
      const std::string body = fmt::format(R"({{"requests":{},"active":{}}})", options_.stats->requests.load(), options_.stats->active.load());
      co_await res.send(200, "application/json", body);
    } else if (path == "/models" && req.method() == http::Method::kGet) {
      co_await models(res);
    } else {
      const std::string message = fmt::format("Invalid URL ({} {})", req.method_name(), req.target());
      co_await openai_error(res, 404, message, "invalid_request_error", {}, {});
    }
  }

 private:
  static Task<void> models(Response& res) {
    std::string body = R"({"object":"list","data":[)";
    static constexpr std::string_view kIds[] = {"fast", "smart", "cheap", "gpt-4o-mini", "gpt-4o"};
    for (size_t i = 0; i < std::size(kIds); ++i) {
      if (i > 0) body += ',';
      fmt::format_to(std::back_inserter(body), R"({{"id":"{}","object":"model","created":1715367049,"owned_by":"mock"}})", kIds[i]);
    }
    body += "]}";
    co_await res.send(200, "application/json", body);
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
  so.thread_name = "sy-mock";
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
