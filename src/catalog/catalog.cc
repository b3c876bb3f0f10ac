#include "catalog/catalog.h"

#include <algorithm>

#include "core/json_scan.h"
#include "core/text.h"

namespace sy::catalog {

void Catalog::add(Model model) {
  if (model.upstream_quoted.empty()) json::append_quoted(model.upstream_quoted, model.upstream_id);
  if (by_id_.contains(model.id)) return;  // the first definition wins
  const size_t i = models_.size();
  models_.push_back(std::move(model));
  by_id_[models_[i].id] = i;
  auto [it, inserted] = by_bare_.try_emplace(models_[i].upstream_id, static_cast<long>(i));
  if (!inserted) it->second = -1;
}

const Model* Catalog::find(std::string_view id) const {
  if (auto it = by_id_.find(id); it != by_id_.end()) return &models_[it->second];
  if (auto it = by_bare_.find(id); it != by_bare_.end() && it->second >= 0) {
    return &models_[static_cast<size_t>(it->second)];
  }
  return nullptr;
}

std::vector<std::string_view> Catalog::suggest(std::string_view id) const {
  std::vector<std::pair<size_t, std::string_view>> scored;
  for (const auto& m : models_) {
    const size_t d = std::min(edit_distance(id, m.id), edit_distance(id, m.upstream_id));
    if (d <= std::max<size_t>(2, id.size() / 3)) scored.emplace_back(d, m.id);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string_view> out;
  for (size_t i = 0; i < scored.size() && i < 3; ++i) out.push_back(scored[i].second);
  return out;
}

}  // namespace sy::catalog
