// CEL evaluation over a request-metadata activation for ten routing-style rules (see
// expressions.json, shared with compare.mjs), plus compile time. Reports heap allocations per
// evaluation by counting calls to the global operator new in this binary.
#include <benchmark/benchmark.h>

#include "allocation_count.h"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <new>
#include <sstream>

#include "cel/cel.h"
#include "cel/json_value.h"

namespace {

struct Fixture {
  std::string vars;
  std::vector<std::pair<std::string, std::string>> expressions;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    std::ifstream in(SY_CEL_BENCH_DIR "/expressions.json");
    std::stringstream ss;
    ss << in.rdbuf();
    auto doc = sy::cel::parse_json(ss.str(), true);
    Fixture out;
    if (!doc) return out;
    // Re-serialise "vars" from the file text: the activation must view stable JSON text.
    const std::string text = ss.str();
    const size_t start = text.find('{', text.find("\"vars\""));
    int depth = 0;
    size_t end = start;
    for (; end < text.size(); ++end) {
      if (text[end] == '{') ++depth;
      if (text[end] == '}' && --depth == 0) break;
    }
    out.vars = text.substr(start, end - start + 1);
    for (const auto& e : doc->find_string("expressions")->items()) {
      out.expressions.emplace_back(std::string(e.items()[0].str()), std::string(e.items()[1].str()));
    }
    return out;
  }();
  return f;
}

void bench_eval(benchmark::State& state, const std::string& expr) {
  auto program = sy::cel::compile(expr);
  auto act = sy::cel::Activation::from_json(fixture().vars);
  if (!program || !act) {
    state.SkipWithError("compile or activation failed");
    return;
  }
  auto first = program->evaluate(*act);
  if (!first || !first->is_bool() || !first->as_bool()) {
    state.SkipWithError("expression does not evaluate to true");
    return;
  }
  const uint64_t before = sy::bench::allocations();
  for (auto _ : state) {
    auto v = program->evaluate(*act);
    benchmark::DoNotOptimize(v);
  }
  const uint64_t allocs = sy::bench::allocations() - before;
  state.counters["allocs/eval"] = static_cast<double>(allocs) / static_cast<double>(state.iterations());
}

void bench_compile(benchmark::State& state, const std::string& expr) {
  for (auto _ : state) {
    auto p = sy::cel::compile(expr);
    benchmark::DoNotOptimize(p);
  }
}

int register_all() {
  for (const auto& [name, expr] : fixture().expressions) {
    benchmark::RegisterBenchmark(("eval/" + name).c_str(), bench_eval, expr);
  }
  for (const auto& [name, expr] : fixture().expressions) {
    benchmark::RegisterBenchmark(("compile/" + name).c_str(), bench_compile, expr);
  }
  return 0;
}

const int kRegistered = register_all();

}  // namespace

BENCHMARK_MAIN();
