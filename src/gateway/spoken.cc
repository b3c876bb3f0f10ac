#include "gateway/spoken.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include "core/base64.h"
#include "core/json_scan.h"
#include "gateway/gateway.h"
#include "speech/engine.h"

namespace sy::gateway {
namespace {

constexpr std::array<std::string_view, 3> kIdKeys{"id", "created", "model"};
constexpr std::array<std::string_view, 2> kChunkKeys{"choices", "usage"};
constexpr std::array<std::string_view, 2> kChoiceKeys{"delta", "finish_reason"};
constexpr std::array<std::string_view, 1> kContent{"content"};
constexpr std::array<std::string_view, 1> kMessage{"message"};

// The payload of an SSE event's data line(s): "" when it has none.
std::string_view data_of(std::string_view event) {
  for (size_t at = 0; at < event.size();) {
    size_t end = event.find('\n', at);
    if (end == std::string_view::npos) end = event.size();
    std::string_view line = event.substr(at, end - at);
    if (line.starts_with("data:")) {
      line.remove_prefix(5);
      if (line.starts_with(' ')) line.remove_prefix(1);
      return line;
    }
    at = end + 1;
  }
  return {};
}

// The first choice of a chunk or answer, as an object's text; "" when none.
std::string_view first_choice(std::string_view choices) {
  std::vector<json::Field> list;
  if (!json::scan_array(choices, list) || list.empty() || list[0].kind != json::Kind::kObject) return {};
  return list[0].raw;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

SpokenResponse::SpokenResponse(http::Response& inner, speech::Speech& speech, const ClientDialect& dialect,
                               const boost::asio::any_io_executor& ex, std::string audio_id)
    : inner_(inner), speech_(speech), dialect_(dialect), ex_(ex), audio_id_(std::move(audio_id)),
      write_free_(ex), pump_done_(ex), speech_done_(ex), expires_at_(unix_now() + 3600) {}

void log_speech(telemetry::RequestRecord& log, const speech::SpeechStats& stats, speech::Clock::time_point first_audio,
                speech::Clock::time_point started) {
  log.tts_engine = stats.engine;
  log.tts_chars = stats.chars;
  log.audio_seconds = stats.seconds();
  log.tts_cost_usd = stats.cost_usd;
  log.tts_error = stats.error;
  if (first_audio != speech::Clock::time_point{}) {
    log.tts_first_audio_ms = std::chrono::duration_cast<std::chrono::milliseconds>(first_audio - started).count();
  }
}

http::Task<bool> SpokenResponse::send(int status, std::string_view content_type, std::string_view body,
                                      std::span<const http::Header> headers) {
  std::array<json::Field, 1> choices_field;
  std::array<json::Field, 1> message;
  std::array<json::Field, 1> content;
  static constexpr std::array<std::string_view, 1> kChoices{"choices"};
  if (status != 200 || !content_type.starts_with("application/json") || !json::scan_object(body, kChoices, choices_field) ||
      !json::scan_object(first_choice(choices_field[0].raw), kMessage, message) ||
      !json::scan_object(message[0].raw, kContent, content) || content[0].kind != json::Kind::kString) {
    co_return co_await inner_.send(status, content_type, body, headers);  // nothing to speak
  }
  speech_.add_text(json::unescape(content[0].raw));
  speech_.end_text();
  speech_running_ = true;
  co_await speech_.run();
  speech_running_ = false;
  if (speech_.failed() && speech_.stats().samples == 0) {
    const Error e{ErrorCode::kUpstreamError, fmt::format("the answer could not be spoken: {}", speech_.stats().error), "audio", 0};
    const std::string error = dialect_.error_body(e);
    co_return co_await inner_.send(http_status(e.code), "application/json", error, headers);
  }
  std::string audio;
  for (const auto& out : speech_.take()) {
    if (!out.transcript) audio += out.bytes;
  }
  // choices[0].message gets "audio", before its closing brace.
  const std::string_view m = message[0].raw;
  const size_t close_at = static_cast<size_t>(m.data() - body.data()) + m.size() - 1;
  std::string out;
  out.reserve(body.size() + audio.size() * 4 / 3 + 256);
  out.append(body.substr(0, close_at));
  if (m.size() > 2) out += ',';
  fmt::format_to(std::back_inserter(out), R"("audio":{{"id":"{}","data":")", audio_id_);
  base64_append(out, audio);
  fmt::format_to(std::back_inserter(out), R"(","expires_at":{},"transcript":{}}})", expires_at_, content[0].raw);
  out.append(body.substr(close_at));
  first_audio_ = speech::Clock::now();
  co_return co_await inner_.send(status, content_type, out, headers);
}

http::Task<bool> SpokenResponse::begin_stream(int status, std::string_view content_type,
                                              std::span<const http::Header> headers) {
  const bool ok = co_await inner_.begin_stream(status, content_type, headers);
  if (ok && status == 200 && !speaking_) {
    speaking_ = speech_running_ = pumping_ = true;
    boost::asio::co_spawn(ex_, run_speech(), boost::asio::detached);
    boost::asio::co_spawn(ex_, pump(), boost::asio::detached);
  }
  co_return ok;
}

http::Task<void> SpokenResponse::pump() {
  std::string events;
  while (!draining_ && !client_gone_) {
    audio_events(events);
    if (!co_await forward(events)) break;
    if (speech_.finished() || draining_) break;
    co_await speech_.ready().wait();
  }
  pumping_ = false;
  pump_done_.notify();
}

http::Task<void> SpokenResponse::run_speech() {
  co_await speech_.run();
  speech_running_ = false;
  speech_done_.notify();
}

void SpokenResponse::note_ids(std::string_view json) {
  std::array<json::Field, 3> ids;
  if (!json::scan_object(json, kIdKeys, ids) || !ids[0].present()) return;
  chunk_head_ = "{\"id\":";
  chunk_head_ += ids[0].raw;
  chunk_head_ += R"(,"object":"chat.completion.chunk","created":)";
  chunk_head_ += ids[1].present() ? ids[1].raw : std::string_view("0");
  chunk_head_ += ",\"model\":";
  chunk_head_ += ids[2].present() ? ids[2].raw : std::string_view("\"\"");
  chunk_head_ += ',';
}

void SpokenResponse::audio_events(std::string& events) {
  for (const auto& out : speech_.take()) {
    events += "data: ";
    events += chunk_head_.empty() ? std::string_view(R"({"object":"chat.completion.chunk",)") : std::string_view(chunk_head_);
    fmt::format_to(std::back_inserter(events), R"("choices":[{{"index":0,"delta":{{"audio":{{"id":"{}",)", audio_id_);
    if (out.transcript) {
      if (first_piece_) fmt::format_to(std::back_inserter(events), R"("expires_at":{},)", expires_at_);
      first_piece_ = false;
      events += "\"transcript\":";
      json::append_quoted(events, out.bytes);
    } else {
      if (first_audio_ == speech::Clock::time_point{}) first_audio_ = speech::Clock::now();
      events += "\"data\":\"";
      base64_append(events, out.bytes);
      events += '"';
    }
    events += "}},\"finish_reason\":null}]}\n\n";
  }
}

http::Task<bool> SpokenResponse::forward(std::string& events) {
  if (events.empty()) co_return true;
  while (writing_) co_await write_free_.wait();  // the pump's and the relay's writes, one at a time
  writing_ = true;
  const bool ok = co_await inner_.write(events);
  writing_ = false;
  write_free_.notify();
  events.clear();
  if (!ok) {
    client_gone_ = true;
    speech_.cancel();
  }
  co_return ok;
}

http::Task<bool> SpokenResponse::drain() {
  draining_ = true;
  speech_.end_text();
  co_await stop_pump();
  std::string events;
  while (speaking_ && !client_gone_) {
    audio_events(events);
    if (!co_await forward(events)) co_return false;
    if (speech_.finished()) break;
    co_await speech_.ready().wait();
  }
  events.swap(held_);
  co_return co_await forward(events);
}

http::Task<bool> SpokenResponse::write(std::string_view data) {
  if (client_gone_) co_return false;
  if (draining_) {
    held_.append(data);
    co_return true;
  }
  // The relay's events up to the text's end (the pump writes the speech as it is ready).
  std::string events;
  partial_.append(data);
  size_t at = 0;
  while (at < partial_.size()) {
    const size_t end = partial_.find("\n\n", at);
    if (end == std::string::npos) break;
    const std::string_view event = std::string_view(partial_).substr(at, end + 2 - at);
    const std::string_view payload = data_of(event);
    bool ends_text = payload == "[DONE]";
    std::array<json::Field, 2> chunk;
    if (!ends_text && payload.starts_with('{') && json::scan_object(payload, kChunkKeys, chunk)) {
      if (chunk_head_.empty()) note_ids(payload);
      std::array<json::Field, 2> choice;
      std::array<json::Field, 1> content;
      const std::string_view first = first_choice(chunk[0].raw);
      if (!first.empty() && json::scan_object(first, kChoiceKeys, choice)) {
        if (json::scan_object(choice[0].raw, kContent, content) && content[0].kind == json::Kind::kString) {
          speech_.add_text(json::unescape(content[0].raw));
        }
        ends_text = choice[1].present() && choice[1].kind != json::Kind::kNull;
      } else if (first.empty() && chunk[1].present()) {
        ends_text = true;  // the usage chunk (no choices)
      }
    }
    if (ends_text) {
      held_.append(std::string_view(partial_).substr(at));
      partial_.clear();
      if (!co_await forward(events)) co_return false;
      co_return co_await drain();
    }
    events.append(event);
    at = end + 2;
  }
  partial_.erase(0, at);
  co_return co_await forward(events);
}

http::Task<bool> SpokenResponse::end_stream() {
  if (!client_gone_) {
    held_ += partial_;
    partial_.clear();
    const bool ok = co_await drain();  // what is left of the speech (if any), then what was held
    if (!ok) co_return false;
  }
  co_return co_await inner_.end_stream();
}

http::Task<void> SpokenResponse::stop_pump() {
  if (!pumping_) co_return;
  speech_.ready().notify();  // it sees draining_ or the speech's end, and stops
  while (pumping_) co_await pump_done_.wait();
}

http::Task<void> SpokenResponse::close() {
  if (!draining_ || client_gone_) speech_.cancel();
  speech_.end_text();
  draining_ = true;
  co_await stop_pump();
  while (speech_running_) co_await speech_done_.wait();
}

}  // namespace sy::gateway

