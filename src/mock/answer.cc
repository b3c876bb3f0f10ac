#include "mock/answer.h"

#include <algorithm>

#include "mock/mock.h"

namespace sy::mock {
namespace {

// Reasoning is drawn from the same words as the answer, on another seed.
constexpr uint64_t kReasoningSalt = 0x7468696E6B696E67ULL;  // "thinking"

}  // namespace

int Answer::tool_tokens() const {
  return tool ? static_cast<int>(tool->name.size() + tool->arguments.size()) / 4 + 1 : 0;
}

std::string Answer::reasoning_token(int i) const { return mock_token(seed ^ kReasoningSalt, i); }
std::string Answer::text_token(int i) const { return mock_token(seed, i); }

std::string Answer::reasoning() const {
  std::string out;
  for (int i = 0; i < reasoning_tokens; ++i) out += reasoning_token(i);
  return out;
}

std::string Answer::text() const {
  std::string out;
  for (int i = 0; i < text_tokens; ++i) out += text_token(i);
  return out;
}

std::string Answer::signature() const {
  static constexpr std::string_view kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "Eq";  // how Anthropic's signatures begin
  uint64_t x = seed ^ kReasoningSalt;
  for (int i = 0; i < 86; ++i) {
    x = splitmix64(x);
    out += kBase64[x % 64];
  }
  return out + "==";
}

Answer plan_answer(const Behaviour& b, const Prompt& prompt, uint64_t seed) {
  Answer a;
  a.seed = seed;
  a.prompt_tokens = prompt.prompt_tokens;
  a.cached_tokens = std::clamp(b.cached, 0, prompt.prompt_tokens);
  a.reasoning_tokens = b.think;
  if (b.tool && prompt.tool) {
    a.tool = prompt.tool;
    a.finish = Finish::kToolUse;
    return a;
  }
  a.text_tokens = b.length;
  if (prompt.max_tokens && a.reasoning_tokens + a.text_tokens > *prompt.max_tokens) {
    a.reasoning_tokens = std::min(a.reasoning_tokens, *prompt.max_tokens);
    a.text_tokens = *prompt.max_tokens - a.reasoning_tokens;
    a.finish = Finish::kLength;
  }
  return a;
}

std::vector<std::string_view> fragments(std::string_view json, int pieces) {
  std::vector<std::string_view> out;
  const size_t n = std::max<size_t>(1, std::min<size_t>(json.size(), static_cast<size_t>(pieces)));
  const size_t step = (json.size() + n - 1) / n;
  while (!json.empty()) {
    size_t cut = std::min(step, json.size());
    // A UTF-8 continuation byte (10xxxxxx) never starts a fragment.
    while (cut < json.size() && (static_cast<unsigned char>(json[cut]) & 0xC0) == 0x80) ++cut;
    out.push_back(json.substr(0, cut));
    json.remove_prefix(cut);
  }
  return out;
}

}  // namespace sy::mock
