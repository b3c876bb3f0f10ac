// ElevenLabs' text-to-speech endpoints (see elevenlabs.h).
//
// Sources checked: the API reference "Stream speech" / "Create speech"
// (elevenlabs.io/docs/api-reference/text-to-speech/stream and /convert: path voice_id, query
// output_format codec_rate[_bitrate] defaulting to mp3_44100_128, body text, model_id,
// voice_settings); error bodies as the API returns them, recorded in github issues and probes:
// 401 {"detail":{"status":"invalid_api_key","message":"Invalid API key"}} (SillyTavern#4483),
// 401 needs_authorization "Neither authorization header nor xi-api-key received, please provide
// one.", 404 voice_not_found "A voice with the voice_id <id> was not found." (elevenlabs-docs
// PR #1317, 2025), 400 invalid_voice_settings "Invalid setting for stability received, expected
// to be greater or equal to 0.0 and less or equal to 1.0, received 2.0.", 422 FastAPI lists
// [{"type":"missing","loc":["body","text"],"msg":"Field required","input":null}] (a 2025 error
// survey, Damonbodine/wordwise-ai scripts/elevenlabs-error-documentation.md), 429
// too_many_concurrent_requests (rogeriochaves/bmo#5); pcm output is served as audio/pcm
// (Andrewcpu/elevenlabs-api#17); response headers request-id and x-character-count.
// Not verified, the mock's own: the wording of injected 5xx bodies and of the 400 for a format
// the mock does not synthesize.

#include "mock/elevenlabs.h"

#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <optional>

#include "core/ids.h"
#include "core/json_scan.h"
#include "http/wire.h"
#include "mock/behaviour.h"
#include "mock/sleeper.h"
#include "mock/speech.h"
#include "mock/stream.h"

