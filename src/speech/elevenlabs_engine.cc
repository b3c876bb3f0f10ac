#include "speech/elevenlabs_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "core/json_scan.h"
#include "http/wire.h"
#include "speech/remote.h"

namespace sy::speech {

Result<std::unique_ptr<ElevenLabsEngine>> ElevenLabsEngine::make(EngineConfig config) {
  if (config.base_url.empty()) {
    return fail(ErrorCode::kInvalidRequest,
                fmt::format("tts engine '{}' (elevenlabs): base_url is required, e.g. \"https://api.elevenlabs.io\"",
                            config.name));
  }
  auto url = http::Url::parse(config.base_url);
  if (!url) {
    return fail(ErrorCode::kInvalidRequest, fmt::format("tts engine '{}': {}", config.name, url.error().message));
  }
  if (url->path.ends_with("/v1")) url->path.resize(url->path.size() - 3);
  if (config.voices.empty()) {
    return fail(ErrorCode::kInvalidRequest,
                fmt::format("tts engine '{}' (elevenlabs): list its voices as name → voice id, e.g. "
                            "voices: {{rachel: 21m00Tcm4TlvDq8ikWAM}} (ElevenLabs addresses voices by id)",
                            config.name));
  }
  if (config.model.empty()) config.model = kDefaultModel;
  return std::unique_ptr<ElevenLabsEngine>(new ElevenLabsEngine(std::move(config), std::move(*url)));
}

ElevenLabsEngine::ElevenLabsEngine(EngineConfig config, http::Url url)
    : config_(std::move(config)), url_(std::move(url)) {}

std::string_view ElevenLabsEngine::voice_id(std::string_view voice) const {
  for (const auto& [name, id] : config_.voices) {
    if (name == voice) return id;
  }
  return voice;  // a bare id (check_voice accepts only listed ones)
}

Result<void> ElevenLabsEngine::check_voice(std::string_view voice, std::string_view param) const {
  std::vector<std::string_view> names;
  for (const auto& [name, id] : config_.voices) {
    if (voice == name || voice == id) return {};
    names.push_back(name);
  }
  return unknown_voice(config_.name, voice, param, names);
}

std::string ElevenLabsEngine::target(const SpeakRequest& request) const {
  return fmt::format("{}/v1/text-to-speech/{}/stream?output_format=pcm_24000", url_.path,
                     http::percent_encode(voice_id(request.voice)));
}

std::string ElevenLabsEngine::body(const SpeakRequest& request) const {
  std::string out = R"({"text":)";
  json::append_quoted(out, request.text);
  out += R"(,"model_id":)";
  json::append_quoted(out, request.model.empty() ? std::string_view(config_.model) : request.model);
  if (std::isfinite(request.speed) && request.speed != 1.0) {
    fmt::format_to(std::back_inserter(out), R"(,"voice_settings":{{"speed":{}}})",
                   std::clamp(request.speed, kMinSpeed, kMaxSpeed));
  }
  out += '}';
  return out;
}

http::Task<Result<void>> ElevenLabsEngine::speak(SpeakRequest request, http::Client& client, PcmSink& sink) const {
  if (auto voice = check_voice(request.voice, "voice"); !voice) co_return voice;
  const std::string path = target(request);
  const std::string payload = body(request);
  const std::array<std::string_view, 1> parts{payload};
  const std::array<http::Header, 2> headers{http::Header{"content-type", "application/json"},
                                            http::Header{"xi-api-key", config_.api_key}};
  const size_t header_count = config_.api_key.empty() ? 1 : 2;
  const http::OutRequest out{"POST", path, std::span(headers.data(), header_count), parts};
  const PcmPost how{.engine = config_.name, .read_error = read_elevenlabs_error};
  co_return co_await post_for_pcm(client, url_, out, sink, how);
}

}  // namespace sy::speech
