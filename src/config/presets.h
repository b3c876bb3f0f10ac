#pragma once
// Providers known by name: their protocol, base URL and the environment variable of their key.
// `kind: groq` in switchyard.yaml means "the openai protocol, at Groq, with GROQ_API_KEY";
// setting GROQ_API_KEY alone turns such a provider on. `kind: anthropic` speaks Messages.

#include <span>
#include <string_view>

namespace sy::config {

struct Preset {
  std::string_view name;      // the kind, and the provider's default name
  std::string_view base_url;  // default base URL
  std::string_view key_env;   // environment variable holding the key ("" for local servers)
  std::string_view protocol = "openai";  // the wire protocol: "openai" or "anthropic"
};

// openai, anthropic, deepseek, groq, mistral, xai, together, fireworks, openrouter, cerebras,
// perplexity, ollama, vllm, llamacpp.
std::span<const Preset> presets();
const Preset* preset(std::string_view name);

}  // namespace sy::config
