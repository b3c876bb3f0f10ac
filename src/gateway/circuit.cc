#include "gateway/circuit.h"

#include <fmt/format.h>

#include "core/json_scan.h"

namespace sy::gateway {

CircuitBreakers::Circuit& CircuitBreakers::at(std::map<std::string, Circuit, std::less<>>& table, std::string_view key) {
  auto it = table.find(key);
  if (it == table.end()) it = table.emplace(std::string(key), Circuit{}).first;
  return it->second;
}

// 0: no; 1: yes; 2: yes, as the half-open circuit's probe. A probe that never reported back
// (its request ended without an outcome) is replaced after another cool-down.
int CircuitBreakers::verdict(Circuit* c, Clock::time_point now) const {
  if (c == nullptr) return 1;
  if (c->state == State::kOpen && now - c->opened_at >= options_.cooldown) {
    c->state = State::kHalfOpen;
    c->probing = false;
  }
  if (c->state == State::kOpen) return 0;
  if (c->state == State::kHalfOpen) return c->probing && now - c->probe_at < options_.cooldown ? 0 : 2;
  return 1;
}

bool CircuitBreakers::allow(std::string_view provider, std::string_view model, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  // Only circuits that have failed are in the tables: a healthy one costs two lookups.
  auto p = providers_.find(provider);
  auto m = models_.find(model);
  Circuit* pc = p == providers_.end() ? nullptr : &p->second;
  Circuit* mc = m == models_.end() ? nullptr : &m->second;
  const int a = verdict(pc, now);
  const int b = verdict(mc, now);
  if (a == 0 || b == 0) return false;
  for (auto [c, v] : {std::pair{pc, a}, std::pair{mc, b}}) {
    if (v == 2) {
      c->probing = true;
      c->probe_at = now;
    }
  }
  return true;
}

void CircuitBreakers::record(Circuit& c, bool ok, Clock::time_point now) {
  ++c.requests_total;
  if (!ok) ++c.failures_total;
  if (c.state == State::kHalfOpen) {
    c.probing = false;
    if (ok) {
      c = Circuit{.opened = c.opened, .failures_total = c.failures_total, .requests_total = c.requests_total};
    } else {
      c.state = State::kOpen;
      c.opened_at = now;
      ++c.opened;
    }
    return;
  }
  if (c.state == State::kOpen) return;  // an attempt that started before it opened
  if (now - c.window_start > options_.window) {
    c.window_start = now;
    c.window_requests = 0;
    c.window_failures = 0;
  }
  ++c.window_requests;
  c.consecutive = ok ? 0 : c.consecutive + 1;
  if (!ok) ++c.window_failures;
  const bool rate = c.window_requests >= options_.min_requests &&
                    c.window_failures >= options_.error_rate * c.window_requests;
  if (c.consecutive >= options_.failures || rate) {
    c.state = State::kOpen;
    c.opened_at = now;
    ++c.opened;
  }
}

void CircuitBreakers::record(std::string_view provider, std::string_view model, bool ok, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  // Successes of circuits never failed are not tracked: the tables hold the troubled ones.
  auto p = providers_.find(provider);
  if (!ok || p != providers_.end()) record(p != providers_.end() ? p->second : at(providers_, provider), ok, now);
  auto m = models_.find(model);
  if (!ok || m != models_.end()) record(m != models_.end() ? m->second : at(models_, model), ok, now);
}

std::string CircuitBreakers::health_json(Clock::time_point now) const {
  const std::lock_guard lock(mutex_);
  std::string out = R"({"providers":[)";
  auto list = [&](const std::map<std::string, Circuit, std::less<>>& table) {
    bool first = true;
    for (const auto& [name, c] : table) {
      if (!first) out += ',';
      first = false;
      const State state = shown(c, now);
      out += R"({"name":)";
      json::append_quoted(out, name);
      out += R"(,"state":")";
      out += state == State::kClosed ? "closed" : state == State::kOpen ? "open" : "half_open";
      out += '"';
      fmt::format_to(std::back_inserter(out), R"(,"consecutive_failures":{},"times_opened":{},"requests":{},"failures":{})",
                     c.consecutive, c.opened, c.requests_total, c.failures_total);
      if (state == State::kOpen) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(options_.cooldown - (now - c.opened_at));
        fmt::format_to(std::back_inserter(out), R"(,"retry_in_ms":{})", left.count());
      }
      out += '}';
    }
  };
  list(providers_);
  out += R"(],"models":[)";
  list(models_);
  out += "]}";
  return out;
}

void CircuitBreakers::each_state(const std::function<void(std::string_view, std::string_view, int)>& f,
                                 Clock::time_point now) const {
  const std::lock_guard lock(mutex_);
  for (const auto& [name, c] : providers_) f("provider", name, static_cast<int>(shown(c, now)));
  for (const auto& [name, c] : models_) f("model", name, static_cast<int>(shown(c, now)));
}

}  // namespace sy::gateway