// --- Gateway::chat_with_speech ------------------------------------------------------------

namespace sy::gateway {
namespace {

// The request's `audio`: {voice, format?, model?} (OpenAI's shape, and `model` naming an engine).
struct AudioRequest {
  std::string voice;
  std::string format;
  std::string model;
};

Result<AudioRequest> read_audio(std::string_view json) {
  static constexpr std::array<std::string_view, 3> kKeys{"voice", "format", "model"};
  std::array<json::Field, 3> f;
  if (!json::scan_object(json, kKeys, f)) return fail(ErrorCode::kInvalidRequest, "'audio' must be an object.", "audio");
  AudioRequest a;
  const std::array<std::pair<std::string*, std::string_view>, 3> out{
      {{&a.voice, "audio.voice"}, {&a.format, "audio.format"}, {&a.model, "audio.model"}}};
  for (size_t i = 0; i < f.size(); ++i) {
    if (!f[i].present() || f[i].kind == json::Kind::kNull) continue;
    if (f[i].kind != json::Kind::kString) {
      return fail(ErrorCode::kInvalidRequest, fmt::format("'{}' must be a string.", out[i].second), std::string(out[i].second));
    }
    *out[i].first = json::unescape(f[i].raw);
  }
  if (a.voice.empty()) {
    return fail(ErrorCode::kInvalidRequest, "'audio.voice' is required: a voice name such as \"alloy\".", "audio.voice");
  }
  return a;
}

}  // namespace

http::Task<Result<bool>> Gateway::chat_with_speech(http::Request& req, http::Response& res, const ClientDialect& dialect,
                                                   RequestContext& ctx, std::string audio_json, bool stream) {
  if (speech_ == nullptr || speech_->all().empty()) {
    co_return fail(ErrorCode::kInvalidRequest, "This gateway has no speech engines: configure `tts.engines`.", "audio");
  }
  auto audio = read_audio(audio_json);
  if (!audio) co_return tl::unexpected(audio.error());
  auto format = audio::parse_format(audio->format.empty() ? (stream ? "pcm16" : "wav") : audio->format);
  if (!format) co_return tl::unexpected(format.error());
  auto plan = speech_->plan(audio->model, "audio.model");
  if (!plan) co_return tl::unexpected(plan.error());
  if (auto v = plan->front()->check_voice(audio->voice, "audio.voice"); !v) co_return tl::unexpected(v.error());
  const bool named_engine = !audio->model.empty() && plan->front()->name() == audio->model;

  const auto ex = co_await boost::asio::this_coro::executor;
  speech::Speech speech({.engines = std::move(*plan), .voice = audio->voice, .model = named_engine ? std::string() : audio->model,
                         .format = *format, .streaming = stream},
                        client_, ex);
  SpokenResponse spoken(res, speech, dialect, ex, fmt::format("audio_{}", ctx.request_id));
  ctx.speaking = true;
  auto r = co_await chat_completions(req, spoken, dialect, ctx);
  co_await spoken.close();
  if (ctx.record != nullptr) log_speech(*ctx.record, speech.stats(), spoken.first_audio(), ctx.started);
  co_return r;
}

}  // namespace sy::gateway
