#pragma once
// The gateway's HTTP endpoints: which path speaks which dialect.
//
//   http::Server server(opts, [&](int) { return api::make_handler(source, state, client_opts); });
//
//   GET  /healthz, /readyz           liveness; readiness (503 while draining)
//   GET  /v1/models, /v1/models/{id} the catalog, OpenAI shape
//   POST /v1/chat/completions        OpenAI chat completions, streaming or not (spoken with `audio`)
//   POST /v1/audio/speech            OpenAI text to speech, by the configured speech engines
//   /router/v1/routers...            the routers admin API (admin key), see routers_api.h
//   GET  /router/v1/health           circuit breakers of providers and models (admin key)
//   GET  /v1/logs, POST /v1/feedback, GET /metrics, GET /router/v1/routers/{name}/stats:
//                                    what was observed (observe_api.h)

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "api/observability.h"
#include "gateway/circuit.h"
#include "gateway/router_admin.h"
#include "gateway/snapshot.h"
#include "http/client.h"
#include "http/server.h"

namespace sy::speech {
class Engines;
}

namespace sy::api {

// Process-wide state the endpoints report on, and share.
struct ServerState {
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
  gateway::CircuitBreakers* breakers = nullptr;  // every worker's; GET /router/v1/health
  Observability* observability = nullptr;        // the request log, metrics, exporters; may be null
  std::shared_ptr<const speech::Engines> speech;  // `audio` answers, POST /v1/audio/speech; may be null
};

// Who may call what. Keys arrive as `Authorization: Bearer <key>` or `x-api-key: <key>`.
struct Access {
  std::string admin_key;              // required by /router/v1/*
  std::vector<std::string> api_keys;  // gateway keys; when empty /v1/* needs no key
};

std::unique_ptr<http::Handler> make_handler(const gateway::SnapshotSource& source,
                                            const ServerState& state,
                                            http::ClientOptions client_options,
                                            gateway::RouterAdmin* routers, const Access& access);

}  // namespace sy::api
