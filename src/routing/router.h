#pragma once
// The router resource: routes with CEL conditions, weighted variants, a default route.
//
//   auto spec = routing::parse_router(json_text, models);      // every problem, with JSON paths
//   if (!spec) for (auto& p : spec.error()) show(p.path, p.message);
//   std::string canonical = routing::to_json(*spec);            // what the store keeps
//
// The JSON shape (see docs/routers.md):
//   {"name": "user-aware", "displayName": "User-Aware",
//    "routes": [{"name": "spanish", "condition": {"cel_expression": "language == \"es\""},
//                "route": {"variants": [{"variant": {"modelId": "demo/smart"}, "weight": 100}]}}],
//    "defaultRoute": {"variants": [{"variant": {"modelId": "demo/fast"}, "weight": 100}]},
//    "stickinessKey": "user", "slashCommands": [{"command": "/code", "route": "spanish"}],
//    "fallbacks": ["demo/cheap"], "failover": {"maxAttempts": 3, "ttftTimeoutMs": 2000}}

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace sy::routing {

// Request fields a variant sets, whatever the client sent.
struct Overrides {
  std::optional<double> temperature;
  std::optional<int64_t> max_tokens;
  std::string system_prompt_prefix;  // prepended to the system prompt (or becomes it)
  std::string provider_json;         // a JSON object sent as the body's `provider` field
                                     // (provider preferences, as OpenRouter-style upstreams read them)
  bool empty() const {
    return !temperature && !max_tokens && system_prompt_prefix.empty() && provider_json.empty();
  }
};

struct Variant {
  std::string name;      // defaults to model_id; unique within its route
  std::string model_id;  // a catalog id: "<provider>/<model>"
  double weight = 0;     // relative; 0 takes no traffic
  Overrides overrides;
};

struct Route {
  std::string name;       // defaults to "route-<index>"; "default" for the default route
  std::string condition;  // CEL; empty for the default route
  std::vector<Variant> variants;
  // Model ids tried after the chosen variant (failover); "route:<name>" stands for the variant
  // that route would choose for the request.
  std::vector<std::string> fallbacks;
};

// "/code" → a route by name, or straight to a model.
struct SlashCommand {
  std::string command;  // with its slash
  std::string route;
  std::string model_id;
};

// How the failover issue's attempt plan behaves for this router; 0 means "the gateway default".
// A fallback that names a route of the router: "route:premium".
inline constexpr std::string_view kRouteFallback = "route:";

struct Failover {
  int max_attempts = 0;
  int64_t deadline_ms = 0;
  int64_t ttft_timeout_ms = 0;
  bool hedge = false;
  bool resume_streams = false;
  bool other_variants = false;  // after the fallbacks, try the route's other variants
};

struct RouterSpec {
  std::string name;
  std::string display_name;
  std::string description;
  std::string stickiness_key = "user";  // "user", or a metadata key such as "session_id"
  std::vector<Route> routes;
  Route default_route;
  std::vector<SlashCommand> slash_commands;
  std::vector<std::string> fallbacks;  // router-wide, after the route's own
  Failover failover;
  bool auto_cache = false;  // Anthropic models: cache breakpoints on the system prompt and tools
  bool log_bodies = false;  // the request log keeps this router's prompts and completions
};

// What the store adds around a spec.
struct RouterMeta {
  int64_t version = 0;
  int64_t create_time_ms = 0;
  int64_t update_time_ms = 0;
};

struct Problem {
  std::string path;     // JSON path of the offending value: "routes[1].condition.cel_expression"
  std::string message;  // what is wrong and how to fix it
  int line = 0;         // CEL errors: position inside the expression
  int column = 0;
};
using Problems = std::vector<Problem>;

// Checks a model id; returns a message ("unknown model 'x'; did you mean 'y'?") or nullopt.
using ModelCheck = std::function<std::optional<std::string>(std::string_view model_id)>;

// Parses and validates a router document: shape, unknown keys, names, weights, model ids,
// slash commands, and that every condition compiles. `name` (from the URL) wins over the
// document's own when not empty; a document without a name gets an empty one.
tl::expected<RouterSpec, Problems> parse_router(std::string_view json, const ModelCheck& models,
                                               std::string_view name = {});

// The canonical JSON of a spec (defaults filled in); with meta, the API resource including
// version, etag and times.
std::string to_json(const RouterSpec& spec, const RouterMeta* meta = nullptr);

// RFC 7386 JSON merge patch of `patch` onto `document`; error message on invalid JSON.
tl::expected<std::string, std::string> merge_patch(std::string_view document, std::string_view patch);

// Router names: 1 to 64 of [a-z0-9._-], starting with a letter or digit.
bool valid_name(std::string_view name);
// A free-form display name turned into a name candidate ("User Aware!" → "user-aware").
std::string slug(std::string_view display_name);

}  // namespace sy::routing
