#include "speech/openai_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/json_scan.h"
#include "speech/remote.h"

namespace sy::speech {
namespace {

constexpr double kMinSpeed = 0.25;  // the API's range
constexpr double kMaxSpeed = 4.0;
constexpr std::string_view kCustomVoicePrefix = "voice_";  // a custom voice's id

}  // namespace

Result<std::unique_ptr<OpenAiEngine>> OpenAiEngine::make(EngineConfig config) {
  if (config.base_url.empty()) {
    return fail(ErrorCode::kInvalidRequest,
                fmt::format("tts engine '{}' (openai): base_url is required, e.g. \"https://api.openai.com/v1\"",
                            config.name));
  }
  auto url = http::Url::parse(config.base_url);
  if (!url) {
    return fail(ErrorCode::kInvalidRequest, fmt::format("tts engine '{}': {}", config.name, url.error().message));
  }
  if (config.model.empty()) config.model = kDefaultModel;
  return std::unique_ptr<OpenAiEngine>(new OpenAiEngine(std::move(config), std::move(*url)));
}

OpenAiEngine::OpenAiEngine(EngineConfig config, http::Url url)
    : config_(std::move(config)), url_(std::move(url)), target_(url_.path + "/audio/speech"),
      authorization_(config_.api_key.empty() ? std::string() : "Bearer " + config_.api_key) {}

std::string_view OpenAiEngine::upstream_voice(std::string_view voice) const {
  for (const auto& [name, upstream] : config_.voices) {
    if (name == voice) return upstream;
  }
  return voice;
}

Result<void> OpenAiEngine::check_voice(std::string_view voice, std::string_view param) const {
  if (std::find(kVoices.begin(), kVoices.end(), voice) != kVoices.end()) return {};
  std::vector<std::string_view> names(kVoices.begin(), kVoices.end());
  for (const auto& [name, upstream] : config_.voices) {
    if (voice == name || voice == upstream) return {};
    names.push_back(name);
  }
  return unknown_voice(config_.name, voice, param, names);
}

std::string OpenAiEngine::body(const SpeakRequest& request) const {
  const std::string_view voice = upstream_voice(request.voice);
  std::string out = R"({"model":)";
  json::append_quoted(out, request.model.empty() ? std::string_view(config_.model) : request.model);
  out += R"(,"input":)";
  json::append_quoted(out, request.text);
  out += R"(,"voice":)";
  if (voice.starts_with(kCustomVoicePrefix)) {
    out += R"({"id":)";
    json::append_quoted(out, voice);
    out += '}';
  } else {
    json::append_quoted(out, voice);
  }
  fmt::format_to(std::back_inserter(out), R"(,"response_format":"pcm","stream_format":"audio","speed":{}}})",
                 std::isfinite(request.speed) ? std::clamp(request.speed, kMinSpeed, kMaxSpeed) : 1.0);
  return out;
}

http::Task<Result<void>> OpenAiEngine::speak(SpeakRequest request, http::Client& client, PcmSink& sink) const {
  if (auto voice = check_voice(request.voice, "voice"); !voice) co_return voice;
  const std::string payload = body(request);
  const std::array<std::string_view, 1> parts{payload};
  const std::array<http::Header, 2> headers{http::Header{"content-type", "application/json"},
                                            http::Header{"authorization", authorization_}};
  const size_t header_count = authorization_.empty() ? 1 : 2;
  const http::OutRequest out{"POST", target_, std::span(headers.data(), header_count), parts};
  const PcmPost how{.engine = config_.name, .read_error = read_openai_error};
  co_return co_await post_for_pcm(client, url_, out, sink, how);
}

}  // namespace sy::speech
