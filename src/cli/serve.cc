#include "cli/serve.h"

#include <pthread.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <deque>
#include <thread>

#include <fmt/format.h>

#include "api/api.h"
#include "config/config.h"
#include "speech/engine.h"
#include "speech/from_config.h"
#include "cli/admin_key.h"
#include "gateway/router_admin.h"
#include "gateway/snapshot.h"
#include "store/store.h"
#include "mock/mock.h"

namespace sy::cli {
namespace {

// Blocks SIGINT and SIGTERM in every thread started after this, so that only wait_for_signal()
// sees them.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Every stream holds two descriptors (client and provider): take all the process may have,
// as nginx's worker_rlimit_nofile does, instead of failing at the soft limit (often 1024).
void raise_descriptor_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

int wait_for_signal(const sigset_t& set) {
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

// The speech engines (`tts:`). Without a `tts` section the embedded espeak-ng engine alone, and
// a gateway without speech (a note) when espeak-ng cannot start; a configured engine that
// cannot start is an error.
Result<std::shared_ptr<const speech::Engines>> speech_engines(const config::Config& c, std::vector<std::string>& notes) {
  auto configs = speech::engines_from_config(c.tts_json);
  if (!configs) return tl::unexpected(configs.error());
  auto engines = speech::Engines::build(*configs);
  if (!engines && configs->empty()) {
    notes.push_back(fmt::format("speech: off ({})", engines.error().message));
    return std::shared_ptr<const speech::Engines>();
  }
  if (!engines) return tl::unexpected(engines.error());
  std::string names;
  for (const auto& e : (*engines)->all()) names += fmt::format("{}{}", names.empty() ? "" : ", ", e->name());
  notes.push_back(fmt::format("speech engines: {} (`audio` on /v1/chat/completions, POST /v1/audio/speech)", names));
  return std::move(*engines);
}

}  // namespace

int serve(const ServeFlags& flags) {
  const sigset_t signals = block_stop_signals();
  raise_descriptor_limit();
  auto cfg = config::load({.path = flags.config}, config::process_env());
  if (!cfg) {
    std::fprintf(stderr, "switchyard: %s\n", cfg.error().message.c_str());
    return 2;
  }
  config::Config& c = *cfg;
  if (flags.listen) {
    config::Config probe;
    auto r = config::parse(fmt::format("listen: '{}'", *flags.listen), "--listen", [](const std::string&) { return std::optional<std::string>(); });
    if (!r) {
      std::fprintf(stderr, "switchyard: %s\n", r.error().message.c_str());
      return 2;
    }
    c.host = r->host;
    c.port = r->port;
  }
  if (flags.workers) c.workers = *flags.workers;

  std::unique_ptr<mock::MockUpstream> demo;
  std::string demo_url;
  if (c.demo) {
    demo = std::make_unique<mock::MockUpstream>(mock::MockOptions{});
    if (auto p = demo->start(); !p) {
      std::fprintf(stderr, "switchyard: cannot start the demo provider: %s\n", p.error().message.c_str());
      return 1;
    }
    demo_url = demo->base_url();
  }
  auto snap = gateway::Snapshot::build(c, demo_url);
  if (!snap) {
    std::fprintf(stderr, "switchyard: %s\n", snap.error().message.c_str());
    return 2;
  }
  gateway::SnapshotSource source(*snap);

  auto store = store::open_sqlite(c.database);
  if (!store) {
    std::fprintf(stderr, "switchyard: %s\n", store.error().message.c_str());
    return 1;
  }
  gateway::RouterAdmin routers(**store, source);
  std::vector<std::string> notes = c.notes;
  if (auto r = routers.seed(c.routers); !r) {
    std::fprintf(stderr, "switchyard: %s\n", r.error().error.message.c_str());
    for (const auto& p : r.error().problems) std::fprintf(stderr, "  %s: %s\n", p.path.c_str(), p.message.c_str());
    return 2;
  } else {
    notes.insert(notes.end(), r->begin(), r->end());
  }
  if (auto r = routers.load(); !r) {
    std::fprintf(stderr, "switchyard: %s\n", r.error().error.message.c_str());
    return 1;
  } else {
    notes.insert(notes.end(), r->begin(), r->end());
  }
  api::Access access{.admin_key = c.admin_key, .api_keys = c.api_keys};
  if (access.admin_key.empty()) {
    auto key = stored_admin_key(**store, /*create=*/true);
    if (!key) {
      std::fprintf(stderr, "switchyard: %s\n", key.error().message.c_str());
      return 1;
    }
    access.admin_key = *key;
    notes.push_back(fmt::format("routers API: the admin key is kept in {} (`switchyard admin-key` prints it; set "
                                "SWITCHYARD_ADMIN_KEY to choose one)",
                                c.database));
  }

  gateway::CircuitBreakers breakers(c.circuit_breaker);
  auto observability = api::Observability::open(c);
  if (!observability) {
    std::fprintf(stderr, "switchyard: %s\n", observability.error().message.c_str());
    return 1;
  }
  api::Observability& obs = **observability;
  obs.metrics().add_gauge_source([&breakers](telemetry::GaugeWriter& w) {
    breakers.each_state([&](std::string_view scope, std::string_view name, int state) {
      w.write(telemetry::families::kCircuitState, {{"scope", scope}, {"name", name}}, state);
    });
  });
  if (obs.log() != nullptr) notes.push_back(fmt::format("request log: {} (GET /v1/logs)", obs.log_path()));
  api::ServerState state;
  if (auto engines = speech_engines(c, notes); !engines) {
    std::fprintf(stderr, "switchyard: %s\n", engines.error().message.c_str());
    return 2;
  } else {
    state.speech = std::move(*engines);
  }
  state.breakers = &breakers;
  state.observability = &obs;
  std::deque<http::PoolCounters> pools;  // one per worker's upstream client
  obs.metrics().add_gauge_source([&pools](telemetry::GaugeWriter& w) {
    int worker = 0;
    for (const auto& p : pools) {
      const std::string label = std::to_string(worker++);
      const long idle = p.idle.load(std::memory_order_relaxed);
      w.write(telemetry::families::kUpstreamIdleConnections, {{"worker", label}}, static_cast<double>(idle));
      w.write(telemetry::families::kUpstreamActiveConnections, {{"worker", label}},
              static_cast<double>(std::max(0L, p.open.load(std::memory_order_relaxed) - idle)));
    }
  });
  http::ServerOptions so{c.host, c.port, c.workers, c.limits};
  http::Server server(so, [&](int) {  // called for each worker in turn, on this thread
    http::ClientOptions upstream = c.upstream;
    upstream.counters = &pools.emplace_back();
    return api::make_handler(source, state, upstream, &routers, access);
  });
  auto port = server.start();
  if (!port) {
    std::fprintf(stderr, "switchyard: %s\n", port.error().message.c_str());
    return 1;
  }
  state.ready = true;
  std::string providers;
  for (const auto& p : (*snap)->providers()) providers += fmt::format("{}{}", providers.empty() ? "" : ", ", p->name());
  for (const auto& note : notes) std::printf("note: %s\n", note.c_str());
  std::printf("switchyard %s listening on http://%s:%u (%d workers; config: %s; providers: %s; routers: %zu)\n",
              SY_VERSION, c.host.c_str(), *port, server.workers(), c.source.c_str(),
              providers.empty() ? "none" : providers.c_str(), source.current()->routers().all().size());
  if (c.demo) {
    std::printf("try: curl -s http://%s:%u/v1/chat/completions -H 'content-type: application/json' "
                "-d '{\"model\":\"demo/fast\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}'\n",
                c.host.c_str(), *port);
  }
  std::fflush(stdout);

  const int sig = wait_for_signal(signals);
  std::printf("switchyard: %s received, draining (up to %lld ms)\n", sig == SIGINT ? "SIGINT" : "SIGTERM",
              static_cast<long long>(c.limits.drain_timeout.count()));
  std::fflush(stdout);
  state.draining = true;
  server.drain();
  server.wait();
  obs.stop();  // the records of the last requests reach the log
  if (demo) demo->stop();
  std::printf("switchyard: stopped\n");
  return 0;
}

int mock_upstream(const MockFlags& flags) {
  const sigset_t signals = block_stop_signals();
  raise_descriptor_limit();
  mock::MockOptions o{flags.host, static_cast<uint16_t>(flags.port), flags.workers, flags.api_key};
  mock::MockUpstream m(o);
  auto port = m.start();
  if (!port) {
    std::fprintf(stderr, "switchyard mock-upstream: %s\n", port.error().message.c_str());
    return 1;
  }
  std::printf("mock upstream listening on http://%s:%u (%d workers; OpenAI base URL %s)\n",
              flags.host.c_str(), *port, flags.workers, m.base_url().c_str());
  std::fflush(stdout);
  wait_for_signal(signals);
  m.stop();
  return 0;
}

}  // namespace sy::cli
