#include <array>
#include <string>
#include <string_view>

#include "mock/mock.h"

namespace sy::mock {
namespace {

constexpr std::array<std::string_view, 48> kWords{
    "the",     "router",  "sends",  "each",    "request", "to",      "a",       "model",
    "that",    "fits",    "user",   "and",     "context", "while",   "tokens",  "stream",
    "back",    "as",      "soon",   "they",    "arrive",  "fast",    "answers", "matter",
    "latency", "is",      "low",    "quality", "stays",   "high",    "every",   "route",
    "keeps",   "its",     "promise","with",    "clear",   "logs",    "for",     "people",
    "who",     "operate", "large",  "systems", "today",   "light",   "careful", "work"};

}  // namespace

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

std::string mock_token(uint64_t seed, int index) {
  const uint64_t r = splitmix64(seed * 1000003ULL + static_cast<uint64_t>(index));
  std::string word(kWords[r % kWords.size()]);
  // Sentences of 6 to 11 words: capitalised start, full stop at the end.
  const uint64_t sentence_len = 6 + splitmix64(seed) % 6;
  const auto pos = static_cast<uint64_t>(index) % sentence_len;
  if (pos == 0) word[0] = static_cast<char>(word[0] - 'a' + 'A');
  if (pos == sentence_len - 1) word += '.';
  return index == 0 ? word : " " + word;
}

}  // namespace sy::mock
