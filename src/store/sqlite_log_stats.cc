// variant_stats() of the SQLite log store: one pass over the heads of a router's blocks in the
// window (every field the figures need is in the heads), then one over outcomes_at.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <tuple>

#include <fmt/core.h>
#include <sqlite3.h>

#include "store/sqlite_log_store_impl.h"
#include "store/user_visits.h"

namespace sy::store::sqlite_log {
namespace {

// The router's blocks that may hold records of [?2, ?3) (?4 = ?3 + the widest span).
const std::string kStatsBlocks =
    "SELECT seq, heads FROM blocks INDEXED BY blocks_router"
    " WHERE router = ?1 AND t_max >= ?2 AND t_max < ?4 AND t_min < ?3";
const std::string kStatsOutcomes =
    "SELECT at_router, route, variant, user, name, value FROM outcomes INDEXED BY outcomes_at"
    " WHERE at_router IN (?1, '') AND at_ms >= ?2 AND at_ms < ?3";

struct Group {
  VariantStats stats;
  std::vector<int64_t> ttft, latency;
  std::map<std::string, MetricSums, std::less<>> metrics;
};

class StatsBuilder {
 public:
  void add_request(const BlockHead& h) {
    size_t g = group(h.route, h.variant);
    Group& grp = groups_[g];
    grp.stats.requests += 1;
    grp.stats.errors += h.failed ? 1 : 0;
    if (h.ttft_ms >= 0) {
      grp.ttft.push_back(h.ttft_ms);
    }
    if (!h.failed) {
      grp.latency.push_back(h.latency_ms);
    }
    grp.stats.cost_usd += h.cost_usd;
    if (!h.user.empty()) {
      visits_.add(h.user, static_cast<uint32_t>(g), h.time_ms);
    }
  }

  // Call once every request is in.
  void count_users() {
    const std::vector<int64_t> users = visits_.finish(groups_.size());
    for (size_t g = 0; g < groups_.size(); ++g) {
      groups_[g].stats.users = users[g];
    }
  }

  void add_outcome(const Use& u, std::string_view router) {
    std::optional<size_t> g;
    if (!u.null(1)) {  // a request outcome: its request's route and variant
      if (u.view(0) != router) {
        return;
      }
      g = find_group(u.view(1), u.view(2));
    } else {  // a user outcome: the variant the user saw most, ties to the latest
      g = visits_.favourite(u.view(3));
    }
    if (!g) {
      return;
    }
    auto& metrics = groups_[*g].metrics;
    std::string_view name = u.view(4);
    auto m = metrics.find(name);
    if (m == metrics.end()) {
      m = metrics.emplace(std::string(name), MetricSums{std::string(name)}).first;
    }
    double v = u.dbl(5);
    m->second.n += 1;
    m->second.sum += v;
    m->second.sum_sq += v * v;
  }

  std::vector<VariantStats> finish() {
    std::vector<VariantStats> out;
    for (Group& g : groups_) {
      g.stats.ttft_p50_ms = percentile(g.ttft, 50);
      g.stats.ttft_p95_ms = percentile(g.ttft, 95);
      g.stats.latency_p50_ms = percentile(g.latency, 50);
      g.stats.latency_p95_ms = percentile(g.latency, 95);
      for (auto& [name, sums] : g.metrics) {
        g.stats.outcomes.push_back(std::move(sums));
      }
      out.push_back(std::move(g.stats));
    }
    std::sort(out.begin(), out.end(), [](const VariantStats& a, const VariantStats& b) {
      return std::tie(a.route, a.variant) < std::tie(b.route, b.variant);
    });
    return out;
  }

 private:
  // Nearest rank: the ceil(p·n/100)-th smallest value.
  static double percentile(std::vector<int64_t>& v, int64_t p) {
    if (v.empty()) {
      return -1;
    }
    auto n = static_cast<int64_t>(v.size());
    auto nth = v.begin() + ((p * n + 99) / 100 - 1);
    std::nth_element(v.begin(), nth, v.end());
    return static_cast<double>(*nth);
  }
  std::optional<size_t> find_group(std::string_view route, std::string_view variant) const {
    if (last_ < groups_.size() && groups_[last_].stats.route == route &&
        groups_[last_].stats.variant == variant) {
      return last_;
    }
    for (size_t i = 0; i < groups_.size(); ++i) {
      if (groups_[i].stats.route == route && groups_[i].stats.variant == variant) {
        return i;
      }
    }
    return std::nullopt;
  }
  size_t group(std::string_view route, std::string_view variant) {
    if (auto g = find_group(route, variant)) {
      return last_ = *g;
    }
    groups_.push_back({});
    groups_.back().stats.route = route;
    groups_.back().stats.variant = variant;
    return last_ = groups_.size() - 1;
  }

  std::vector<Group> groups_;
  size_t last_ = 0;
  UserVisits visits_;
};

}  // namespace

Result<std::vector<VariantStats>> SqliteLogStore::variant_stats(std::string_view router,
                                                                int64_t since_ms,
                                                                int64_t until_ms) const {
  if (router.empty()) {
    return fail(ErrorCode::kInvalidRequest, "name the router whose variants to compare",
                "router");
  }
  if (since_ms > until_ms) {
    return fail(ErrorCode::kInvalidRequest,
                fmt::format("since ({}) is after until ({}); swap them", since_ms, until_ms),
                "since");
  }
  using Out = std::vector<VariantStats>;
  const int64_t span = max_span_.load();
  return read("computing variant statistics", [&](Conn& c) -> Result<Out> {
    constexpr std::string_view what = "computing variant statistics";
    StatsBuilder b;
    {
      auto s = c.stmt(kStatsBlocks, what);
      if (!s) {
        return tl::unexpected(s.error());
      }
      Use u(*s);
      u.bind(1, router);
      u.bind(2, since_ms);
      u.bind(3, until_ms);
      u.bind(4, until_ms > INT64_MAX - span ? INT64_MAX : until_ms + span);
      int rc;
      while ((rc = u.step()) == SQLITE_ROW) {
        BlockReader block(u.blob(1), {}, {});
        while (block.next()) {
          if (const BlockHead& h = block.head(); h.time_ms >= since_ms && h.time_ms < until_ms) {
            b.add_request(h);
          }
        }
        if (!block.ok()) {
          return damaged(path_, u.i64(0));
        }
      }
      if (rc != SQLITE_DONE) {
        return c.error(what, rc);
      }
      b.count_users();
    }
    auto s = c.stmt(kStatsOutcomes, what);
    if (!s) {
      return tl::unexpected(s.error());
    }
    Use u(*s);
    u.bind(1, router);
    u.bind(2, since_ms);
    u.bind(3, until_ms);
    int rc;
    while ((rc = u.step()) == SQLITE_ROW) {
      b.add_outcome(u, router);
    }
    if (rc != SQLITE_DONE) {
      return c.error(what, rc);
    }
    return b.finish();
  });
}

}  // namespace sy::store::sqlite_log
