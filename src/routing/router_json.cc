// The router resource's JSON: strict parsing with JSON paths in every problem, canonical output.
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <array>
#include <span>
#include <set>

#include "cel/cel.h"
#include "core/text.h"
#include "routing/router.h"

namespace sy::routing {
namespace bj = boost::json;
namespace {

constexpr std::array<std::string_view, 15> kRouterKeys{
    "name", "displayName", "description", "stickinessKey", "routes", "defaultRoute", "slashCommands",
    "fallbacks", "failover", "autoCache", "logBodies",
    // read-only fields of the resource, accepted so that GET → edit → PUT works
    "version", "etag", "createTime", "updateTime"};
constexpr std::array<std::string_view, 1> kConditionKeys{"cel_expression"};
constexpr std::array<std::string_view, 3> kRouteKeys{"name", "condition", "route"};
constexpr std::array<std::string_view, 2> kRouteBodyKeys{"variants", "fallbacks"};
constexpr std::array<std::string_view, 2> kWeightedKeys{"variant", "weight"};
constexpr std::array<std::string_view, 3> kVariantKeys{"modelId", "name", "overrides"};
constexpr std::array<std::string_view, 4> kOverrideKeys{"temperature", "maxTokens", "systemPromptPrefix",
                                                                "provider"};
constexpr std::array<std::string_view, 3> kCommandKeys{"command", "route", "modelId"};
constexpr std::array<std::string_view, 6> kFailoverKeys{"maxAttempts", "deadlineMs", "ttftTimeoutMs",
                                                                "hedge", "resumeStreams", "otherVariants"};

std::string_view kind_name(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::object: return "an object";
    case bj::kind::array: return "an array";
    case bj::kind::string: return "a string";
    case bj::kind::bool_: return "a boolean";
    case bj::kind::null: return "null";
    default: return "a number";
  }
}

bool valid_command(std::string_view c) {
  if (c.size() < 2 || c.size() > 32 || c[0] != '/') return false;
  return std::all_of(c.begin() + 1, c.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
  });
}

