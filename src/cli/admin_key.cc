#include "cli/admin_key.h"

#include <sys/random.h>

#include <array>

#include <fmt/format.h>

namespace sy::cli {

Result<std::string> stored_admin_key(store::ConfigStore& store, bool create) {
  auto existing = store.setting("admin_key");
  if (!existing) return tl::unexpected(existing.error());
  if (*existing) return **existing;
  if (!create) {
    return fail(ErrorCode::kNotFound, "no admin key is stored yet: start `switchyard serve` once, or set SWITCHYARD_ADMIN_KEY");
  }
  std::array<unsigned char, 16> bytes{};
  if (getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
    return fail(ErrorCode::kInternal, "cannot read random bytes for the admin key");
  }
  std::string key = "sy-admin-";
  for (unsigned char b : bytes) key += fmt::format("{:02x}", b);
  if (auto r = store.put_setting("admin_key", key); !r) return tl::unexpected(r.error());
  return key;
}

}  // namespace sy::cli
