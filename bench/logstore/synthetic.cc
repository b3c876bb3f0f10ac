#include "synthetic.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include <fmt/core.h>

namespace sy::bench {
namespace {

using telemetry::AttemptRecord;
using telemetry::OutcomeEvent;
using telemetry::RequestRecord;

constexpr int64_t kMinuteMs = 60'000;
constexpr int kMinutesPerDay = 1440;
constexpr double kNoUser = 0.10;
constexpr double kDirect = 0.05;      // requests naming a model, no router
constexpr double kLongRoute = 0.10;
constexpr double kFailover = 0.05;
constexpr double kStream = 0.70;
constexpr double kBodies = 0.01;

struct Model {
  const char* id;
  const char* provider;
  double in_per_mtok;
  double out_per_mtok;
};
constexpr std::array<Model, 8> kModels = {{
    {"openai/gpt-4o", "openai", 2.5, 10},
    {"openai/gpt-4o-mini", "openai", 0.15, 0.6},
    {"anthropic/claude-sonnet-4-5", "anthropic", 3, 15},
    {"anthropic/claude-haiku-4-5", "anthropic", 1, 5},
    {"google/gemini-2.5-flash", "gemini", 0.3, 2.5},
    {"google/gemini-2.5-pro", "gemini", 1.25, 10},
    {"mistral/mistral-large", "mistral", 2, 6},
    {"deepseek/deepseek-chat", "deepseek", 0.27, 1.1},
}};

constexpr std::array<const char*, 3> kVariants = {"a", "b", "c"};

uint64_t mix(uint64_t x) {  // splitmix64: sticky assignment without a table
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

std::string request_id(int64_t time_ms, uint64_t r1, uint64_t r2) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  std::string s = "req_";
  for (int i = 9; i >= 0; --i) {
    s += kAlphabet[(static_cast<uint64_t>(time_ms) >> (i * 5)) & 31];
  }
  for (uint64_t part : {r1 & 0xFFFFFFFFFFULL, r2 & 0xFFFFFFFFFFULL}) {
    for (int i = 7; i >= 0; --i) {
      s += kAlphabet[(part >> (i * 5)) & 31];
    }
  }
  return s;
}

}  // namespace

std::string SyntheticLog::router_name(int k) { return fmt::format("router-{:02}", k); }
std::string SyntheticLog::user_name(int k) { return fmt::format("user-{:06}", k); }

SyntheticLog::SyntheticLog(SyntheticOptions o) : o_(o), rng_(o.seed) {
  // Traffic by minute: 1 + 0.5·sin over the day, busiest in the afternoon (3× the night).
  minute_cdf_.resize(static_cast<size_t>(o_.days * kMinutesPerDay));
  double sum = 0;
  for (size_t m = 0; m < minute_cdf_.size(); ++m) {
    double day_fraction = static_cast<double>(m % kMinutesPerDay) / kMinutesPerDay;
    sum += 1 + 0.5 * std::sin(2 * std::numbers::pi * (day_fraction - 0.375));
    minute_cdf_[m] = sum;
  }
  for (double& c : minute_cdf_) {
    c /= sum;
  }
  sum = 0;
  for (int k = 0; k < o_.routers; ++k) {
    sum += 1 / std::pow(k + 1, 0.8);
    router_cdf_.push_back(sum);
  }
  for (double& c : router_cdf_) {
    c /= sum;
  }
}

int64_t SyntheticLog::time_of(int64_t i) {
  double u = (static_cast<double>(i) + 0.5) / static_cast<double>(o_.records);
  auto it = std::lower_bound(minute_cdf_.begin(), minute_cdf_.end(), u);
  auto m = static_cast<int64_t>(std::min<ptrdiff_t>(it - minute_cdf_.begin(),
                                                    static_cast<ptrdiff_t>(minute_cdf_.size()) - 1));
  double lo = m == 0 ? 0 : minute_cdf_[static_cast<size_t>(m - 1)];
  double within = (u - lo) / (minute_cdf_[static_cast<size_t>(m)] - lo);
  int64_t start = o_.end_ms - o_.days * kMinutesPerDay * kMinuteMs;
  return start + m * kMinuteMs + static_cast<int64_t>(within * kMinuteMs);
}

void SyntheticLog::make(RequestRecord& r, std::vector<OutcomeEvent>& outcomes) {
  std::uniform_real_distribution<double> unit(0, 1);
  auto lognormal = [&](double median, double sigma) {
    return std::lognormal_distribution<double>(std::log(median), sigma)(rng_);
  };
  r = RequestRecord{};
  r.time_ms = time_of(next_);
  r.id = request_id(r.time_ms, rng_(), rng_());
  r.key_id = fmt::format("k_{:06x}", mix(rng_() % 50) & 0xFFFFFF);
  int user = -1;
  if (unit(rng_) >= kNoUser) {
    double x = unit(rng_);
    user = std::min(o_.users - 1, static_cast<int>(o_.users * x * x));  // a few heavy users
    r.user = user_name(user);
  }
  bool anthropic = unit(rng_) < 0.2;
  r.endpoint = anthropic ? "messages" : "chat.completions";
  r.dialect = anthropic ? "anthropic" : "openai";
  const Model* model = &kModels[rng_() % kModels.size()];
  if (unit(rng_) >= kDirect) {
    int k = static_cast<int>(std::lower_bound(router_cdf_.begin(), router_cdf_.end(), unit(rng_)) -
                             router_cdf_.begin());
    r.router = router_name(k);
    r.router_version = 1 + k % 4;
    r.requested_model = "switchyard/" + r.router;
    if (unit(rng_) < kLongRoute) {
      r.route = "long";
      r.variant = "default";
      model = &kModels[5];
      r.reason = "route 'long': message_count > 40";
    } else {
      uint64_t h = user >= 0 ? mix(static_cast<uint64_t>(user) * 131 + static_cast<uint64_t>(k)) % 100
                             : rng_() % 100;
      int v = h < 50 ? 0 : h < 80 ? 1 : 2;  // sticky 50/30/20
      r.route = "main";
      r.variant = kVariants[static_cast<size_t>(v)];
      model = &kModels[static_cast<size_t>(k * 3 + v) % kModels.size()];
      r.reason = fmt::format("route 'main': default; variant '{}' by sticky hash of user", r.variant);
    }
  } else {
    r.requested_model = model->id;
  }
  r.stream = unit(rng_) < kStream;
  r.tokens_in = static_cast<int64_t>(lognormal(800, 1.0));
  r.tokens_out = static_cast<int64_t>(lognormal(250, 0.9));
  r.tokens_cached = unit(rng_) < 0.3 ? r.tokens_in / 2 : 0;
  r.tokens_reasoning = unit(rng_) < 0.2 ? r.tokens_out / 3 : 0;
  r.metadata_json = fmt::format(R"({{"tier":"{}","app":"{}"}})",
                                std::array{"free", "pro", "enterprise"}[rng_() % 3],
                                std::array{"web", "ios", "android"}[rng_() % 3]);
  // Errors: 2 % 429, 2.5 % 5xx, 1 % 400, 1 % timeouts, 1 % broken streams, 0.5 % unreachable.
  double e = unit(rng_);
  r.status = 200;
  if (e < 0.02) {
    r.status = 429, r.error_class = "rate_limited";
  } else if (e < 0.045) {
    r.status = std::array{500, 502, 503}[rng_() % 3], r.error_class = "upstream_5xx";
  } else if (e < 0.055) {
    r.status = 400, r.error_class = "invalid_request";
  } else if (e < 0.065) {
    r.status = 504, r.error_class = "ttft_timeout";
  } else if (e < 0.075) {
    r.stream = true, r.error_class = "stream_broke";
  } else if (e < 0.08) {
    r.status = 502, r.error_class = "upstream_unreachable";
  }
  bool answered = r.status == 200;
  int64_t start = 0;
  if (unit(rng_) < kFailover) {
    const Model& first = kModels[(static_cast<size_t>(model - kModels.data()) + 1) % kModels.size()];
    AttemptRecord a{first.id, first.provider, 503, "upstream_5xx", 0, static_cast<int64_t>(lognormal(300, 0.5))};
    start = a.duration_ms + 2;
    r.attempts.push_back(std::move(a));
  }
  AttemptRecord last{model->id, model->provider, r.status, r.error_class, start};
  if (answered) {
    r.ttft_ms = r.stream ? static_cast<int64_t>(lognormal(450, 0.7)) : -1;
    int64_t gen = static_cast<int64_t>(lognormal(r.stream ? 2500 : 3000, 0.8));
    last.duration_ms = std::max<int64_t>(0, r.ttft_ms) + gen;
    last.ttft_ms = r.ttft_ms;
    if (r.ttft_ms >= 0) {
      r.ttft_ms += start;
    }
    last.served = true;
    last.tokens_in = r.tokens_in;
    last.tokens_out = r.tokens_out;
    r.cost_usd = (static_cast<double>(r.tokens_in) * model->in_per_mtok +
                  static_cast<double>(r.tokens_out) * model->out_per_mtok) /
                 1e6;
    last.cost_usd = r.cost_usd;
    r.model = model->id;
    r.provider = model->provider;
  } else {
    r.tokens_in = r.tokens_out = r.tokens_cached = r.tokens_reasoning = 0;
    last.duration_ms = static_cast<int64_t>(lognormal(r.status == 504 ? 10'000 : 80, 0.5));
  }
  r.latency_ms = start + last.duration_ms;
  r.attempts.push_back(std::move(last));
  if (unit(rng_) < kBodies) {
    r.request_body = fmt::format(R"({{"model":"{}","messages":[{{"role":"user","content":"{}"}}]}})",
                                 r.requested_model, std::string(1200 + rng_() % 800, 'q'));
    r.response_body = fmt::format(R"({{"choices":[{{"message":{{"content":"{}"}}}}]}})",
                                  std::string(600 + rng_() % 800, 'a'));
  }
  // Outcomes: csat 3 % and thumbs 1 % of answered requests, a conversion on the user for 1 %.
  int64_t after = r.time_ms + r.latency_ms + static_cast<int64_t>(lognormal(60'000, 1.0));
  double o = unit(rng_);
  if (answered && o < 0.03) {
    double bias = r.variant == "b" ? 0.3 : 0;  // something for an experiment to find
    double csat = std::clamp(std::round(3.6 + bias + std::normal_distribution<double>(0, 1)(rng_)), 1.0, 5.0);
    outcomes.push_back({fmt::format("ev-{}", next_event_++), after, r.id, "", "", "csat", csat});
  } else if (answered && o < 0.04) {
    outcomes.push_back({fmt::format("ev-{}", next_event_++), after, r.id, "", "", "thumbs_up",
                        unit(rng_) < 0.8 ? 1.0 : 0.0});
  } else if (o < 0.05 && !r.user.empty() && !r.router.empty()) {
    outcomes.push_back({fmt::format("ev-{}", next_event_++), after, "", r.user, r.router, "conversion", 1});
  }
}

bool SyntheticLog::next_batch(size_t n, std::vector<RequestRecord>& records,
                              std::vector<OutcomeEvent>& outcomes) {
  records.resize(static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(n), o_.records - next_)));
  outcomes.clear();
  for (RequestRecord& r : records) {
    make(r, outcomes);
    ++next_;
  }
  return !records.empty();
}

}  // namespace sy::bench
