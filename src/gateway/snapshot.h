#pragma once
// The configuration a request runs on: providers, catalog and compiled routers, immutable once
// published.
//
//   auto snap = Snapshot::build(config, demo_url);  // validates, creates adapters
//   SnapshotSource source(*snap);  ...  source.publish((*snap)->with_routers(next_routers));
//   const Snapshot& s = *cache.get();               // per worker: no atomic traffic when unchanged
//
// A change builds a new snapshot and swaps it in; requests in flight keep the one they started
// with (they hold a shared_ptr to it). A router change shares the providers and catalog.

#include <atomic>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "config/config.h"
#include "core/result.h"
#include "providers/provider.h"
#include "routing/router_set.h"

namespace sy::gateway {

// Where a request's `model` goes.
struct Target {
  const providers::Provider* provider = nullptr;
  std::string_view model_id;         // "demo/fast"
  std::string_view upstream_quoted;  // "\"fast\"", spliced into the body
  const catalog::Model* model = nullptr;  // nullptr for a wildcard provider's model
};

// A metadata key the request log keeps, and the header that may carry it instead.
struct LogMetadataKey {
  std::string key;     // "plan"
  std::string header;  // "x-switchyard-meta-plan"
  std::string member;  // "\"plan\":", as the record's metadata JSON writes it
};

class Snapshot {
 public:
  static Result<std::shared_ptr<const Snapshot>> build(const config::Config& config,
                                                       std::string demo_base_url);
  // The same providers and catalog with another set of routers.
  std::shared_ptr<const Snapshot> with_routers(std::shared_ptr<const routing::RouterSet> routers) const;

  // Resolves a client's model name. `scratch` holds strings built for wildcard providers.
  Result<Target> resolve(std::string_view model, std::string& scratch_id, std::string& scratch_quoted) const;
  // The router a model name addresses: "switchyard/<name>", or a bare name that is a router's
  // and no model's. Null when the name is not a router's; an error when it is ambiguous or
  // names a router that does not exist.
  Result<const routing::CompiledRouter*> router_for(std::string_view model) const;
  // Why a router may not use `model_id` (unknown, with suggestions), or nullopt.
  std::optional<std::string> check_model(std::string_view model_id) const;

  const catalog::Catalog& catalog() const { return backends_->catalog; }
  const std::vector<std::unique_ptr<providers::Provider>>& providers() const { return backends_->providers; }
  const routing::RouterSet& routers() const { return *routers_; }
  const std::shared_ptr<const routing::RouterSet>& router_set() const { return routers_; }
  // GET /v1/models body (models, then routers as "switchyard/<name>"), built once.
  const std::string& models_json() const { return models_json_; }
  const std::vector<LogMetadataKey>& log_metadata() const { return backends_->log_metadata; }
  std::span<const std::string_view> log_metadata_names() const { return backends_->log_metadata_names; }
  bool log_bodies() const { return backends_->log_bodies; }
  // The same, in Anthropic's shape ({"data": [{"type": "model", "id", ...}], "has_more", ...}).
  const std::string& anthropic_models_json() const { return anthropic_models_json_; }

 private:
  // What a configuration file defines; shared by snapshots that differ only in routers.
  struct Backends {
    catalog::Catalog catalog;
    std::vector<std::unique_ptr<providers::Provider>> providers;
    std::vector<std::string> wildcard;  // providers accepting any model
    std::vector<LogMetadataKey> log_metadata;  // metadata keys the request log keeps
    std::vector<std::string_view> log_metadata_names;  // their keys, to scan `metadata` for
    bool log_bodies = false;                // the request log keeps every prompt and completion
  };
  const providers::Provider* provider(std::string_view name) const;
  void build_models_json();

  std::shared_ptr<const Backends> backends_;
  std::shared_ptr<const routing::RouterSet> routers_;
  std::string models_json_;
  std::string anthropic_models_json_;
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
