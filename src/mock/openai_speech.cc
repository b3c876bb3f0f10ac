// OpenAI's text-to-speech, POST /v1/audio/speech, as api.openai.com speaks it.
//
// Sources checked (2025-26): the API reference "Create speech" and its two stream events
// (platform.openai.com/docs/api-reference/audio/createSpeech, speech-audio-delta-event,
// speech-audio-done-event; mirrored in github.com/xiqi/openai-api-markdown audio/*.md): body
// {model, input (max 4096 characters), voice (13 built-in names or {"id": ...}), instructions,
// response_format mp3|opus|aac|flac|wav|pcm (default mp3), speed 0.25–4.0, stream_format
// audio|sse (default audio)}; SSE events data: {"type":"speech.audio.delta","audio":"<base64>"}
// then data: {"type":"speech.audio.done","usage":{"input_tokens","output_tokens","total_tokens"}}.
// pcm is 24 kHz 16-bit LE mono. Errors are OpenAI's {"error":{message,type,param,code}}; the
// invalid-enum wording follows the API's "Invalid value: 'x'. Supported values are: ..." (a 2025
// report, openai/openai-node#1284, shows the speech endpoint once answering unknown voices with
// a pydantic-style message and param null; we name the param, as the current API does).
//
// What the mock adds: it synthesizes only pcm and wav (mock/speech.h); the compressed formats
// get a 400 that says so. input_tokens counts words (as the chat mock does), output_tokens one
// per 40 ms of audio. A wav is always streamed, so its RIFF and data sizes are 0xFFFFFFFF.

#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstdlib>

#include "audio/wav.h"
#include "core/base64.h"
#include "core/ids.h"
#include "core/json_scan.h"
#include "mock/behaviour.h"
#include "mock/openai.h"
#include "mock/request.h"
#include "mock/sleeper.h"
#include "mock/speech.h"
#include "mock/stream.h"

namespace sy::mock {
namespace {

using http::Header;
using http::Request;
using http::Response;
using http::Task;

constexpr int kSampleRate = 24000;  // OpenAI's pcm: 24 kHz, 16-bit LE, mono
constexpr size_t kMaxInput = 4096;  // characters
constexpr double kMinSpeed = 0.25;
constexpr double kMaxSpeed = 4.0;

// The built-in voices and the pitch the mock gives each (lower for the deeper voices).
struct NamedVoice {
  std::string_view name;
  double pitch_hz;
};
constexpr std::array<NamedVoice, 13> kVoices{{{"alloy", 175}, {"ash", 130},   {"ballad", 140}, {"coral", 205},
                                              {"echo", 125},  {"fable", 160}, {"onyx", 120},   {"nova", 215},
                                              {"sage", 195},  {"shimmer", 220}, {"verse", 145}, {"marin", 200},
                                              {"cedar", 135}}};
constexpr std::array<std::string_view, 6> kFormats{"mp3", "opus", "aac", "flac", "wav", "pcm"};
constexpr std::array<std::string_view, 2> kStreamFormats{"sse", "audio"};

struct Rejection {
  std::string message;
  std::string param;
  std::string code;
};

struct SpeechRequest {
  std::string model;
  std::string input;
  SpeechVoice voice;
  bool wav = false;
  bool sse = false;
  double speed = 1.0;
};

// "'a', 'b', and 'c'", as OpenAI lists supported values.
template <class Range, class Name>
std::string quoted_list(const Range& values, Name name) {
  std::string out;
  size_t i = 0;
  for (const auto& v : values) {
    if (i > 0) out += i + 1 == std::size(values) ? ", and " : ", ";
    fmt::format_to(std::back_inserter(out), "'{}'", name(v));
    ++i;
  }
  return out;
}

Rejection invalid_value(std::string_view param, std::string_view value, std::string supported) {
  return {fmt::format("Invalid value: '{}'. Supported values are: {}.", value, supported), std::string(param), "invalid_value"};
}

tl::expected<SpeechVoice, Rejection> read_voice(const json::Field& f) {
  if (f.kind == json::Kind::kString) {
    const std::string name = json::unescape(f.raw);
    for (const NamedVoice& v : kVoices) {
      if (v.name == name) return speech_voice(name, v.pitch_hz);
    }
    return tl::unexpected(invalid_value("voice", name, quoted_list(kVoices, [](const NamedVoice& v) { return v.name; })));
  }
  if (f.kind == json::Kind::kObject) {  // a custom voice, {"id": "voice_1234"}
    static constexpr std::array<std::string_view, 1> kId{"id"};
    std::array<json::Field, 1> id;
    if (json::scan_object(f.raw, kId, id) && id[0].kind == json::Kind::kString) return speech_voice(json::unescape(id[0].raw));
  }
  return tl::unexpected(Rejection{"Invalid type for 'voice': expected a string or an object with a string 'id'.", "voice", "invalid_type"});
}

tl::expected<SpeechRequest, Rejection> parse(const std::string& body) {
  static constexpr std::array<std::string_view, 6> kKeys{"model", "input", "voice", "response_format", "speed", "stream_format"};
  std::array<json::Field, 6> f;
  if (auto r = json::scan_object(body, kKeys, f); !r) {
    return tl::unexpected(Rejection{fmt::format("We could not parse the JSON body of your request. ({})", r.error().message), {}, {}});
  }
  SpeechRequest out;
  if (f[0].kind != json::Kind::kString) return tl::unexpected(Rejection{"you must provide a model parameter", {}, {}});
  out.model = json::unescape(f[0].raw);
  if (f[1].kind != json::Kind::kString) return tl::unexpected(Rejection{"Missing required parameter: 'input'.", "input", "missing_required_parameter"});
  out.input = json::unescape(f[1].raw);
  if (!f[2].present()) return tl::unexpected(Rejection{"Missing required parameter: 'voice'.", "voice", "missing_required_parameter"});
  if (const size_t n = count_characters(out.input); n > kMaxInput) {
    return tl::unexpected(Rejection{fmt::format("Invalid 'input': string too long. Expected a string with maximum length {}, but got a string with length {} instead.", kMaxInput, n),
                                    "input", "string_above_max_length"});
  }
  auto voice = read_voice(f[2]);
  if (!voice) return tl::unexpected(voice.error());
  out.voice = *voice;
  const std::string format = f[3].kind == json::Kind::kString ? json::unescape(f[3].raw) : "mp3";
  if (std::find(kFormats.begin(), kFormats.end(), format) == kFormats.end()) {
    return tl::unexpected(invalid_value("response_format", format, quoted_list(kFormats, [](std::string_view v) { return v; })));
  }
  if (format != "pcm" && format != "wav") {
    return tl::unexpected(Rejection{fmt::format("The mock upstream synthesizes only pcm and wav; response_format '{}' is not supported "
                                                "(mp3 is the default: ask for \"response_format\": \"pcm\" or \"wav\").", format),
                                    "response_format", "unsupported_value"});
  }
  out.wav = format == "wav";
  if (f[4].kind == json::Kind::kNumber) {
    out.speed = std::strtod(std::string(f[4].raw).c_str(), nullptr);
    if (out.speed < kMinSpeed) {
      return tl::unexpected(Rejection{fmt::format("Invalid 'speed': decimal below minimum value. Expected a value >= {}, but got {} instead.", kMinSpeed, out.speed),
                                      "speed", "decimal_below_min_value"});
    }
    if (out.speed > kMaxSpeed) {
      return tl::unexpected(Rejection{fmt::format("Invalid 'speed': decimal above maximum value. Expected a value <= {}, but got {} instead.", kMaxSpeed, out.speed),
                                      "speed", "decimal_above_max_value"});
    }
  }
  const std::string stream_format = f[5].kind == json::Kind::kString ? json::unescape(f[5].raw) : "audio";
  if (std::find(kStreamFormats.begin(), kStreamFormats.end(), stream_format) == kStreamFormats.end()) {
    return tl::unexpected(invalid_value("stream_format", stream_format, quoted_list(kStreamFormats, [](std::string_view v) { return v; })));
  }
  out.sse = stream_format == "sse";
  return out;
}

void append_delta(std::string& out, std::string_view audio) {
  out += R"(data: {"type":"speech.audio.delta","audio":")";
  base64_append(out, audio);
  out += "\"}\n\n";
}

}  // namespace

