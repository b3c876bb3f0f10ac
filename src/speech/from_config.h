#pragma once
// The `tts:` section of switchyard.yaml (as JSON, config.h's tts_json) → engine configurations.
//
//   tts:
//     engines:
//       - {name: espeak, kind: espeak}
//       - {name: openai-tts, kind: openai, base_url: "https://api.openai.com/v1",
//          api_key: "${OPENAI_API_KEY}", model: gpt-4o-mini-tts, usd_per_million_chars: 15,
//          first_audio_timeout_ms: 3000}
//       - {name: eleven, kind: elevenlabs, base_url: "https://api.elevenlabs.io",
//          api_key: "${ELEVENLABS_API_KEY}", model: eleven_flash_v2_5,
//          voices: {alloy: 21m00Tcm4TlvDq8ikWAM}}
//
// Absent or empty: the embedded espeak engine alone. Errors name the field ("tts.engines[1].kind").

#include <string_view>
#include <vector>

#include "core/result.h"
#include "speech/engine.h"

namespace sy::speech {

Result<std::vector<EngineConfig>> engines_from_config(std::string_view tts_json);

}  // namespace sy::speech
