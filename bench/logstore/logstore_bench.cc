// The request log store at 10 million records: insert throughput, then the queries the logs API
// and the experiments page make, each timed cold (file evicted from the page cache, store
// reopened) and warm (median of repeated runs). See bench/README.md, "Request log".
//
//   build/release/bench/logstore/logstore_bench                      # builds or reuses the file
//   logstore_bench --db /data/log.db --records 1000000 --runs 9 --cold-runs 3
//
// The database is built once (7 GB and about 6 minutes for 10M records) and reused while
// `<db>.complete` says it holds the same data set; --rebuild forces a new one.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "store/log_store.h"
#include "synthetic.h"

namespace {

using namespace sy;
using Clock = std::chrono::steady_clock;

constexpr int kDataSetVersion = 1;  // bump when the generator changes

struct Args {
  std::string db = "build/logstore-bench/log.db";
  int64_t records = 10'000'000;
  bool rebuild = false;
  int runs = 9;
  int cold_runs = 3;
  int64_t mmap_mib = 0;
  int64_t insert_records = 300'000;  // the fresh-database insert measurement; 0 skips it
  size_t batch = 1000;
  std::vector<size_t> insert_batches = {100, 1000};
  int64_t tail_records = 200'000;  // appended to the full file and deleted again; 0 skips it
  bool skip_queries = false;
};

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// CPU time of this thread (SQLite runs in it): a figure other processes on the machine move less.
double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "logstore_bench: %s\n", what.c_str());
  std::exit(1);
}

template <class T>
T must(Result<T> r, const char* what) {
  if (!r) {
    die(fmt::format("{}: {}", what, r.error().message));
  }
  return std::move(*r);
}

// Drops the file's pages from the OS page cache (clean pages only: the store must be closed).
void evict(const std::string& path) {
  for (const std::string& p : {path, path + "-wal"}) {
    int fd = ::open(p.c_str(), O_RDONLY);
    if (fd >= 0) {
      ::fdatasync(fd);
      ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
      ::close(fd);
    }
  }
}

// The share of the file's pages in the page cache (mincore), to show that evict() worked.
double resident(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || st.st_size == 0) {
    return -1;
  }
  size_t size = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) {
    return -1;
  }
  size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> vec((size + page - 1) / page);
  double share = -1;
  if (::mincore(map, size, vec.data()) == 0) {
    share = static_cast<double>(std::count_if(vec.begin(), vec.end(), [](unsigned char c) { return c & 1; })) /
            static_cast<double>(vec.size());
  }
  ::munmap(map, size);
  return share;
}

std::string marker_text(const Args& a) {
  return fmt::format("records={} version={}\n", a.records, kDataSetVersion);
}

bool complete(const Args& a) {
  std::ifstream in(a.db + ".complete");
  std::stringstream s;
  s << in.rdbuf();
  return in && s.str() == marker_text(a) && std::filesystem::exists(a.db);
}

void remove_db(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix);
  }
}

store::LogStoreOptions store_options(const Args& a) { return {.mmap_mib = a.mmap_mib}; }

// Appends everything the generator makes; prints the rate of every tenth.
void fill(store::LogStore& s, bench::SyntheticLog& gen, size_t batch, bool progress) {
  std::vector<telemetry::RequestRecord> records;
  std::vector<telemetry::OutcomeEvent> outcomes;
  double store_ms = 0;
  double store_cpu_ms = 0;
  double gen_ms = 0;
  int64_t step = std::max<int64_t>(1, gen.options().records / 10);
  int64_t next_report = step;
  double segment_ms = 0;
  double segment_cpu_ms = 0;
  int64_t segment_start = 0;
  auto t0 = Clock::now();
  for (;;) {
    auto g = Clock::now();
    if (!gen.next_batch(batch, records, outcomes)) {
      break;
    }
    gen_ms += ms_since(g);
    auto w = Clock::now();
    double cpu = cpu_ms();
    must(s.append(records), "append");
    must(s.append_outcomes(outcomes), "append_outcomes");
    store_cpu_ms += cpu_ms() - cpu;
    segment_cpu_ms += cpu_ms() - cpu;
    double dt = ms_since(w);
    store_ms += dt;
    segment_ms += dt;
    if (progress && gen.produced() >= next_report) {
      auto seg = static_cast<double>(gen.produced() - segment_start);
      std::printf("  %10lld records  last %.0f: %6.0f records/s, %6.0f per CPU-second  (%.0f s elapsed)\n",
                  static_cast<long long>(gen.produced()), seg, seg / segment_ms * 1000,
                  seg / segment_cpu_ms * 1000, ms_since(t0) / 1000);
      std::fflush(stdout);
      next_report += step;
      segment_ms = 0;
      segment_cpu_ms = 0;
      segment_start = gen.produced();
    }
  }
  auto n = static_cast<double>(gen.produced());
  std::printf("  %.0f records in %.1f s: store %.1f s (%.0f records/s; %.0f per CPU-second), generator %.1f s\n",
              n, ms_since(t0) / 1000, store_ms / 1000, n / store_ms * 1000, n / store_cpu_ms * 1000,
              gen_ms / 1000);
}