Task<void> openai_speech(Request& req, Response& res) {
  const auto p = parse(req.body());
  if (!p) {
    co_await openai_error(res, 400, p.error().message, "invalid_request_error", p.error().param, p.error().code);
    co_return;
  }
  const Behaviour b = Behaviour::parse(p->model, &req).resolve(Protocol::kOpenAi);
  const SpeechSignal signal(p->input, p->voice, kSampleRate, p->speed);
  Sleeper sleeper(co_await boost::asio::this_coro::executor);
  if (b.hang) {
    co_await sleeper.sleep(req, std::chrono::hours(1));
    co_return;
  }
  if (!co_await sleeper.sleep(req, b.ttft)) co_return;
  if (b.drop) {  // a reset before any byte of the answer
    res.abort();
    co_return;
  }
  if (b.status != 200) {
    co_await openai_fault(res, b);
    co_return;
  }
  char request_id[kRequestIdSize];
  new_request_id(request_id);
  const std::string processing_ms = std::to_string(b.ttft.count());
  const std::array<Header, 3> headers{Header{"x-request-id", std::string_view(request_id, kRequestIdSize)},
                                      Header{"openai-version", "2020-10-01"},
                                      Header{"openai-processing-ms", processing_ms}};
  const std::string_view content_type = p->sse ? "text/event-stream; charset=utf-8" : p->wav ? "audio/wav" : "audio/pcm";
  if (!co_await res.begin_stream(200, content_type, headers)) co_return;

  // Piece i of the audio bytes: the wav header first, then 40 ms of samples; raw, or one
  // speech.audio.delta event.
  std::string audio;
  const bool sse = p->sse;
  auto piece = [&](int i) {
    audio.clear();
    if (i == 0 && p->wav) audio += audio::wav_header(kSampleRate, 1, audio::kWavUnknownSize);
    signal.render_piece(i, audio);
  };
  auto emit = [&](int i, std::string& out) {
    piece(i);
    if (sse) append_delta(out, audio);
    else out += audio;
  };
  auto garble = [&](std::string& out) {  // the next piece cut off: an odd byte count, or a cut-off event
    audio.clear();
    signal.render_piece(0, audio);
    if (sse) out += R"(data: {"type":"speech.audio.delta","audio":"AAAA)" "\n\n";
    else out.append(audio, 0, audio.size() / 2 | 1);
  };
  if (!co_await write_deltas(req, res, sleeper, paced(b), signal.pieces(), emit, garble)) co_return;
  if (sse) {
    const int input_tokens = count_words(p->input);
    const int output_tokens = signal.pieces();
    const std::string done = fmt::format(
        "data: {{\"type\":\"speech.audio.done\",\"usage\":{{\"input_tokens\":{},\"output_tokens\":{},\"total_tokens\":{}}}}}\n\n",
        input_tokens, output_tokens, input_tokens + output_tokens);
    if (!co_await res.write(done)) co_return;
  }
  co_await res.end_stream();
}

}  // namespace sy::mock
