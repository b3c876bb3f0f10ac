#pragma once
// Voice names for the espeak engine: what espeak-ng has installed, and how the name a client
// gives (OpenAI's or espeak-ng's own) becomes a Voice. Internal to audio/ (espeak.cc).
//
//   VoiceCatalog catalog = list_installed_voices();   // on the synthesis thread, after init
//   Result<Voice> voice = resolve_voice("en-gb+m3", catalog);

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "audio/espeak.h"
#include "core/result.h"

namespace sy::audio {

struct VoiceCatalog {
  // Lower-case language ("en-us") or voice file name ("en-us", "en") → the voice file to load.
  std::map<std::string, std::string, std::less<>> voices;
  // Lower-case variant name ("f3", "m7", "klatt") → its file name.
  std::map<std::string, std::string, std::less<>> variants;
};

// Reads espeak-ng's voice list (calls into espeak-ng: the synthesis thread only). MBROLA
// voices are left out: they need a separate program and its data.
VoiceCatalog list_installed_voices();

// OpenAI's voice names, in their documented order.
std::vector<std::string> openai_voice_names();

// `name` as a Voice: an OpenAI name (exact), or "<espeak voice>[+<variant>]" (any case).
Result<Voice> resolve_voice(std::string_view name, const VoiceCatalog& catalog);

}  // namespace sy::audio
