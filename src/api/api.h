#pragma once
// The gateway's HTTP endpoints: which path speaks which dialect.
//
//   http::Server server(opts, [&](int) { return api::make_handler(source, state, client_opts); });
//
//   GET  /healthz, /readyz           liveness; readiness (503 while draining)
//   GET  /v1/models, /v1/models/{id} the catalog, OpenAI shape
//   POST /v1/chat/completions        OpenAI chat completions, streaming or not

#include <atomic>
#include <memory>

#include "gateway/snapshot.h"
#include "http/client.h"
#include "http/server.h"

namespace sy::api {

// Process-wide state the endpoints report on.
struct ServerState {
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
};

std::unique_ptr<http::Handler> make_handler(const gateway::SnapshotSource& source,
                                            const ServerState& state,
                                            http::ClientOptions client_options);

}  // namespace sy::api
