// POST /v1/audio/speech (OpenAI's protocol) on the gateway: text to speech by the configured
// engines, with the same failover as spoken answers (speech/speech.h).

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include "core/base64.h"
#include "core/json_scan.h"
#include "gateway/gateway.h"
#include "gateway/spoken.h"
#include "speech/engine.h"
#include "speech/speech.h"

namespace sy::gateway {
namespace {

constexpr size_t kMaxInput = 4096;  // characters, as OpenAI's API

struct SpeechBody {
  std::string model, input, voice, format, stream_format;
  double speed = 1.0;
};

Result<SpeechBody> read_body(std::string_view body) {
  static constexpr std::array<std::string_view, 6> kKeys{"model", "input", "voice", "response_format", "speed", "stream_format"};
  std::array<json::Field, 6> f;
  if (auto r = json::scan_object(body, kKeys, f); !r) {
    return fail(ErrorCode::kInvalidRequest, fmt::format("The request body is not valid JSON: {}.", r.error().message));
  }
  SpeechBody b;
  const std::array<std::string*, 6> out{&b.model, &b.input, &b.voice, &b.format, nullptr, &b.stream_format};
  for (size_t i = 0; i < f.size(); ++i) {
    if (out[i] == nullptr || !f[i].present() || f[i].kind == json::Kind::kNull) continue;
    if (f[i].kind != json::Kind::kString) {
      return fail(ErrorCode::kInvalidRequest, fmt::format("'{}' must be a string.", kKeys[i]), std::string(kKeys[i]));
    }
    *out[i] = json::unescape(f[i].raw);
  }
  if (f[4].present() && f[4].kind != json::Kind::kNull) {
    if (f[4].kind != json::Kind::kNumber) return fail(ErrorCode::kInvalidRequest, "'speed' must be a number from 0.25 to 4.", "speed");
    b.speed = std::strtod(std::string(f[4].raw).c_str(), nullptr);
    if (!(b.speed >= 0.25 && b.speed <= 4.0)) {
      return fail(ErrorCode::kInvalidRequest, "'speed' must be a number from 0.25 to 4.", "speed");
    }
  }
  if (b.input.empty()) return fail(ErrorCode::kInvalidRequest, "Missing required parameter: 'input' (the text to speak).", "input");
  if (b.input.size() > kMaxInput) {
    return fail(ErrorCode::kInvalidRequest, fmt::format("'input' is longer than {} characters.", kMaxInput), "input");
  }
  if (b.voice.empty()) return fail(ErrorCode::kInvalidRequest, "Missing required parameter: 'voice'.", "voice");
  if (b.format.empty()) b.format = "mp3";  // OpenAI's default
  if (b.stream_format.empty()) b.stream_format = "audio";
  if (b.stream_format != "audio" && b.stream_format != "sse") {
    return fail(ErrorCode::kInvalidRequest, "'stream_format' must be \"audio\" or \"sse\".", "stream_format");
  }
  return b;
}

}  // namespace

http::Task<Result<bool>> Gateway::speak(http::Request& req, http::Response& res, RequestContext& ctx) {
  if (speech_ == nullptr || speech_->all().empty()) {
    co_return fail(ErrorCode::kUnavailable, "This gateway has no speech engines: configure `tts.engines`.");
  }
  auto body = read_body(req.body());
  if (!body) co_return tl::unexpected(body.error());
  auto format = audio::parse_format(body->format);
  if (!format) {
    Error e = format.error();
    e.param = "response_format";
    co_return tl::unexpected(std::move(e));
  }
  auto plan = speech_->plan(body->model, "model");
  if (!plan) co_return tl::unexpected(plan.error());
  if (auto v = plan->front()->check_voice(body->voice, "voice"); !v) co_return tl::unexpected(v.error());
  const bool named_engine = !body->model.empty() && plan->front()->name() == body->model;

  const auto ex = co_await boost::asio::this_coro::executor;
  speech::Speech speech({.engines = std::move(*plan), .voice = body->voice, .model = named_engine ? std::string() : body->model,
                         .format = *format, .streaming = true, .speed = body->speed},
                        client_, ex);
  speech.add_text(body->input);
  speech.end_text();
  speech::Event done(ex);
  bool running = true;
  boost::asio::co_spawn(ex, [&]() -> http::Task<void> {
    co_await speech.run();
    running = false;
    done.notify();
  }, boost::asio::detached);

  const bool sse = body->stream_format == "sse";
  bool began = false;
  bool gone = false;
  speech::Clock::time_point first_out{};  // when the first audio went to the client
  std::string out;
  for (;;) {
    out.clear();
    for (const auto& piece : speech.take()) {
      if (piece.transcript) continue;
      if (!sse) {
        out += piece.bytes;
        continue;
      }
      out += R"(data: {"type":"speech.audio.delta","audio":")";
      base64_append(out, piece.bytes);
      out += "\"}\n\n";
    }
    if (!out.empty() && !gone) {
      if (!began) {
        first_out = speech::Clock::now();
        if (ctx.record != nullptr) ctx.record->ttft_ms = std::chrono::duration_cast<std::chrono::milliseconds>(first_out - ctx.started).count();
        const std::array<http::Header, 1> h{http::Header{"x-switchyard-request-id", ctx.request_id}};
        began = co_await res.begin_stream(200, sse ? "text/event-stream; charset=utf-8" : audio::content_type(*format), h);
        gone = !began;
      }
      if (!gone && !co_await res.write(out)) gone = true;
      if (gone) speech.cancel();
    }
    if (speech.finished()) break;
    co_await speech.ready().wait();
  }
  while (running) co_await done.wait();
  const speech::SpeechStats& s = speech.stats();
  if (telemetry::RequestRecord* log = ctx.record) {
    log_speech(*log, s, first_out, ctx.started);
    log->model = s.engine;
  }
  if (!began) {
    if (gone) co_return true;
    co_return fail(ErrorCode::kUpstreamError, fmt::format("No speech engine could speak the input: {}", s.error), "input");
  }
  if (!gone && sse) {
    const int64_t tokens = (s.chars + 3) / 4;  // an estimate: engines bill characters, not tokens
    const std::string done_event = fmt::format(
        R"(data: {{"type":"speech.audio.done","usage":{{"input_tokens":{},"output_tokens":0,"total_tokens":{}}}}})"
        "\n\n",
        tokens, tokens);
    co_await res.write(done_event);
  }
  if (!gone) co_await res.end_stream();
  co_return true;
}

}  // namespace sy::gateway
