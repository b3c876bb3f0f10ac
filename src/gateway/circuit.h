#pragma once
// Circuit breakers per provider and per model, shared by the workers.
//
//   CircuitBreakers breakers(options);
//   if (!breakers.allow("claude", "claude/claude-sonnet-4-5")) skip();   // open: not retried blindly
//   breakers.record("claude", "claude/claude-sonnet-4-5", ok);
//
// A circuit opens after `failures` consecutive failures, or when at least `min_requests` of a
// `window` failed at `error_rate` or more. After `cooldown` it is half-open: one request
// probes it; success closes it, failure opens it again. Failures are what moves a request to
// its next attempt (connection errors, 408/409/5xx), except 429, which Retry-After handles.
// One mutex guards the table: each attempt takes it twice, uncontended in the common case.

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "config/config.h"

namespace sy::gateway {

// failures, error_rate, min_requests, window, cooldown: `circuit_breaker` of switchyard.yaml.
using CircuitOptions = config::CircuitBreaker;

class CircuitBreakers {
 public:
  using Clock = std::chrono::steady_clock;
  explicit CircuitBreakers(CircuitOptions options = {}) : options_(options) {}

  // Whether a request may go to `model` of `provider` now. A half-open circuit lets one probe
  // through (this call is that probe's ticket).
  bool allow(std::string_view provider, std::string_view model, Clock::time_point now = Clock::now());
  void record(std::string_view provider, std::string_view model, bool ok, Clock::time_point now = Clock::now());
  // {"providers": [{"name", "state", ...}], "models": [...]} for GET /router/v1/health.
  std::string health_json(Clock::time_point now = Clock::now()) const;
  // Every circuit that has failed: scope "provider" or "model", its name, and its state as the
  // metrics give it (0 closed, 1 open, 2 half-open).
  void each_state(const std::function<void(std::string_view scope, std::string_view name, int state)>& f,
                  Clock::time_point now = Clock::now()) const;

 private:
  enum class State { kClosed, kOpen, kHalfOpen };
  struct Circuit {
    State state = State::kClosed;
    int consecutive = 0;
    int window_requests = 0;
    int window_failures = 0;
    Clock::time_point window_start{};
    Clock::time_point opened_at{};
    bool probing = false;
    Clock::time_point probe_at{};
    long opened = 0;  // times opened
    long failures_total = 0;
    long requests_total = 0;
  };
  int verdict(Circuit* c, Clock::time_point now) const;
  // The state to report: an open circuit past its cool-down is half-open.
  State shown(const Circuit& c, Clock::time_point now) const {
    return c.state == State::kOpen && now - c.opened_at >= options_.cooldown ? State::kHalfOpen : c.state;
  }
  void record(Circuit& c, bool ok, Clock::time_point now);
  static Circuit& at(std::map<std::string, Circuit, std::less<>>& table, std::string_view key);

  CircuitOptions options_;
  mutable std::mutex mutex_;
  std::map<std::string, Circuit, std::less<>> providers_;
  std::map<std::string, Circuit, std::less<>> models_;
};

}  // namespace sy::gateway
