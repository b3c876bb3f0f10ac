// The routing decision as the gateway makes it per request: read the facts a router's conditions
// need from the 4 KB chat body of the gateway benchmark (bench/gateway/chat_4k.json), evaluate
// ten routes in order, pick the sticky variant. Target: ≤ 1 µs median for ten routes.
//
//   build/release/bench/routing/routing_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include "allocation_count.h"

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <sstream>

#include "routing/facts.h"
#include "routing/router_set.h"

namespace {

using namespace sy;

// Ten routes over metadata, headers, the user, the messages and the model; the last matches
// the benchmark body, so every condition is evaluated.
constexpr std::string_view kRouter = R"json({"routes": [
  {"name": "spanish", "condition": {"cel_expression": "language == 'es'"}, "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 1}]}},
  {"name": "free-long", "condition": {"cel_expression": "plan == 'free' && message_count > 20"}, "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 1}]}},
  {"name": "beta", "condition": {"cel_expression": "tenant.endsWith('-beta')"}, "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 1}]}},
  {"name": "eu", "condition": {"cel_expression": "headers['x-region'].startsWith('eu-')"}, "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 1}]}},
  {"name": "invoices", "condition": {"cel_expression": "last_user_message.contains('refund policy')"}, "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 1}]}},
  {"name": "staff", "condition": {"cel_expression": "user in ['u-1', 'u-2', 'u-3']"}, "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 1}]}},
  {"name": "tools", "condition": {"cel_expression": "messages.exists(m, m.role == 'tool')"}, "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 1}]}},
  {"name": "trial", "condition": {"cel_expression": "tenant.startsWith('trial-') || plan == 'trial'"}, "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 1}]}},
  {"name": "streaming-pro", "condition": {"cel_expression": "stream && plan == 'pro'"}, "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 1}]}},
  {"name": "enterprise", "condition": {"cel_expression": "plan == 'enterprise' && model == 'switchyard/bench'"},
   "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 50}, {"variant": {"modelId": "m/b"}, "weight": 30}, {"variant": {"modelId": "m/c"}, "weight": 20}]}}],
 "defaultRoute": {"variants": [{"variant": {"modelId": "m/d"}, "weight": 1}]}})json";

// Ten routes over metadata only (no message scan): the common case of user/plan/tenant rules.
constexpr std::string_view kMetadataRouter = R"json({"routes": [
  {"name": "r0", "condition": {"cel_expression": "language == 'es'"}, "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 1}]}},
  {"name": "r1", "condition": {"cel_expression": "plan == 'free'"}, "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 1}]}},
  {"name": "r2", "condition": {"cel_expression": "plan == 'trial' && tenant != ''"}, "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 1}]}},
  {"name": "r3", "condition": {"cel_expression": "tenant.startsWith('trial-')"}, "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 1}]}},
  {"name": "r4", "condition": {"cel_expression": "user in ['u-1', 'u-2', 'u-3']"}, "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 1}]}},
  {"name": "r5", "condition": {"cel_expression": "plan == 'pro' && stream"}, "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 1}]}},
  {"name": "r6", "condition": {"cel_expression": "tenant == 'nw-1'"}, "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 1}]}},
  {"name": "r7", "condition": {"cel_expression": "plan in ['startup', 'edu']"}, "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 1}]}},
  {"name": "r8", "condition": {"cel_expression": "language == 'de' && plan != 'free'"}, "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 1}]}},
  {"name": "r9", "condition": {"cel_expression": "plan == 'enterprise'"},
   "route": {"variants": [{"variant": {"modelId": "m/a"}, "weight": 50}, {"variant": {"modelId": "m/b"}, "weight": 50}]}}],
 "defaultRoute": {"variants": [{"variant": {"modelId": "m/d"}, "weight": 1}]}})json";

class Headers final : public routing::HeaderSource {
 public:
  std::string_view get(std::string_view name) const override {
    for (const auto& [n, v] : h_) {
      if (n == name) return v;
    }
    return {};
  }
  size_t count() const override { return h_.size(); }
  std::pair<std::string_view, std::string_view> at(size_t i) const override { return h_[i]; }

 private:
  std::array<std::pair<std::string_view, std::string_view>, 5> h_{{{"host", "127.0.0.1:8080"},
                                                                   {"content-type", "application/json"},
                                                                   {"authorization", "Bearer sk-1"},
                                                                   {"x-region", "us-east-1"},
                                                                   {"user-agent", "OpenAI/JS 5.0"}}};
};

// The body as the gateway has it after its one scan: the fields it needs and every top-level
// member (that scan is paid by every request, routed or not, so it is not timed here).
struct Request {
  std::string body;
  std::array<json::Field, 5> f;
  std::vector<json::Member> members;
  Headers headers;
  routing::RequestView view() const {
    return {.body = body, .model = "switchyard/bench", .stream = false, .messages = f[2], .metadata = f[3],
            .user = f[4], .headers = &headers, .members = members};
  }
};

const Request& request() {
  static const Request r = [] {
    Request out;
    std::ifstream in(SY_BENCH_BODY);
    std::stringstream ss;
    ss << in.rdbuf();
    out.body = ss.str();
    constexpr std::array<std::string_view, 5> kKeys{"model", "stream", "messages", "metadata", "user"};
    if (!json::scan_object(out.body, kKeys, out.f, out.members)) std::abort();
    return out;
  }();
  return r;
}

std::shared_ptr<const routing::CompiledRouter> compile(std::string_view json) {
  auto spec = routing::parse_router(json, nullptr, "bench");
  if (!spec) {
    std::fprintf(stderr, "%s: %s\n", spec.error()[0].path.c_str(), spec.error()[0].message.c_str());
    std::abort();
  }
  auto r = routing::CompiledRouter::compile(std::move(*spec), {.version = 1});
  if (!r) std::abort();
  return *r;
}

// What the gateway does per routed request: facts, slash command check, decision.
void decide(benchmark::State& state, std::string_view router_json, std::string_view want_route) {
  const auto router = compile(router_json);
  const Request& req = request();
  const uint64_t before = sy::bench::allocations();
  for (auto _ : state) {
    routing::FactScratch facts;
    cel::Activation act;
    routing::bind_facts(*router, req.view(), act, facts);
    const routing::SlashCommand* cmd = facts.last_user.found ? router->command_of(facts.last_user.text) : nullptr;
    routing::Decision d = router->select(act, facts.sticky_key, cmd);
    if (d.route_name != want_route) state.SkipWithError("wrong route");
    benchmark::DoNotOptimize(d);
  }
  state.counters["allocs"] = benchmark::Counter(static_cast<double>(sy::bench::allocations() - before),
                                                benchmark::Counter::kAvgIterations);
}

void BM_DecisionTenRoutesMixedFacts(benchmark::State& state) { decide(state, kRouter, "enterprise"); }
void BM_DecisionTenRoutesMetadata(benchmark::State& state) { decide(state, kMetadataRouter, "r9"); }

void BM_StickyPickThreeVariants(benchmark::State& state) {
  const auto router = compile(kRouter);
  const routing::CompiledRoute& route = router->routes()[9];
  for (auto _ : state) benchmark::DoNotOptimize(&route.pick("harbor-grain-ops-7"));
}

}  // namespace

BENCHMARK(BM_DecisionTenRoutesMixedFacts);
BENCHMARK(BM_DecisionTenRoutesMetadata);
BENCHMARK(BM_StickyPickThreeVariants);
BENCHMARK_MAIN();