void build(const Args& a) {
  std::filesystem::create_directories(std::filesystem::path(a.db).parent_path().empty()
                                          ? std::filesystem::path(".")
                                          : std::filesystem::path(a.db).parent_path());
  remove_db(a.db);
  std::filesystem::remove(a.db + ".complete");
  std::printf("building %s: %lld records, batches of %zu\n", a.db.c_str(),
              static_cast<long long>(a.records), a.batch);
  bench::SyntheticLog gen({.records = a.records});
  {
    auto s = must(store::open_sqlite_log(a.db, store_options(a)), "open");
    fill(*s, gen, a.batch, true);
  }
  std::ofstream(a.db + ".complete") << marker_text(a);
}

// The generator's whole output in batches, made before timing so that only the store is timed.
struct Batches {
  std::vector<std::vector<telemetry::RequestRecord>> records;
  std::vector<std::vector<telemetry::OutcomeEvent>> outcomes;
};

Batches pregenerate(bench::SyntheticOptions shape, size_t batch) {
  bench::SyntheticLog gen(shape);
  Batches b;
  for (;;) {
    b.records.emplace_back();
    b.outcomes.emplace_back();
    if (!gen.next_batch(batch, b.records.back(), b.outcomes.back())) {
      return b;
    }
  }
}

// Appends the batches; prints a row: records/s of wall time and of this thread's CPU time.
void timed_append(store::LogStore& s, const Batches& b, const std::string& label, int64_t n) {
  auto t = Clock::now();
  double cpu = cpu_ms();
  for (size_t i = 0; i < b.records.size(); ++i) {
    must(s.append(b.records[i]), "append");
    must(s.append_outcomes(b.outcomes[i]), "append_outcomes");
  }
  double ms = ms_since(t);
  cpu = cpu_ms() - cpu;
  auto records = static_cast<double>(n);
  std::printf("| %s | %lld | %.0f | %.0f |\n", label.c_str(), static_cast<long long>(n),
              records / ms * 1000, records / cpu * 1000);
}

// A fresh database of a.insert_records records.
void insert_throughput(const Args& a) {
  std::string path = a.db + ".insert-test.db";
  for (size_t batch : a.insert_batches) {
    remove_db(path);
    Batches b = pregenerate({.records = a.insert_records, .seed = 7}, batch);
    auto s = must(store::open_sqlite_log(path, store_options(a)), "open");
    timed_append(*s, b, fmt::format("fresh file, batches of {}", batch), a.insert_records);
    s.reset();
    remove_db(path);
  }
}

