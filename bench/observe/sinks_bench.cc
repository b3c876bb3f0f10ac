// The cost of observing, per record and per sink: the telemetry thread's CPU time for each of
// the request log (SQLite), the metrics and the JSON-lines exporter, fed batches as the
// pipeline feeds them. bench/observe/run.sh measures the same thing end to end (throughput
// with logging on against off); this one says where the time goes. See bench/README.md.
//
//   build/release/bench/observe/observe_sinks_bench                 # both record shapes
//   observe_sinks_bench --records 300000 --batch 300 --shape synthetic --dir /tmp/x

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "core/ids.h"
#include "export/jsonl.h"
#include "logstore/synthetic.h"
#include "store/log_store.h"
#include "telemetry/metrics.h"

namespace {

using namespace sy;
using telemetry::RequestRecord;

double thread_cpu_s() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

struct Args {
  int64_t records = 200'000;
  size_t batch = 300;  // the pipeline's batch at ~15k requests/s (it looks every 20 ms)
  std::string shape = "both";
  std::string dir = "build/observe-bench";
};

// The gateway benchmark's requests (bench/gateway, as bench/observe/run.sh sends them): one
// key and user, no router, one attempt at the mock, two metadata keys.
std::vector<RequestRecord> gateway_records(int64_t n) {
  std::vector<RequestRecord> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    RequestRecord& r = out[static_cast<size_t>(i)];
    char id[kRequestIdSize];
    // The gateway's record time is its id's own ms (which the store finds a record by).
    r.time_ms = new_request_id(id);
    r.id.assign(id, kRequestIdSize);
    r.key_id = "key_6c7bfaaf200ee433";
    r.user = "harbor-grain-ops-7";
    r.endpoint = "chat.completions";
    r.dialect = "openai";
    r.requested_model = r.model = "mock/len-16";
    r.provider = "mock";
    r.status = 200;
    r.ttft_ms = r.latency_ms = 4;
    r.tokens_in = 576;
    r.tokens_out = 16;
    r.metadata_json = R"({"plan":"enterprise","tenant":"nw-44817"})";
    r.attempts.push_back({.model = r.model, .provider = "mock", .status = 200, .duration_ms = 4, .ttft_ms = 4,
                          .served = true, .tokens_in = 576, .tokens_out = 16});
  }
  return out;
}

// The log store benchmark's data set: 20 routers, 100k users, failovers, errors, bodies.
std::vector<RequestRecord> synthetic_records(int64_t n) {
  bench::SyntheticLog gen({.records = n});
  std::vector<RequestRecord> out, batch;
  std::vector<telemetry::OutcomeEvent> outcomes;
  while (gen.next_batch(10'000, batch, outcomes)) out.insert(out.end(), batch.begin(), batch.end());
  return out;
}

// CPU µs per record of feeding every batch to `sink`.
double per_record_us(const std::vector<RequestRecord>& records, size_t batch,
                     const std::function<void(std::span<const RequestRecord>)>& sink) {
  const double start = thread_cpu_s();
  for (size_t i = 0; i < records.size(); i += batch) {
    sink(std::span<const RequestRecord>(records).subspan(i, std::min(batch, records.size() - i)));
  }
  return (thread_cpu_s() - start) * 1e6 / static_cast<double>(records.size());
}

void run_shape(const Args& a, const std::string& shape) {
  const auto records = shape == "gateway" ? gateway_records(a.records) : synthetic_records(a.records);
  std::filesystem::create_directories(a.dir);
  const std::string db = fmt::format("{}/{}-log.db", a.dir, shape);
  const std::string lines = fmt::format("{}/{}.jsonl", a.dir, shape);
  auto reset = [&] {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);
    std::filesystem::remove(lines);
  };
  reset();
  auto log = store::open_sqlite_log(db);
  if (!log) {
    std::fprintf(stderr, "observe_sinks_bench: %s\n", log.error().message.c_str());
    std::exit(1);
  }
  const double log_us = per_record_us(records, a.batch, [&](auto b) {
    if (auto r = (*log)->append(b); !r) std::fprintf(stderr, "append: %s\n", r.error().message.c_str());
  });
  log->reset();
  telemetry::Metrics metrics;
  const double metrics_us = per_record_us(records, a.batch, [&](auto b) { metrics.observe(b); });
  auto jsonl = exports::JsonlExporter::create({.path = lines});
  if (!jsonl) {
    std::fprintf(stderr, "observe_sinks_bench: %s\n", jsonl.error().message.c_str());
    std::exit(1);
  }
  const double jsonl_us = per_record_us(records, a.batch, [&](auto b) { (*jsonl)->submit(b); });
  (*jsonl)->stop(std::chrono::seconds(1));
  reset();
  fmt::print("| {} | {} | {:.2f} | {:.2f} | {:.2f} | {:.2f} |\n", shape, a.batch, log_us, metrics_us, jsonl_us,
             log_us + metrics_us + jsonl_us);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "observe_sinks_bench: %s needs a value\n", k.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--records") {
      a.records = std::stoll(value());
    } else if (k == "--batch") {
      a.batch = std::stoul(value());
    } else if (k == "--shape") {
      a.shape = value();
    } else if (k == "--dir") {
      a.dir = value();
    } else {
      std::fprintf(stderr, "usage: observe_sinks_bench [--records N] [--batch N] [--shape gateway|synthetic|both] [--dir D]\n");
      return 2;
    }
  }
  fmt::print("{} records a shape, CPU µs per record of the telemetry thread\n\n", a.records);
  fmt::print("| records | batch | request log (SQLite) | metrics | JSON lines | all three |\n|---|---:|---:|---:|---:|---:|\n");
  for (const std::string shape : {"gateway", "synthetic"}) {
    if (a.shape == "both" || a.shape == shape) run_shape(a, shape);
  }
}
