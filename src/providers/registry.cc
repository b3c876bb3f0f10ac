#include <map>

#include <fmt/format.h>

#include "providers/provider.h"

namespace sy::providers {
namespace {
std::map<std::string, Factory>& registry() {
  static std::map<std::string, Factory> r;
  return r;
}
}  // namespace

bool register_kind(std::string kind, Factory factory) {
  registry()[std::move(kind)] = std::move(factory);
  return true;
}

std::vector<std::string> kinds() {
  std::vector<std::string> out;
  for (const auto& [k, f] : registry()) out.push_back(k);
  return out;
}

Result<std::unique_ptr<Provider>> make(const config::ProviderConfig& config) {
  auto it = registry().find(config.kind);
  if (it == registry().end()) {
    return fail(ErrorCode::kInvalidRequest,
                fmt::format("provider '{}': kind '{}' is not supported (supported: {})", config.name,
                            config.kind, fmt::join(kinds(), ", ")));
  }
  return it->second(config);
}

}  // namespace sy::providers