// Appends records older than the data set (the day before it) to the full file, timing the
// store at its full size, then deletes them again with enforce_retention (30 days before the
// data set's end), timing retention: the file holds the same records afterwards.
void tail(const Args& a) {
  bench::SyntheticOptions shape{.records = a.records};
  int64_t start = shape.end_ms - shape.days * 86'400'000;
  Batches b = pregenerate({.records = a.tail_records, .end_ms = start, .days = 1, .seed = 99}, a.batch);
  auto s = must(store::open_sqlite_log(a.db, {.now_ms = [&] { return shape.end_ms; }, .mmap_mib = a.mmap_mib}),
                "open");
  timed_append(*s, b, fmt::format("full file ({} records), batches of {}", a.records, a.batch), a.tail_records);
  auto t = Clock::now();
  int64_t deleted = must(s->enforce_retention(shape.end_ms - start, 0), "enforce_retention");
  double ms = ms_since(t);
  int64_t chunk = store::LogStoreOptions{}.retention_chunk_rows;
  std::printf("\nretention: %lld records deleted in %.1f s (%.0f records/s, %.1f ms per chunk of %lld)\n",
              static_cast<long long>(deleted), ms / 1000, static_cast<double>(deleted) / ms * 1000,
              ms / std::max<double>(1, std::ceil(static_cast<double>(deleted) / static_cast<double>(chunk))),
              static_cast<long long>(chunk));
  if (deleted != a.tail_records) {
    die(fmt::format("retention deleted {} records, expected {}", deleted, a.tail_records));
  }
}