bool valid_identifier(std::string_view s) {
  if (s.empty() || s.size() > 64 || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Reads one document, collecting every problem instead of stopping at the first.
class Reader {
 public:
  explicit Reader(const ModelCheck& models) : models_(models) {}

  Problems problems;

  void add(std::string path, std::string message) { problems.push_back({std::move(path), std::move(message)}); }

  const bj::object* object(const bj::value* v, const std::string& path, std::span<const std::string_view> keys) {
    if (v == nullptr) return nullptr;
    const bj::object* o = v->if_object();
    if (o == nullptr) {
      add(path, fmt::format("must be an object, not {}", kind_name(*v)));
      return nullptr;
    }
    for (const auto& kv : *o) {
      if (std::find(keys.begin(), keys.end(), std::string_view(kv.key())) != keys.end()) continue;
      auto near = closest(kv.key(), keys);
      std::string known;
      for (auto k : keys) known += fmt::format("{}{}", known.empty() ? "" : ", ", k);
      add(join(path, kv.key()),
          near.empty() ? fmt::format("unknown field '{}' (known fields: {})", std::string_view(kv.key()), known)
                       : fmt::format("unknown field '{}'; did you mean '{}'?", std::string_view(kv.key()), near[0]));
    }
    return o;
  }

  static const bj::value* field(const bj::object* o, std::string_view key) {
    return o == nullptr ? nullptr : o->if_contains(key);
  }

  static std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
  }

  std::optional<std::string> string(const bj::value* v, const std::string& path) {
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (const bj::string* s = v->if_string()) return std::string(*s);
    add(path, fmt::format("must be a string, not {}", kind_name(*v)));
    return std::nullopt;
  }

  std::optional<double> number(const bj::value* v, const std::string& path) {
    if (v == nullptr || v->is_null()) return std::nullopt;
    if (v->is_number()) return v->to_number<double>();
    add(path, fmt::format("must be a number, not {}", kind_name(*v)));
    return std::nullopt;
  }

  std::optional<int64_t> integer(const bj::value* v, const std::string& path, int64_t lo, int64_t hi) {
    auto d = number(v, path);
    if (!d) return std::nullopt;
    if (*d != std::floor(*d) || *d < static_cast<double>(lo) || *d > static_cast<double>(hi)) {
      add(path, fmt::format("must be a whole number from {} to {}", lo, hi));
      return std::nullopt;
    }
    return static_cast<int64_t>(*d);
  }

  bool boolean(const bj::value* v, const std::string& path) {
    if (v == nullptr || v->is_null()) return false;
    if (const bool* b = v->if_bool()) return *b;
    add(path, fmt::format("must be true or false, not {}", kind_name(*v)));
    return false;
  }

  void model_id(const std::string& id, const std::string& path) {
    if (id.empty()) {
      add(path, "a modelId is required: a model such as \"demo/fast\" (GET /v1/models lists them)");
      return;
    }
    if (models_) {
      if (auto problem = models_(id)) add(path, *problem);
    }
  }

  std::vector<std::string> model_list(const bj::value* v, const std::string& path) {
    std::vector<std::string> out;
    if (v == nullptr || v->is_null()) return out;
    const bj::array* a = v->if_array();
    if (a == nullptr) {
      add(path, fmt::format("must be an array of model ids, not {}", kind_name(*v)));
      return out;
    }
    for (size_t i = 0; i < a->size(); ++i) {
      const std::string p = fmt::format("{}[{}]", path, i);
      if (auto s = string(&(*a)[i], p)) {
        if (!s->starts_with(kRouteFallback)) model_id(*s, p);  // route names are checked once all are read
        out.push_back(std::move(*s));
      }
    }
    return out;
  }

  Overrides overrides(const bj::value* v, const std::string& path) {
    Overrides o;
    const bj::object* obj = object(v, path, kOverrideKeys);
    if (obj == nullptr) return o;
    if (auto t = number(field(obj, "temperature"), join(path, "temperature"))) {
      if (*t < 0 || *t > 2) {
        add(join(path, "temperature"), "must be from 0 to 2");
      } else {
        o.temperature = *t;
      }
    }
    o.max_tokens = integer(field(obj, "maxTokens"), join(path, "maxTokens"), 1, 10'000'000);
    o.system_prompt_prefix = string(field(obj, "systemPromptPrefix"), join(path, "systemPromptPrefix")).value_or("");
    if (const bj::value* p = field(obj, "provider"); p != nullptr && !p->is_null()) {
      if (p->is_object()) {
        o.provider_json = bj::serialize(*p);
      } else {
        add(join(path, "provider"), fmt::format("must be an object of provider preferences, not {}", kind_name(*p)));
      }
    }
    return o;
  }

  Route route_body(const bj::value* v, const std::string& path, std::string name) {
    Route r;
    r.name = std::move(name);
    const bj::object* o = object(v, path, kRouteBodyKeys);
    if (o == nullptr) return r;
    r.fallbacks = model_list(field(o, "fallbacks"), join(path, "fallbacks"));
    const std::string vpath = join(path, "variants");
    const bj::value* vs = field(o, "variants");
    const bj::array* a = vs == nullptr ? nullptr : vs->if_array();
    if (a == nullptr || a->empty()) {
      add(vpath, vs == nullptr || a != nullptr ? "at least one variant is required: "
                                                 "[{\"variant\": {\"modelId\": \"demo/fast\"}, \"weight\": 100}]"
                                               : fmt::format("must be an array, not {}", kind_name(*vs)));
      return r;
    }
    double total = 0;
    bool weights_ok = true;
    for (size_t i = 0; i < a->size(); ++i) {
      const std::string p = fmt::format("{}[{}]", vpath, i);
      const bj::object* wv = object(&(*a)[i], p, kWeightedKeys);
      if (wv == nullptr) continue;
      Variant var;
      const std::string inner = join(p, "variant");
      const bj::object* vo = object(field(wv, "variant"), inner, kVariantKeys);
      if (vo == nullptr && field(wv, "variant") == nullptr) {
        add(inner, "required: {\"modelId\": \"<provider>/<model>\"}");
      }
      var.model_id = string(field(vo, "modelId"), join(inner, "modelId")).value_or("");
      model_id(var.model_id, join(inner, "modelId"));
      var.name = string(field(vo, "name"), join(inner, "name")).value_or(var.model_id);
      var.overrides = overrides(field(vo, "overrides"), join(inner, "overrides"));
      const std::string wpath = join(p, "weight");
      if (auto w = number(field(wv, "weight"), wpath)) {
        if (*w < 0 || !std::isfinite(*w)) {
          add(wpath, fmt::format("must not be negative (got {})", *w));
          weights_ok = false;
        } else {
          var.weight = *w;
          total += *w;
        }
      } else if (field(wv, "weight") == nullptr) {
        add(wpath, "required: a number such as 100 (weights are relative within the route)");
        weights_ok = false;
      } else {
        weights_ok = false;
      }
      r.variants.push_back(std::move(var));
    }
    if (weights_ok && total <= 0) add(vpath, "the weights are all zero: give at least one variant a positive weight");
    std::set<std::string_view> names;
    for (size_t i = 0; i < r.variants.size(); ++i) {
      if (!r.variants[i].name.empty() && !names.insert(r.variants[i].name).second) {
        add(fmt::format("{}[{}].variant.name", vpath, i),
            fmt::format("duplicate variant name '{}' in this route: give each variant of the same model a distinct "
                        "\"name\"",
                        r.variants[i].name));
      }
    }
    return r;
  }

  Route route(const bj::value* v, const std::string& path, size_t index) {
    const bj::object* o = object(v, path, kRouteKeys);
    std::string name = string(field(o, "name"), join(path, "name")).value_or(fmt::format("route-{}", index));
    if (o != nullptr && field(o, "name") != nullptr && !valid_name(name)) {
      add(join(path, "name"), "must be 1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit");
    }
    const std::string rpath = join(path, "route");
    if (o != nullptr && field(o, "route") == nullptr) add(rpath, "required: {\"variants\": [...]}");
    Route r = route_body(field(o, "route"), rpath, std::move(name));
    const std::string cpath = join(path, "condition");
    const bj::object* c = object(field(o, "condition"), cpath, kConditionKeys);
    const std::string epath = join(cpath, "cel_expression");
    if (o != nullptr && c == nullptr && field(o, "condition") == nullptr) {
      add(cpath, "required: {\"cel_expression\": \"plan == 'free'\"} (requests no route matches take the defaultRoute)");
    }
    if (c != nullptr) {
      r.condition = string(field(c, "cel_expression"), epath).value_or("");
      if (r.condition.empty()) {
        add(epath, "required: a CEL expression over the request's metadata, such as language == \"es\"");
      } else if (auto program = cel::compile(r.condition); !program) {
        problems.push_back({epath, program.error().to_string(), program.error().line, program.error().column});
      }
    }
    return r;
  }

  SlashCommand command(const bj::value* v, const std::string& path) {
    SlashCommand sc;
    const bj::object* o = object(v, path, kCommandKeys);
    if (o == nullptr) return sc;
    sc.command = string(field(o, "command"), join(path, "command")).value_or("");
    if (!valid_command(sc.command)) {
      add(join(path, "command"), "must be '/' then 1 to 31 of a-z, 0-9, '-', '_' (such as \"/code\")");
    }
    sc.route = string(field(o, "route"), join(path, "route")).value_or("");
    sc.model_id = string(field(o, "modelId"), join(path, "modelId")).value_or("");
    if (sc.route.empty() == sc.model_id.empty()) {
      add(path, "give exactly one of \"route\" (a route's name) or \"modelId\"");
    } else if (!sc.model_id.empty()) {
      model_id(sc.model_id, join(path, "modelId"));
    }
    return sc;
  }

  Failover failover(const bj::value* v, const std::string& path) {
    Failover f;
    const bj::object* o = object(v, path, kFailoverKeys);
    if (o == nullptr) return f;
    f.max_attempts = static_cast<int>(integer(field(o, "maxAttempts"), join(path, "maxAttempts"), 1, 10).value_or(0));
    f.deadline_ms = integer(field(o, "deadlineMs"), join(path, "deadlineMs"), 1, 3'600'000).value_or(0);
    f.ttft_timeout_ms = integer(field(o, "ttftTimeoutMs"), join(path, "ttftTimeoutMs"), 1, 600'000).value_or(0);
    f.hedge = boolean(field(o, "hedge"), join(path, "hedge"));
    f.resume_streams = boolean(field(o, "resumeStreams"), join(path, "resumeStreams"));
    f.other_variants = boolean(field(o, "otherVariants"), join(path, "otherVariants"));
    return f;
  }

 private:
  const ModelCheck& models_;
};

void put_variants(bj::object& out, const Route& r) {
  bj::array vs;
  for (const auto& v : r.variants) {
    bj::object var;
    var["modelId"] = v.model_id;
    if (v.name != v.model_id) var["name"] = v.name;
    if (!v.overrides.empty()) {
      bj::object o;
      if (v.overrides.temperature) o["temperature"] = *v.overrides.temperature;
      if (v.overrides.max_tokens) o["maxTokens"] = *v.overrides.max_tokens;
      if (!v.overrides.system_prompt_prefix.empty()) o["systemPromptPrefix"] = v.overrides.system_prompt_prefix;
      if (!v.overrides.provider_json.empty()) o["provider"] = bj::parse(v.overrides.provider_json);
      var["overrides"] = std::move(o);
    }
    bj::object weighted;
    weighted["variant"] = std::move(var);
    if (v.weight == std::floor(v.weight) && v.weight < 9e15) {
      weighted["weight"] = static_cast<int64_t>(v.weight);
    } else {
      weighted["weight"] = v.weight;
    }
    vs.push_back(std::move(weighted));
  }
  out["variants"] = std::move(vs);
  if (!r.fallbacks.empty()) out["fallbacks"] = bj::value_from(r.fallbacks);
}

std::string rfc3339(int64_t ms) {
  const time_t secs = static_cast<time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

void merge(bj::value& target, const bj::value& patch) {
  const bj::object* p = patch.if_object();
  if (p == nullptr) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = bj::object();
  bj::object& t = target.as_object();
  for (const auto& kv : *p) {
    if (kv.value().is_null()) {
      t.erase(kv.key());
    } else {
      merge(t[kv.key()], kv.value());
    }
  }
}

}  // namespace

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto ok = [](char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (!first && (c == '.' || c == '_' || c == '-'));
  };
  for (size_t i = 0; i < name.size(); ++i) {
    if (!ok(name[i], i == 0)) return false;
  }
  return true;
}

std::string slug(std::string_view display_name) {
  std::string out;
  for (char c : display_name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (keep) {
      out += c;
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
    if (out.size() >= 48) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

tl::expected<RouterSpec, Problems> parse_router(std::string_view json, const ModelCheck& models,
                                               std::string_view name) {
  boost::system::error_code ec;
  const bj::value doc = bj::parse(json, ec);
  if (ec) {
    return tl::unexpected(Problems{{"", fmt::format("the body is not valid JSON: {}", ec.message())}});
  }
  Reader r(models);
  RouterSpec spec;
  const bj::object* o = r.object(&doc, "", kRouterKeys);
  if (o == nullptr) return tl::unexpected(std::move(r.problems));

  spec.name = r.string(Reader::field(o, "name"), "name").value_or("");
  if (!name.empty()) {
    if (!spec.name.empty() && spec.name != name) {
      r.add("name", fmt::format("the body names the router '{}' but the URL names '{}'", spec.name, name));
    }
    spec.name = std::string(name);
  }
  if (!spec.name.empty() && !valid_name(spec.name)) {
    r.add("name", fmt::format("'{}' is not a valid router name: use 1 to 64 of a-z, 0-9, '.', '_', '-', starting "
                              "with a letter or digit",
                              spec.name));
  }
  spec.display_name = r.string(Reader::field(o, "displayName"), "displayName").value_or("");
  spec.description = r.string(Reader::field(o, "description"), "description").value_or("");
  spec.stickiness_key = r.string(Reader::field(o, "stickinessKey"), "stickinessKey").value_or("user");
  if (!valid_identifier(spec.stickiness_key)) {
    r.add("stickinessKey", "must be \"user\" or a metadata key such as \"session_id\" (letters, digits, '_')");
  }

  if (const bj::value* routes = Reader::field(o, "routes"); routes != nullptr && !routes->is_null()) {
    if (const bj::array* a = routes->if_array()) {
      for (size_t i = 0; i < a->size(); ++i) {
        spec.routes.push_back(r.route(&(*a)[i], fmt::format("routes[{}]", i), i));
      }
    } else {
      r.add("routes", fmt::format("must be an array of routes, not {}", kind_name(*routes)));
    }
  }
  if (const bj::value* d = Reader::field(o, "defaultRoute")) {
    spec.default_route = r.route_body(d, "defaultRoute", "default");
  } else {
    r.add("defaultRoute", "required: the route for requests that match no condition, such as "
                          "{\"variants\": [{\"variant\": {\"modelId\": \"demo/fast\"}, \"weight\": 100}]}");
  }
  std::set<std::string_view> route_names{"default"};
  for (size_t i = 0; i < spec.routes.size(); ++i) {
    if (!route_names.insert(spec.routes[i].name).second) {
      r.add(fmt::format("routes[{}].name", i),
            spec.routes[i].name == "default"
                ? std::string("'default' is the name of the defaultRoute; choose another")
                : fmt::format("duplicate route name '{}': route names must be unique", spec.routes[i].name));
    }
  }

  if (const bj::value* cmds = Reader::field(o, "slashCommands"); cmds != nullptr && !cmds->is_null()) {
    if (const bj::array* a = cmds->if_array()) {
      std::set<std::string> seen;
      for (size_t i = 0; i < a->size(); ++i) {
        const std::string p = fmt::format("slashCommands[{}]", i);
        SlashCommand sc = r.command(&(*a)[i], p);
        if (!sc.command.empty() && !seen.insert(sc.command).second) {
          r.add(p + ".command", fmt::format("duplicate slash command '{}'", sc.command));
        }
        if (!sc.route.empty() && !route_names.contains(sc.route)) {
          std::string names;
          for (const auto& rt : spec.routes) names += fmt::format("'{}', ", rt.name);
          r.add(p + ".route", fmt::format("no route is named '{}' (routes: {}'default')", sc.route, names));
        }
        spec.slash_commands.push_back(std::move(sc));
      }
    } else {
      r.add("slashCommands", fmt::format("must be an array, not {}", kind_name(*cmds)));
    }
  }
  spec.fallbacks = r.model_list(Reader::field(o, "fallbacks"), "fallbacks");
  // "route:<name>" fallbacks name a route of this router.
  auto check_routes = [&](const std::vector<std::string>& fallbacks, const std::string& path) {
    for (size_t i = 0; i < fallbacks.size(); ++i) {
      if (!fallbacks[i].starts_with(kRouteFallback)) continue;
      const std::string_view route = std::string_view(fallbacks[i]).substr(kRouteFallback.size());
      if (route_names.contains(route)) continue;
      std::string names;
      for (const auto& rt : spec.routes) names += fmt::format("'{}', ", rt.name);
      r.add(fmt::format("{}[{}]", path, i), fmt::format("no route is named '{}' (routes: {}'default')", route, names));
    }
  };
  for (size_t i = 0; i < spec.routes.size(); ++i) {
    check_routes(spec.routes[i].fallbacks, fmt::format("routes[{}].route.fallbacks", i));
  }
  check_routes(spec.default_route.fallbacks, "defaultRoute.fallbacks");
  check_routes(spec.fallbacks, "fallbacks");
  spec.failover = r.failover(Reader::field(o, "failover"), "failover");
  spec.auto_cache = r.boolean(Reader::field(o, "autoCache"), "autoCache");
  spec.log_bodies = r.boolean(Reader::field(o, "logBodies"), "logBodies");
  if (!r.problems.empty()) return tl::unexpected(std::move(r.problems));
  return spec;
}

std::string to_json(const RouterSpec& spec, const RouterMeta* meta) {
  bj::object o;
  o["name"] = spec.name;
  if (!spec.display_name.empty()) o["displayName"] = spec.display_name;
  if (!spec.description.empty()) o["description"] = spec.description;
  o["stickinessKey"] = spec.stickiness_key;
  bj::array routes;
  for (const auto& r : spec.routes) {
    bj::object ro;
    ro["name"] = r.name;
    bj::object cond;
    cond["cel_expression"] = r.condition;
    ro["condition"] = std::move(cond);
    bj::object body;
    put_variants(body, r);
    ro["route"] = std::move(body);
    routes.push_back(std::move(ro));
  }
  o["routes"] = std::move(routes);
  bj::object def;
  put_variants(def, spec.default_route);
  o["defaultRoute"] = std::move(def);
  if (!spec.slash_commands.empty()) {
    bj::array cmds;
    for (const auto& c : spec.slash_commands) {
      bj::object co;
      co["command"] = c.command;
      if (!c.route.empty()) co["route"] = c.route;
      if (!c.model_id.empty()) co["modelId"] = c.model_id;
      cmds.push_back(std::move(co));
    }
    o["slashCommands"] = std::move(cmds);
  }
  if (!spec.fallbacks.empty()) o["fallbacks"] = bj::value_from(spec.fallbacks);
  const Failover& f = spec.failover;
  if (f.max_attempts || f.deadline_ms || f.ttft_timeout_ms || f.hedge || f.resume_streams || f.other_variants) {
    bj::object fo;
    if (f.max_attempts) fo["maxAttempts"] = f.max_attempts;
    if (f.deadline_ms) fo["deadlineMs"] = f.deadline_ms;
    if (f.ttft_timeout_ms) fo["ttftTimeoutMs"] = f.ttft_timeout_ms;
    if (f.hedge) fo["hedge"] = true;
    if (f.resume_streams) fo["resumeStreams"] = true;
    if (f.other_variants) fo["otherVariants"] = true;
    o["failover"] = std::move(fo);
  }
  if (spec.auto_cache) o["autoCache"] = true;
  if (spec.log_bodies) o["logBodies"] = true;
  if (meta != nullptr) {
    o["version"] = meta->version;
    o["etag"] = fmt::format("\"{}\"", meta->version);
    o["createTime"] = rfc3339(meta->create_time_ms);
    o["updateTime"] = rfc3339(meta->update_time_ms);
  }
  return bj::serialize(o);
}

tl::expected<std::string, std::string> merge_patch(std::string_view document, std::string_view patch) {
  boost::system::error_code ec;
  bj::value doc = bj::parse(document, ec);
  if (ec) return tl::unexpected(fmt::format("the stored document is not valid JSON: {}", ec.message()));
  const bj::value p = bj::parse(patch, ec);
  if (ec) return tl::unexpected(fmt::format("the patch is not valid JSON: {}", ec.message()));
  merge(doc, p);
  return bj::serialize(doc);
}

}  // namespace sy::routing
