#pragma once
// Switchyard's configuration: switchyard.yaml, environment overrides, embedded defaults.
//
//   auto cfg = config::load({.path = "switchyard.yaml"}, config::process_env());
//   if (!cfg) die(cfg.error().message);   // "switchyard.yaml: providers[0]: unknown key 'kin' ..."
//
// With no file every setting has a default: listen on 127.0.0.1:8080, one worker per core,
// SQLite at ./switchyard.db, and the built-in `demo` provider (the mock upstream, in-process).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "http/client.h"
#include "http/server.h"

namespace sy::config {

struct ModelConfig {
  std::string id;                  // the provider's own name for it: "gpt-4o-mini"
  double input_per_mtok = 0;       // USD per million input tokens
  double output_per_mtok = 0;      // USD per million output tokens
};

struct ProviderConfig {
  std::string name;                // "openai"; models are addressed as "<name>/<model>"
  std::string kind = "openai";     // the wire protocol
  std::string base_url;
  std::string api_key;             // never logged
  std::vector<ModelConfig> models;
  bool any_model = false;          // models: "*" — accept any "<name>/<model>"
};

// A router declared in the file, seeded into the store on start (see store::ConfigStore::seed).
struct RouterSeed {
  std::string name;
  std::string json;  // the router document, converted from YAML
};

// Circuit breakers (gateway/circuit.h): a circuit opens after `failures` consecutive failures,
// or when `min_requests` of a `window` failed at `error_rate` or more; one request probes it
// after `cooldown`.
struct CircuitBreaker {
  int failures = 5;
  double error_rate = 0.5;
  int min_requests = 20;
  std::chrono::milliseconds window{30'000};
  std::chrono::milliseconds cooldown{30'000};
};

// The request log (telemetry/, store/log_store.h): every request's record, kept in SQLite.
struct RequestLog {
  bool enabled = true;
  std::string database;               // "" → beside `database`, named <stem>-log.db
  int64_t retention_days = 30;        // records older are deleted; 0: kept by age forever
  int64_t max_mb = 1024;              // the file is kept under this size; 0: no cap
  std::vector<std::string> metadata;  // request metadata keys the log keeps (an allow-list)
  bool bodies = false;                // keep every request's prompt and completion (else: routers' logBodies)
  size_t queue = 8192;                // records waiting for the writer; beyond, they are dropped (counted)
  bool idle_priority = true;          // the writer runs on idle CPU, raised when it falls behind
};

struct Config {
  std::string source = "built-in defaults";  // where the settings came from
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  int workers = 0;  // 0: one per core
  std::string database = "switchyard.db";
  bool demo = true;  // the built-in demo provider
  http::ServerLimits limits;
  http::ClientOptions upstream;
  std::vector<ProviderConfig> providers;
  std::vector<RouterSeed> routers;
  std::string admin_key;              // for /router/v1/*; empty: generated and kept in the database
  std::vector<std::string> api_keys;  // gateway keys for /v1/*; empty: no key required
  CircuitBreaker circuit_breaker;
  RequestLog log;
  std::string export_json;  // the `export:` section as JSON ("" when absent): export/from_config.h
  std::string tts_json;     // the `tts:` section as JSON ("" when absent): speech/from_config.h
  std::vector<std::string> notes;  // what a person starting the server should know
};

struct LoadOptions {
  std::optional<std::string> path;  // --config; else $SWITCHYARD_CONFIG; else ./switchyard.yaml
};

// Looks up an environment variable; returns nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

Result<Config> load(const LoadOptions& options, const EnvLookup& env);
// Parses YAML text (for tests and --config); `name` appears in error messages.
Result<Config> parse(const std::string& yaml_text, const std::string& name, const EnvLookup& env);

// A YAML document as JSON: plain scalars typed by YAML 1.2's core schema (numbers, true,
// false, null), everything else a string. `name` appears in error messages.
Result<std::string> yaml_to_json(const std::string& yaml_text, const std::string& name);

// The models of the built-in demo provider, with their simulated prices.
const std::vector<ModelConfig>& demo_models();

}  // namespace sy::config