struct Query {
  std::string name;
  // Runs the query on the store; `i` picks a different input per cold run where that matters.
  std::function<size_t(store::LogStore&, int)> run;
};

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (const char* env = std::getenv("SY_LOGSTORE_DB")) {
    a.db = env;
  }
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        die(k + " needs a value");
      }
      return argv[++i];
    };
    if (k == "--db") {
      a.db = value();
    } else if (k == "--records") {
      a.records = std::stoll(value());
    } else if (k == "--rebuild") {
      a.rebuild = true;
    } else if (k == "--runs") {
      a.runs = std::stoi(value());
    } else if (k == "--cold-runs") {
      a.cold_runs = std::stoi(value());
    } else if (k == "--mmap-mib") {
      a.mmap_mib = std::stoll(value());
    } else if (k == "--insert-records") {
      a.insert_records = std::stoll(value());
    } else if (k == "--batch") {
      a.batch = std::stoul(value());
    } else if (k == "--tail-records") {
      a.tail_records = std::stoll(value());
    } else if (k == "--skip-queries") {
      a.skip_queries = true;
    } else if (k == "--insert-batch") {
      a.insert_batches = {std::stoul(value())};
    } else {
      die("unknown flag " + k +
          "; flags: --db PATH (or SY_LOGSTORE_DB) --records N --rebuild --runs N --cold-runs N "
          "--mmap-mib N --insert-records N --insert-batch N --batch N --tail-records N --skip-queries");
    }
  }
  std::filesystem::create_directories(std::filesystem::absolute(a.db).parent_path());
  if (a.insert_records > 0) {
    std::printf("\n## Insert throughput (fresh file, %lld records, outcomes included)\n\n", static_cast<long long>(a.insert_records));
    std::printf("| case | records | records/s (wall) | records per CPU-second |\n|---|---|---|---|\n");
    insert_throughput(a);
  }
  if (a.rebuild || !complete(a)) {
    build(a);
  } else {
    std::printf("reusing %s (%lld records)\n", a.db.c_str(), static_cast<long long>(a.records));
  }
  std::printf("database: %.2f GB\n", static_cast<double>(std::filesystem::file_size(a.db)) / 1e9);
  if (a.tail_records > 0) {
    std::printf("\n## Insert throughput at full size, and retention\n\n");
    std::printf("| case | records | records/s (wall) | records per CPU-second |\n|---|---|---|---|\n");
    tail(a);
  }
  if (a.skip_queries) {
    return 0;
  }

  bench::SyntheticOptions shape{.records = a.records};
  const int64_t end = shape.end_ms;
  constexpr int64_t kHour = 3'600'000;
  constexpr int64_t kDay = 24 * kHour;
  const std::string top = bench::SyntheticLog::router_name(0);
  const std::string mid = bench::SyntheticLog::router_name(10);

  auto store = must(store::open_sqlite_log(a.db, store_options(a)), "open");
  // Inputs gathered before timing: ids spread over the month, page 1's cursor.
  std::vector<std::string> ids;
  for (int k = 0; k < 16; ++k) {
    int64_t t = end - shape.days * kDay + (k * 2 + 1) * shape.days * kDay / 32;
    auto p = must(store->query({.since_ms = t, .limit = 1}), "query");
    ids.push_back(p.records.empty() ? "none" : p.records[0].id);
  }
  std::string page2 = must(store->query({.since_ms = end - kHour, .router = mid}), "query").next_cursor;

  auto page = [](store::LogStore& s, store::LogQuery q) { return must(s.query(q), "query").records.size(); };
  auto stats = [](store::LogStore& s, const std::string& router, int64_t since, int64_t until) {
    size_t n = 0;
    for (const auto& v : must(s.variant_stats(router, since, until), "variant_stats")) {
      n += static_cast<size_t>(v.requests);
    }
    return n;
  };
  std::vector<Query> queries = {
      {"router last hour, page 1 (50), busiest router",
       [&](store::LogStore& s, int) { return page(s, {.since_ms = end - kHour, .router = top}); }},
      {"router last hour, page 1 (50), median router",
       [&](store::LogStore& s, int) { return page(s, {.since_ms = end - kHour, .router = mid}); }},
      {"router last hour, page 2 (cursor)",
       [&](store::LogStore& s, int) { return page(s, {.since_ms = end - kHour, .router = mid, .cursor = page2}); }},
      {"router last hour, errors only",
       [&](store::LogStore& s, int) { return page(s, {.since_ms = end - kHour, .router = mid, .errors_only = true}); }},
      {"router last day, variant b, status 429",
       [&](store::LogStore& s, int) {
         return page(s, {.since_ms = end - kDay, .router = mid, .variant = "b", .status = 429});
       }},
      {"one user, page 1, heaviest user",
       [&](store::LogStore& s, int) { return page(s, {.user = bench::SyntheticLog::user_name(0)}); }},
      {"one user, page 1, typical user",
       [&](store::LogStore& s, int i) { return page(s, {.user = bench::SyntheticLog::user_name(50'000 + i)}); }},
      {"one request by id",
       [&](store::LogStore& s, int i) {
         auto r = must(s.get(ids[static_cast<size_t>(i) % ids.size()]), "get");
         return size_t{r.has_value()};
       }},
      {"all records, page 1", [&](store::LogStore& s, int) { return page(s, {}); }},
      {"one model, page 1", [&](store::LogStore& s, int) { return page(s, {.model = "openai/gpt-4o"}); }},
      {"no match (status 418): one scan budget", [&](store::LogStore& s, int) { return page(s, {.status = 418}); }},
      {"variant stats, last day, busiest router",
       [&](store::LogStore& s, int) { return stats(s, top, end - kDay, end); }},
      {"variant stats, last day, median router",
       [&](store::LogStore& s, int) { return stats(s, mid, end - kDay, end); }},
      {"variant stats, day 15, median router",
       [&](store::LogStore& s, int) { return stats(s, mid, end - 15 * kDay, end - 14 * kDay); }},
      {"variant stats, 30 days, median router",
       [&](store::LogStore& s, int) { return stats(s, mid, end - 30 * kDay, end); }},
  };

  store.reset();
  evict(a.db);
  std::printf("page cache after eviction: %.1f %% of the file\n", resident(a.db) * 100);
  std::printf("\n## Queries (%lld records; cold: evicted and reopened, median of %d; warm: median of %d)\n\n",
              static_cast<long long>(a.records), a.cold_runs, a.runs);
  std::printf("| query | rows | cold ms | warm ms |\n|---|---|---|---|\n");
  for (const Query& q : queries) {
    std::vector<double> cold;
    size_t rows = 0;
    for (int i = 0; i < a.cold_runs; ++i) {
      store.reset();
      evict(a.db);
      store = must(store::open_sqlite_log(a.db, store_options(a)), "open");
      auto t = Clock::now();
      rows = q.run(*store, i);
      cold.push_back(ms_since(t));
    }
    q.run(*store, 0);
    std::vector<double> warm;
    for (int i = 0; i < a.runs; ++i) {
      auto t = Clock::now();
      rows = q.run(*store, 0);
      warm.push_back(ms_since(t));
    }
    std::printf("| %s | %zu | %.2f | %.2f |\n", q.name.c_str(), rows, median(cold), median(warm));
    std::fflush(stdout);
  }
  return 0;
}
