#pragma once
// Router changes: validate, persist, compile, publish. Behind /router/v1/routers and the CLI.
//
//   RouterAdmin admin(store, source);
//   admin.seed(config.routers);  admin.load();                       // at start
//   auto r = admin.create(body);                                     // any thread
//   if (!r) render(r.error().error, r.error().problems);             // 400 with JSON paths
//
// Writes are serialized: the store's order is the order snapshots are published in, so a
// change applies to the next request on every worker; requests in flight keep their snapshot.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "config/config.h"
#include "core/error.h"
#include "gateway/snapshot.h"
#include "routing/router.h"
#include "store/store.h"

namespace sy::gateway {

struct AdminError {
  Error error;
  routing::Problems problems;  // validation problems, with JSON paths
};
template <class T>
using AdminResult = tl::expected<T, AdminError>;

// A router as the API shows it.
struct RouterResource {
  std::string json;  // the resource, with name, version, etag and times
  int64_t version = 0;
  bool created = false;  // PUT: created rather than replaced
};

class RouterAdmin {
 public:
  RouterAdmin(store::ConfigStore& store, SnapshotSource& source) : store_(store), source_(source) {}

  // Seeds routers declared in the config file (see store::ConfigStore::seed); returns notes.
  AdminResult<std::vector<std::string>> seed(const std::vector<config::RouterSeed>& seeds);
  // Publishes every stored router. A router that no longer validates (its model left the
  // configuration) is skipped and named in the returned notes.
  AdminResult<std::vector<std::string>> load();

  AdminResult<RouterResource> create(std::string_view body);
  AdminResult<RouterResource> get(std::string_view name) const;
  // {"routers": [...], "nextPageToken": "..."}
  AdminResult<std::string> list(size_t page_size, std::string_view page_token) const;
  // PUT: replaces, or creates when absent and no If-Match was given.
  AdminResult<RouterResource> replace(std::string_view name, std::string_view body, std::string_view if_match);
  // PATCH: RFC 7386 merge patch onto the stored document.
  AdminResult<RouterResource> patch(std::string_view name, std::string_view patch, std::string_view if_match);
  AdminResult<bool> remove(std::string_view name, std::string_view if_match);
  // "Ramp the winner" ({"route": "default", "variant": "<name>"}): the route sends all its
  // traffic to that variant (its weight 100, the others' 0). A normal update: a new version,
  // If-Match honoured.
  AdminResult<RouterResource> ramp(std::string_view name, std::string_view body, std::string_view if_match);
  // {"valid": bool, "problems": [{"path", "message", "line", "column"}]}
  std::string validate(std::string_view body) const;
  // Dry run over {"metadata", "user", "messages", "model", "stream", "headers"}: which route and
  // variant would serve, and why.
  AdminResult<std::string> evaluate(std::string_view name, std::string_view body) const;

 private:
  AdminResult<routing::RouterSpec> parse(std::string_view body, std::string_view name) const;
  AdminResult<RouterResource> publish(const store::RouterRecord& record, routing::RouterSpec spec);
  // The stored router an update applies to, checked against If-Match; the caller holds write_mu_.
  AdminResult<store::RouterRecord> to_update(std::string_view name, std::string_view if_match);
  routing::ModelCheck model_check() const;

  store::ConfigStore& store_;
  SnapshotSource& source_;
  std::mutex write_mu_;
};

// Validation problems as a JSON array: [{"path", "message", "line", "column"}].
std::string problems_json(const routing::Problems& problems);

// The version an If-Match header names: "\"3\"", "W/\"3\"", "3"; 0 for none or "*"; nullopt when malformed.
std::optional<int64_t> parse_if_match(std::string_view if_match);

}  // namespace sy::gateway
