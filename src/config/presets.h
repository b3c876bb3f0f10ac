#pragma once
// Providers known by name: their protocol, base URL and the environment variable of their key.
// `kind: groq` in switchyard.yaml means "the openai protocol, at Groq, with GROQ_API_KEY";
// setting GROQ_API_KEY alone turns such a provider on. `kind: anthropic` speaks Messages,
// `kind: gemini` Gemini's generateContent.
//
// Gemini's models are "google/..." in the shipped catalog, so the gemini preset names that
// catalog provider: GEMINI_API_KEY alone turns on a provider named "google" (ids
// "google/gemini-2.5-flash", as the catalog lists them; GEMINI_BASE_URL moves it), and so does
// `{name: google, kind: gemini}` in the file. A gemini provider named otherwise gets the same
// models under its own name ("<name>/gemini-2.5-flash"), like any preset named otherwise.

#include <span>
#include <string_view>

namespace sy::config {

struct Preset {
  std::string_view name;      // the kind (and the provider's default name, see catalog_name())
  std::string_view base_url;  // default base URL
  std::string_view key_env;   // environment variable holding the key ("" for local servers)
  std::string_view protocol = "openai";  // the wire protocol: "openai", "anthropic" or "gemini"
  std::string_view catalog = {};  // its provider's name in the shipped catalog when not `name` ("google")

  // The name the catalog lists its models under, and of the provider its key variable turns on.
  std::string_view catalog_name() const { return catalog.empty() ? name : catalog; }
};

// openai, anthropic, gemini, deepseek, groq, mistral, xai, together, fireworks, openrouter, cerebras,
// perplexity, ollama, vllm, llamacpp.
std::span<const Preset> presets();
const Preset* preset(std::string_view name);

}  // namespace sy::config
