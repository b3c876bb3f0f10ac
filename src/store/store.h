#pragma once
// ConfigStore: the persistent home of routers (and a few key/value settings).
//
//   auto store = store::open_sqlite("/var/lib/switchyard/config.db");
//   if (!store) return tl::unexpected(store.error());
//   auto rec = (*store)->update("es-free", spec_json, /*expected_version=*/3);  // 412 if stale
//
// Specs are opaque text to the store (the router's canonical JSON); the store owns names,
// versions and timestamps. Every write is one transaction: a crash leaves the old row or the
// new one, never a mix. Versions start at 1 and grow by one on every change, so callers can do
// optimistic concurrency (expected_version 0 means "whatever is there").

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace sy::store {

struct RouterRecord {
  std::string name;            // the resource id
  std::string spec;            // the router's canonical JSON (opaque to the store)
  int64_t version = 0;         // 1 on create, +1 on every update
  int64_t create_time_ms = 0;  // unix ms
  int64_t update_time_ms = 0;  // unix ms
  std::string seed_digest;     // non-empty when the record came from the config file (seed())
};

struct Page {
  std::vector<RouterRecord> records;
  std::string next_after;  // pass as `after_name` for the next page; empty on the last page
};

// Thread-safe: every method may be called from any thread.
class ConfigStore {
 public:
  virtual ~ConfigStore() = default;

  // Up to `limit` (>= 1, else kInvalidRequest) records with names > after_name, by name.
  virtual Result<Page> list(size_t limit, std::string_view after_name) const = 0;
  // Every record, by name.
  virtual Result<std::vector<RouterRecord>> all() const = 0;
  virtual Result<std::optional<RouterRecord>> get(std::string_view name) const = 0;
  // kConflict when the name exists.
  virtual Result<RouterRecord> create(std::string_view name, std::string_view spec) = 0;
  // expected_version 0: unconditional. Mismatch: kPreconditionFailed; missing: kNotFound.
  // Keeps seed_digest, so a later seed() with an unchanged file leaves this edit in place.
  virtual Result<RouterRecord> update(std::string_view name, std::string_view spec,
                                      int64_t expected_version) = 0;
  // False when absent. expected_version 0: unconditional; mismatch: kPreconditionFailed.
  virtual Result<bool> remove(std::string_view name, int64_t expected_version) = 0;
  // Config-file seeding. Absent: creates the router with seed_digest = digest. Present with a
  // different seed_digest (the file changed since the last seeding, or the record was made
  // through the API): replaces the spec (version+1) and stores `digest`. Same digest: leaves
  // the record alone, API edits included. Returns the record and whether it changed.
  virtual Result<std::pair<RouterRecord, bool>> seed(std::string_view name, std::string_view spec,
                                                     std::string_view digest) = 0;

  virtual Result<std::optional<std::string>> setting(std::string_view key) const = 0;
  // True when the stored value changed (new key or different value).
  virtual Result<bool> put_setting(std::string_view key, std::string_view value) = 0;
};

// Opens (creating if needed) the SQLite database at `path` (":memory:" for tests) with WAL
// journaling, synchronous=NORMAL, a 5 s busy timeout and foreign keys on, then applies the
// pending migrations, each in its own transaction. A database written by a newer build (a
// migration version this code does not know) is refused. Errors name the file and carry
// SQLite's message; a database locked past the busy timeout is kUnavailable.
Result<std::unique_ptr<ConfigStore>> open_sqlite(const std::string& path);

}  // namespace sy::store
