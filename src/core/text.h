#pragma once
// Text helpers for messages that help the reader: "did you mean" suggestions.
//
//   edit_distance("modelID", "modelId") == 1
//   closest("modelID", {"modelId", "weight"}) → {"modelId"}

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace sy {

// Levenshtein distance (insertions, deletions, substitutions), byte-wise.
size_t edit_distance(std::string_view a, std::string_view b);

// Up to `max_results` candidates within a typo's distance of `word`, nearest first.
std::vector<std::string_view> closest(std::string_view word, std::span<const std::string_view> candidates,
                                      size_t max_results = 1);

}  // namespace sy
