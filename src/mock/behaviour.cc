#include "mock/behaviour.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <random>
#include <string>

#include "mock/mock.h"

namespace sy::mock {
namespace {

std::optional<long> number(std::string_view s, std::string_view suffix = {}) {
  if (!suffix.empty()) {
    if (!s.ends_with(suffix)) return std::nullopt;
    s.remove_suffix(suffix.size());
  }
  long v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

// "<N><unit>" or a bare "<N>".
std::optional<long> number_in(std::string_view s, std::string_view unit) {
  if (auto v = number(s, unit)) return v;
  return number(s);
}

std::optional<int> percent(std::string_view s) {
  if (auto v = number(s); v && *v <= 100) return static_cast<int>(*v);
  return std::nullopt;
}

// A flag's value in a header: absent or "0"/"false" is off.
bool flag(std::string_view v) { return v.empty() || v == "1" || v == "true"; }

void apply(Behaviour& b, std::string_view key, std::string_view value) {
  using std::chrono::milliseconds;
  if (key == "ttft") {
    if (auto v = number_in(value, "ms")) b.ttft = milliseconds(*v);
  } else if (key == "tps") {
    if (auto v = number(value); v && *v > 0) b.gap = std::chrono::microseconds(1'000'000 / *v);
  } else if (key == "gap") {
    if (auto v = number_in(value, "ms")) b.gap = milliseconds(*v);
  } else if (key == "len") {
    if (auto v = number(value)) b.length = static_cast<int>(*v);
  } else if (key == "status") {
    if (auto v = number(value); v && *v >= 100 && *v < 600) b.status = static_cast<int>(*v);
  } else if (key == "retry-after") {
    if (auto v = number_in(value, "s")) b.retry_after_s = static_cast<int>(*v);
  } else if (key == "reset-after") {
    if (auto v = number(value)) b.reset_after = static_cast<int>(*v);
  } else if (key == "garble" || key == "garble-after") {
    if (auto v = number(value)) b.garble = static_cast<int>(*v);
    else b.garble = flag(value) ? 0 : -1;
  } else if (key == "faults") {
    if (auto v = percent(value)) b.faults = *v;
  } else if (key == "slow") {
    if (auto v = percent(value)) b.slow = *v;
  } else if (key == "slowby") {
    if (auto v = number_in(value, "ms")) b.slowby = milliseconds(*v);
  } else if (key == "pace") {
    if (auto v = number_in(value, "x"); v && *v > 0) b.pace = static_cast<int>(std::min(*v, 1'000'000L));
  } else if (key == "seed") {
    if (auto v = number(value)) b.seed = static_cast<uint64_t>(*v);
  } else if (key == "hang") {
    b.hang = flag(value);
  } else if (key == "drop") {
    b.drop = flag(value);
  } else if (key == "echo") {
    b.echo = flag(value);
  } else if (key == "tool") {
    b.tool = flag(value);
  } else if (key == "think") {
    if (auto v = number(value)) b.think = static_cast<int>(*v);
    else b.think = flag(value) ? Behaviour::kDefaultThink : 0;
  } else if (key == "cached") {
    if (auto v = number(value)) b.cached = static_cast<int>(*v);
  }
}

void apply_segment(Behaviour& b, std::string_view seg) {
  if (seg == "fast") {
    b.ttft = std::chrono::milliseconds(80);
    b.gap = std::chrono::milliseconds(5);
    b.length = 40;
    return;
  }
  if (seg == "smart") {
    b.ttft = std::chrono::milliseconds(450);
    b.gap = std::chrono::milliseconds(25);
    b.length = 60;
    return;
  }
  if (seg == "cheap") {
    b.ttft = std::chrono::milliseconds(200);
    b.gap = std::chrono::milliseconds(12);
    b.length = 30;
    return;
  }
  if (seg == "hang") {
    b.hang = true;
    return;
  }
  if (seg == "echo" || seg == "tool" || seg == "think" || seg == "drop" || seg == "garble") {
    apply(b, seg, {});
    return;
  }
  // Keys may contain '-' (retry-after, reset-after): the value starts at the last '-'
  // that is followed by a digit.
  for (size_t i = seg.size(); i-- > 0;) {
    if (seg[i] == '-' && i + 1 < seg.size() && seg[i + 1] >= '0' && seg[i + 1] <= '9') {
      apply(b, seg.substr(0, i), seg.substr(i + 1));
      return;
    }
  }
}

}  // namespace

Behaviour Behaviour::parse(std::string_view model, const http::Request* headers) {
  Behaviour b;
  while (!model.empty()) {
    const size_t slash = model.find('/');
    apply_segment(b, model.substr(0, slash));
    if (slash == std::string_view::npos) break;
    model.remove_prefix(slash + 1);
  }
  if (headers != nullptr) {
    static constexpr std::string_view kKeys[] = {
        "ttft", "tps",   "gap",    "len",  "status", "retry-after",  "reset-after", "seed", "hang",  "echo",
        "tool", "think", "cached", "drop", "garble", "garble-after", "faults",      "slow", "slowby", "pace"};
    for (std::string_view key : kKeys) {
      std::string name = "x-mock-";
      name += key;
      const std::string_view v = headers->header(name);
      if (!v.empty()) apply(b, key, v);
    }
  }
  return b;
}

Behaviour Behaviour::resolve(Protocol protocol) const {
  if (faults == 0 && slow == 0) return *this;
  static std::atomic<uint64_t> requests{0};
  if (seed) return resolve(protocol, *seed ^ splitmix64(requests.fetch_add(1, std::memory_order_relaxed)));
  thread_local std::mt19937_64 random{std::random_device{}()};
  return resolve(protocol, random());
}

Behaviour Behaviour::resolve(Protocol protocol, uint64_t draw) const {
  Behaviour b = *this;
  b.faults = b.slow = 0;
  // Three independent rolls from one draw: whether it fails, how, whether it is slow.
  const uint64_t fails = splitmix64(draw);
  const uint64_t how = splitmix64(fails);
  const uint64_t slowed = splitmix64(how);
  if (fails % 100 < static_cast<uint64_t>(faults)) {
    switch (how % 7) {
      case 0: b.status = 500; break;
      case 1: b.status = 502; break;
      case 2: b.status = 503; break;
      case 3: b.status = protocol == Protocol::kAnthropic ? 529 : 503; break;  // the provider's overload
      case 4:
        b.status = 429;
        b.retry_after_s = -1;
        break;
      case 5: b.drop = true; break;
      default: b.garble = 0; break;
    }
  }
  if (slowed % 100 < static_cast<uint64_t>(slow)) b.ttft += slowby;
  return b;
}

}  // namespace sy::mock