namespace sy::mock {
namespace {

using http::Header;
using http::Request;
using http::Response;
using http::Task;

constexpr std::string_view kPrefix = "/v1/text-to-speech/";
constexpr std::string_view kDefaultFormat = "mp3_44100_128";

// A few of ElevenLabs' premade voices (their ids are the same in every account).
struct PremadeVoice {
  std::string_view id;
  std::string_view name;
  double pitch_hz;
};
constexpr std::array<PremadeVoice, 4> kVoices{{{"21m00Tcm4TlvDq8ikWAM", "Rachel", 210},
                                               {"EXAVITQu4vr4xnSDxMaL", "Sarah", 200},
                                               {"JBFqnCBsd6RMkjVDRZzb", "George", 130},
                                               {"pNInz6obpgDQGcFmaJgB", "Adam", 120}}};
constexpr std::array<int, 7> kPcmRates{8000, 16000, 22050, 24000, 32000, 44100, 48000};

Task<void> send_json(Response& res, int status, std::string_view body, int retry_after = -1) {
  const std::string retry = std::to_string(retry_after);
  const std::array<Header, 1> headers{Header{"retry-after", retry}};
  co_await res.send(status, "application/json", body, std::span<const Header>(headers.data(), retry_after >= 0 ? 1 : 0));
}

Task<void> send_error(Response& res, int status, std::string_view code, std::string_view message, int retry_after = -1) {
  co_await send_json(res, status, elevenlabs_error_json(code, message), retry_after);
}

// FastAPI's 422: {"detail":[{"type","loc":["body",<field>],"msg","input"}]}.
std::string validation_json(std::string_view type, std::string_view field, std::string_view msg, std::string_view input_json) {
  std::string out = R"({"detail":[{"type":)";
  json::append_quoted(out, type);
  out += R"(,"loc":["body",)";
  json::append_quoted(out, field);
  out += R"(],"msg":)";
  json::append_quoted(out, msg);
  out += R"(,"input":)";
  out += input_json;
  out += "}]}";
  return out;
}

struct Target {
  std::string voice_id;
  bool stream = false;
};

// "/v1/text-to-speech/<voice_id>[/stream]"; none for any other path below the prefix.
std::optional<Target> read_target(std::string_view path) {
  path.remove_prefix(kPrefix.size());
  const size_t slash = path.find('/');
  Target t{http::percent_decode(path.substr(0, slash)), false};
  if (slash != std::string_view::npos) {
    if (path.substr(slash) != "/stream") return std::nullopt;
    t.stream = true;
  }
  if (t.voice_id.empty()) return std::nullopt;
  return t;
}

// The 401 for a request without the key, if it lacks it.
std::optional<std::string> auth_error(const Request& req, const MockOptions& options) {
  if (options.api_key.empty()) return std::nullopt;
  const std::string_view key = req.header("xi-api-key");
  const std::string_view bearer = req.header("authorization");
  if (key.empty() && bearer.empty()) {
    return elevenlabs_error_json("needs_authorization", "Neither authorization header nor xi-api-key received, please provide one.");
  }
  if (key == options.api_key || bearer == "Bearer " + options.api_key) return std::nullopt;
  return elevenlabs_error_json("invalid_api_key", "Invalid API key");
}

struct Settings {
  double speed = 1.0;
};

// voice_settings' ranges: stability, similarity_boost and style 0–1, speed 0.7–1.2.
tl::expected<Settings, std::string> read_settings(const json::Field& f) {
  Settings out;
  if (f.kind != json::Kind::kObject) return out;
  static constexpr std::array<std::string_view, 4> kKeys{"stability", "similarity_boost", "style", "speed"};
  static constexpr std::array<std::pair<double, double>, 4> kRanges{{{0.0, 1.0}, {0.0, 1.0}, {0.0, 1.0}, {0.7, 1.2}}};
  std::array<json::Field, 4> v;
  if (!json::scan_object(f.raw, kKeys, v)) return out;
  for (size_t i = 0; i < kKeys.size(); ++i) {
    if (v[i].kind != json::Kind::kNumber) continue;
    const double x = std::strtod(std::string(v[i].raw).c_str(), nullptr);
    if (x < kRanges[i].first || x > kRanges[i].second) {
      return tl::unexpected(fmt::format("Invalid setting for {} received, expected to be greater or equal to {:.1f} and less or equal to {:.1f}, received {:.1f}.",
                                        kKeys[i], kRanges[i].first, kRanges[i].second, x));
    }
    if (i == 3) out.speed = x;
  }
  return out;
}

// The sample rate of a pcm_<rate> output format; none for any other.
std::optional<int> pcm_rate(std::string_view format) {
  for (const int rate : kPcmRates) {
    if (format == fmt::format("pcm_{}", rate)) return rate;
  }
  return std::nullopt;
}

Task<void> fault(Response& res, const Behaviour& b) {
  switch (b.status) {
    case 400: co_await send_error(res, 400, "invalid_request", "Invalid request (injected by the mock)."); break;
    case 401: co_await send_error(res, 401, "invalid_api_key", "Invalid API key"); break;
    case 429:
      co_await send_error(res, 429, "too_many_concurrent_requests",
                          "Too many concurrent requests. Your current subscription is associated with a maximum of 2 concurrent "
                          "requests (running in parallel). Please upgrade your subscription or contact sales if you want to "
                          "increase this limit.",
                          b.retry_after_s);
      break;
    case 503: co_await send_error(res, 503, "service_unavailable", "The service is temporarily unavailable, please try again later."); break;
    default: co_await send_error(res, b.status, "internal_server_error", "An internal server error occurred, please try again later."); break;
  }
}

}  // namespace

bool is_elevenlabs(std::string_view path) { return path.starts_with(kPrefix); }

std::string elevenlabs_error_json(std::string_view status, std::string_view message) {
  std::string out = R"({"detail":{"status":)";
  json::append_quoted(out, status);
  out += R"(,"message":)";
  json::append_quoted(out, message);
  out += "}}";
  return out;
}

Task<void> elevenlabs_tts(Request& req, Response& res, const MockOptions& options) {
  const std::optional<Target> target = read_target(req.path());
  if (!target) {
    co_await send_json(res, 404, R"({"detail":"Not Found"})");
    co_return;
  }
  if (req.method() != http::Method::kPost) {
    co_await send_json(res, 405, R"({"detail":"Method Not Allowed"})");
    co_return;
  }
  if (const auto denied = auth_error(req, options)) {
    co_await send_json(res, 401, *denied);
    co_return;
  }
  static constexpr std::array<std::string_view, 3> kKeys{"text", "model_id", "voice_settings"};
  std::array<json::Field, 3> f;
  if (auto r = json::scan_object(req.body(), kKeys, f); !r) {
    std::string body = R"({"detail":[{"type":"json_invalid","loc":["body",0],"msg":"JSON decode error","input":{},"ctx":{"error":)";
    json::append_quoted(body, r.error().message);
    body += "}}]}";
    co_await send_json(res, 422, body);
    co_return;
  }
  if (f[0].kind != json::Kind::kString) {
    const std::string body = f[0].present() ? validation_json("string_type", "text", "Input should be a valid string", f[0].raw)
                                            : validation_json("missing", "text", "Field required", "null");
    co_await send_json(res, 422, body);
    co_return;
  }
  const PremadeVoice* voice = nullptr;
  for (const PremadeVoice& v : kVoices) {
    if (v.id == target->voice_id) voice = &v;
  }
  if (voice == nullptr) {
    co_await send_error(res, 404, "voice_not_found", fmt::format("A voice with the voice_id {} was not found.", target->voice_id));
    co_return;
  }
  std::string format = http::query_param(req.target(), "output_format");
  if (format.empty()) format = kDefaultFormat;
  const std::optional<int> rate = pcm_rate(format);
  if (!rate) {
    co_await send_error(res, 400, "invalid_output_format",
                        fmt::format("The mock upstream produces only pcm output (pcm_8000 to pcm_48000), not '{}'{}: ask for "
                                    "?output_format=pcm_24000.", format, format == kDefaultFormat ? " (the default)" : ""));
    co_return;
  }
  const auto settings = read_settings(f[2]);
  if (!settings) {
    co_await send_error(res, 400, "invalid_voice_settings", settings.error());
    co_return;
  }

  const std::string text = json::unescape(f[0].raw);
  const std::string model = f[1].kind == json::Kind::kString ? json::unescape(f[1].raw) : "";
  // Overloads draw 503, as in the OpenAI protocol.
  const Behaviour b = paced(Behaviour::parse(model, &req).resolve(Protocol::kOpenAi));
  const SpeechSignal signal(text, speech_voice(voice->id, voice->pitch_hz), *rate, settings->speed);
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
    co_await fault(res, b);
    co_return;
  }
  char request_id[kRequestIdSize];
  new_request_id(request_id);
  const std::string characters = std::to_string(count_characters(text));
  const std::array<Header, 2> headers{Header{"request-id", std::string_view(request_id, kRequestIdSize)},
                                      Header{"x-character-count", characters}};

  if (!target->stream) {  // the whole clip once synthesized
    if (!co_await sleeper.sleep(req, b.gap * (signal.pieces() - 1))) co_return;
    std::string audio;
    signal.render(0, signal.samples(), audio);
    if (b.garble >= 0) audio.resize(audio.size() / 2 | 1);  // cut off mid-sample
    co_await res.send(200, "audio/pcm", audio, headers);
    co_return;
  }

  if (!co_await res.begin_stream(200, "audio/pcm", headers)) co_return;
  auto emit = [&](int i, std::string& out) { signal.render_piece(i, out); };
  std::string cut;
  auto garble = [&](std::string& out) {  // the next piece cut off mid-sample
    cut.clear();
    signal.render_piece(0, cut);
    out.append(cut, 0, cut.size() / 2 | 1);
  };
  if (!co_await write_deltas(req, res, sleeper, b, signal.pieces(), emit, garble)) co_return;
  co_await res.end_stream();
}

}  // namespace sy::mock
