#pragma once
// The configuration a request runs on: providers and catalog, immutable once published.
//
//   auto snap = Snapshot::build(config);           // validates, creates adapters
//   SnapshotSource source(*snap);  ...  source.publish(new_snapshot);
//   const Snapshot& s = cache.get();               // per worker: no atomic traffic when unchanged
//
// A change builds a new snapshot and swaps it in; requests in flight keep the one they started
// with (they hold a shared_ptr to it).

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "config/config.h"
#include "core/result.h"
#include "providers/provider.h"

namespace sy::gateway {

// Where a request's `model` goes.
struct Target {
  const providers::Provider* provider = nullptr;
  std::string_view model_id;         // "demo/fast"
  std::string_view upstream_quoted;  // "\"fast\"", spliced into the body
  const catalog::Model* model = nullptr;  // nullptr for a wildcard provider's model
};

class Snapshot {
 public:
  static Result<std::shared_ptr<const Snapshot>> build(const config::Config& config,
                                                       std::string demo_base_url);
  // Resolves a client's model name. `scratch` holds strings built for wildcard providers.
  Result<Target> resolve(std::string_view model, std::string& scratch_id, std::string& scratch_quoted) const;
  const catalog::Catalog& catalog() const { return catalog_; }
  const std::vector<std::unique_ptr<providers::Provider>>& providers() const { return providers_; }
  // GET /v1/models body, built once.
  const std::string& models_json() const { return models_json_; }

 private:
  const providers::Provider* provider(std::string_view name) const;

  catalog::Catalog catalog_;
  std::vector<std::unique_ptr<providers::Provider>> providers_;
  std::vector<std::string> wildcard_;  // providers accepting any model
  std::string models_json_;
};

class SnapshotSource {
 public:
  explicit SnapshotSource(std::shared_ptr<const Snapshot> first) : current_(std::move(first)) {}
  void publish(std::shared_ptr<const Snapshot> next) {
    std::lock_guard lock(mu_);
    current_ = std::move(next);
    version_.fetch_add(1, std::memory_order_release);
  }
  std::shared_ptr<const Snapshot> current() const {
    std::lock_guard lock(mu_);
    return current_;
  }
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> current_;
  std::atomic<uint64_t> version_{0};
};

// One per worker: re-reads the source only when its version changed.
class SnapshotCache {
 public:
  explicit SnapshotCache(const SnapshotSource& source) : source_(source) {}
  const std::shared_ptr<const Snapshot>& get() {
    const uint64_t v = source_.version();
    if (!snapshot_ || v != version_) {
      snapshot_ = source_.current();
      version_ = v;
    }
    return snapshot_;
  }

 private:
  const SnapshotSource& source_;
  std::shared_ptr<const Snapshot> snapshot_;
  uint64_t version_ = ~0ULL;
};

}  // namespace sy::gateway
