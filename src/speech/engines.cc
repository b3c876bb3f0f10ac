// Engines::build: one engine per configured kind (factories in the *_engine.h headers).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "speech/elevenlabs_engine.h"
#include "speech/engine.h"
#include "speech/espeak_engine.h"
#include "speech/openai_engine.h"

namespace sy::speech {
namespace {

constexpr std::string_view kDefaultName = "espeak";

Result<std::unique_ptr<TtsEngine>> make_engine(const EngineConfig& config, const audio::EspeakOptions& espeak) {
  auto upcast = [](auto made) -> Result<std::unique_ptr<TtsEngine>> {
    if (!made) return tl::unexpected(made.error());
    return std::unique_ptr<TtsEngine>(std::move(*made));
  };
  if (config.kind == "espeak") return upcast(EspeakEngine::open(config, espeak));
  if (config.kind == "openai") return upcast(OpenAiEngine::make(config));
  if (config.kind == "elevenlabs") return upcast(ElevenLabsEngine::make(config));
  return fail(ErrorCode::kInvalidRequest,
              fmt::format("tts engine '{}': unknown kind '{}'; use one of: {}", config.name, config.kind,
                          fmt::join(kEngineKinds, ", ")),
              "kind");
}

}  // namespace

Result<std::shared_ptr<const Engines>> Engines::build(const std::vector<EngineConfig>& configs,
                                                      const audio::EspeakOptions& espeak) {
  auto engines = std::make_shared<Engines>();
  if (configs.empty()) {
    auto made = make_engine(EngineConfig{.name = std::string(kDefaultName), .kind = "espeak"}, espeak);
    if (!made) return tl::unexpected(made.error());
    engines->engines_.push_back(std::move(*made));
    return engines;
  }
  for (size_t i = 0; i < configs.size(); ++i) {
    const EngineConfig& config = configs[i];
    if (config.name.empty()) {
      return fail(ErrorCode::kInvalidRequest, fmt::format("tts engine #{} (kind '{}') has no name", i + 1, config.kind),
                  "name");
    }
    if (engines->find(config.name) != nullptr) {
      return fail(ErrorCode::kInvalidRequest,
                  fmt::format("tts engine '{}' is configured twice; give each engine its own name", config.name),
                  "name");
    }
    auto made = make_engine(config, espeak);
    if (!made) return tl::unexpected(made.error());
    engines->engines_.push_back(std::move(*made));
  }
  return engines;
}

const TtsEngine* Engines::find(std::string_view name) const {
  for (const auto& engine : engines_) {
    if (engine->name() == name) return engine.get();
  }
  return nullptr;
}

}  // namespace sy::speech
