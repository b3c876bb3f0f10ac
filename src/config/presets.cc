#include "config/presets.h"

#include <array>

namespace sy::config {
namespace {

constexpr std::array<Preset, 15> kPresets{{
    {"openai", "https://api.openai.com/v1", "OPENAI_API_KEY"},
    {"anthropic", "https://api.anthropic.com/v1", "ANTHROPIC_API_KEY", "anthropic"},
    {"gemini", "https://generativelanguage.googleapis.com/v1beta", "GEMINI_API_KEY", "gemini", "google"},
    {"deepseek", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"},
    {"groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY"},
    {"mistral", "https://api.mistral.ai/v1", "MISTRAL_API_KEY"},
    {"xai", "https://api.x.ai/v1", "XAI_API_KEY"},
    {"together", "https://api.together.xyz/v1", "TOGETHER_API_KEY"},
    {"fireworks", "https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY"},
    {"openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"},
    {"cerebras", "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY"},
    {"perplexity", "https://api.perplexity.ai", "PERPLEXITY_API_KEY"},
    {"ollama", "http://127.0.0.1:11434/v1", ""},
    {"vllm", "http://127.0.0.1:8000/v1", ""},
    {"llamacpp", "http://127.0.0.1:8080/v1", ""},
}};

}  // namespace

std::span<const Preset> presets() { return kPresets; }

const Preset* preset(std::string_view name) {
  for (const auto& p : kPresets) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

}  // namespace sy::config
