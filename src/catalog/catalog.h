#pragma once
// The models the gateway can serve, by id ("demo/fast", "openai/gpt-4o-mini").
//
//   Catalog c;  c.add({.id = "demo/fast", .provider = "demo", .upstream_id = "fast"});
//   const Model* m = c.find("demo/fast");     // or c.find("fast") when the bare name is unique
//
// Immutable once built; lives in the configuration snapshot.

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sy::catalog {

struct Model {
  std::string id;               // "<provider>/<model>"
  std::string provider;         // provider name
  std::string upstream_id;      // the provider's own model name
  double input_per_mtok = 0;    // USD per million input tokens
  double output_per_mtok = 0;   // USD per million output tokens
  std::string upstream_quoted;  // upstream_id as a JSON string literal, ready to splice
};

class Catalog {
 public:
  void add(Model model);
  // Exact id, or a bare upstream name that exactly one provider offers.
  const Model* find(std::string_view id) const;
  const std::vector<Model>& models() const { return models_; }
  // Up to three ids that look like `id` (for "did you mean" messages).
  std::vector<std::string_view> suggest(std::string_view id) const;

 private:
  std::vector<Model> models_;
  std::unordered_map<std::string_view, size_t> by_id_;
  std::unordered_map<std::string_view, long> by_bare_;  // -1: ambiguous
};

}  // namespace sy::catalog
