#include "audio/espeak_voices.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include <espeak-ng/speak_lib.h>

namespace sy::audio {
namespace {

// OpenAI's voices as English espeak-ng voices, each a distinct voice + variant, rate and pitch.
// The pairing follows OpenAI's descriptions loosely (onyx deep, fable British, nova bright).
struct OpenAiVoice {
  std::string_view name;
  std::string_view language;
  std::string_view variant;
  int rate_wpm;
  int pitch;
};
constexpr OpenAiVoice kOpenAiVoices[] = {
    {"alloy", "en-us", "f2", 175, 50},       {"ash", "en-us", "m3", 170, 45},
    {"ballad", "en-gb-x-rp", "m5", 160, 55}, {"coral", "en-us", "f4", 180, 55},
    {"echo", "en-us", "m1", 175, 50},        {"fable", "en-gb", "m2", 170, 50},
    {"onyx", "en-us", "m7", 160, 20},        {"nova", "en-us", "f5", 185, 55},
    {"sage", "en-gb", "f1", 165, 50},        {"shimmer", "en-us", "f3", 175, 65},
    {"verse", "en-gb-x-rp", "m6", 180, 50},
};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string_view basename(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

tl::unexpected<Error> unknown_voice(std::string_view name, std::string_view why = {}) {
  std::string names;
  for (const OpenAiVoice& v : kOpenAiVoices) {
    names += (names.empty() ? "" : ", ") + std::string(v.name);
  }
  return fail(
      ErrorCode::kInvalidRequest,
      fmt::format(
          "voice '{}' is not available in engine 'espeak'{}; use one of: {} (or an espeak-ng "
          "voice such as 'en-us' or 'en-gb+m3')",
          name, why, names),
      "audio.voice");
}

// Voice file and variant for `base` and `variant` (lower case), or an error naming what is missing.
Result<std::string> espeak_name(std::string_view name, std::string_view base,
                                std::string_view variant, const VoiceCatalog& catalog) {
  auto voice = catalog.voices.find(base);
  if (voice == catalog.voices.end()) {
    return unknown_voice(name);
  }
  if (variant.empty()) {
    return voice->second;
  }
  auto found = catalog.variants.find(variant);
  if (found == catalog.variants.end()) {
    return unknown_voice(name, fmt::format(" (espeak-ng has no variant '{}')", variant));
  }
  return voice->second + "+" + found->second;
}

}  // namespace

VoiceCatalog list_installed_voices() {
  VoiceCatalog catalog;
  for (const espeak_VOICE** v = espeak_ListVoices(nullptr); v != nullptr && *v != nullptr; ++v) {
    std::string_view identifier = (*v)->identifier;
    if (identifier.starts_with("mb/")) {
      continue;
    }
    catalog.voices.emplace(lower(basename(identifier)), identifier);
    // `languages`: a priority byte then a NUL-terminated name, repeated; an empty name ends it.
    for (const char* language = (*v)->languages; *language != '\0';) {
      std::string_view code(language + 1);
      catalog.voices.emplace(lower(code), identifier);
      language += 1 + code.size() + 1;
    }
  }
  espeak_VOICE variant_filter{};
  variant_filter.languages = "variant";
  for (const espeak_VOICE** v = espeak_ListVoices(&variant_filter); v != nullptr && *v != nullptr;
       ++v) {
    std::string_view file = basename((*v)->identifier);
    catalog.variants.emplace(lower(file), file);
  }
  return catalog;
}

std::vector<std::string> openai_voice_names() {
  std::vector<std::string> names;
  for (const OpenAiVoice& v : kOpenAiVoices) {
    names.emplace_back(v.name);
  }
  return names;
}

Result<Voice> resolve_voice(std::string_view name, const VoiceCatalog& catalog) {
  for (const OpenAiVoice& v : kOpenAiVoices) {
    if (v.name != name) {
      continue;
    }
    auto espeak = espeak_name(name, v.language, v.variant, catalog);
    if (!espeak) {
      return fail(ErrorCode::kUnavailable,
                  fmt::format("voice '{}' needs espeak-ng voice '{}+{}', which is not installed",
                              name, v.language, v.variant),
                  "audio.voice");
    }
    return Voice{std::string(name), std::move(*espeak), v.rate_wpm, v.pitch};
  }
  std::string wanted = lower(name);
  size_t plus = wanted.find('+');
  std::string_view base = std::string_view(wanted).substr(0, plus);
  std::string_view variant =
      plus == std::string::npos ? std::string_view() : std::string_view(wanted).substr(plus + 1);
  if (base.empty() || (plus != std::string::npos && variant.empty())) {
    return unknown_voice(name);
  }
  auto espeak = espeak_name(name, base, variant, catalog);
  if (!espeak) {
    return tl::unexpected(espeak.error());
  }
  return Voice{std::string(name), std::move(*espeak)};
}

}  // namespace sy::audio
