#pragma once
// The admin key when the configuration sets none: generated on first start and kept in the
// database's settings, so `switchyard routers ...` on the same machine finds it.

#include <string>

#include "core/result.h"
#include "store/store.h"

namespace sy::cli {

// The stored key; with `create`, generates one ("sy-admin-" and 32 random hex digits) if absent.
Result<std::string> stored_admin_key(store::ConfigStore& store, bool create);

}  // namespace sy::cli
