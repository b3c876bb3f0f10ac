#include "config/config.h"
#include "config/presets.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace sy::config {

std::string yaml_node_to_json(const YAML::Node& node);  // yaml_json.cc

namespace {

// ${VAR} and ${VAR:-default}. `missing` collects variables that were unset without a default.
std::string expand(std::string_view s, const EnvLookup& env, std::vector<std::string>& missing) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
      const size_t close = s.find('}', i);
      if (close != std::string_view::npos) {
        std::string_view inner = s.substr(i + 2, close - i - 2);
        std::string_view fallback;
        bool has_fallback = false;
        if (const size_t d = inner.find(":-"); d != std::string_view::npos) {
          fallback = inner.substr(d + 2);
          inner = inner.substr(0, d);
          has_fallback = true;
        }
        auto v = env(std::string(inner));
        if (v && !v->empty()) out += *v;
        else if (has_fallback) out += fallback;
        else missing.emplace_back(inner);
        i = close + 1;
        continue;
      }
    }
    out += s[i++];
  }
  return out;
}

class Reader {
 public:
  Reader(std::string name, const EnvLookup& env) : name_(std::move(name)), env_(env) {}

  Result<Config> read(const YAML::Node& root) {
    Config c;
    c.source = name_;
    if (!root || root.IsNull()) return c;
    if (!root.IsMap()) return error("", "the file must be a mapping of settings");
    if (auto r = only_keys(root, "", {"listen", "workers", "database", "demo", "limits", "upstream", "providers", "routers", "admin_key", "api_keys", "circuit_breaker", "log", "export", "tts"}); !r) return tl::unexpected(r.error());
    if (root["listen"]) {
      auto r = parse_listen(str(root["listen"]), c);
      if (!r) return error("listen", r.error().message);
    }
    if (root["workers"]) {
      auto n = integer(root["workers"], "workers", 0, 1024);
      if (!n) return tl::unexpected(n.error());
      c.workers = static_cast<int>(*n);
    }
    if (root["database"]) c.database = str(root["database"]);
    if (root["demo"]) c.demo = root["demo"].as<bool>(true);
    if (auto r = read_limits(root["limits"], c); !r) return tl::unexpected(r.error());
    if (auto r = read_upstream(root["upstream"], c); !r) return tl::unexpected(r.error());
    if (auto r = read_circuit_breaker(root["circuit_breaker"], c); !r) return tl::unexpected(r.error());
    if (auto r = read_log(root["log"], c); !r) return tl::unexpected(r.error());
    if (const auto& t = root["tts"]; t && !t.IsNull()) {
      if (!t.IsMap()) return error("tts", "must be a mapping: {engines: [...]} (see docs/audio.md)");
      c.tts_json = yaml_node_to_json(t);
    }
    if (const auto& e = root["export"]; e && !e.IsNull()) {
      if (!e.IsMap()) return error("export", "must be a mapping of exporters: mixpanel, bigquery, jsonl (see docs/export.md)");
      c.export_json = yaml_node_to_json(e);
    }
    if (root["admin_key"]) c.admin_key = str(root["admin_key"]);
    if (const auto& keys = root["api_keys"]) {
      if (!keys.IsSequence()) return error("api_keys", "must be a list of keys (use ${ENV} to keep them out of the file)");
      for (size_t i = 0; i < keys.size(); ++i) {
        std::string k = str(keys[i]);
        if (!k.empty()) c.api_keys.push_back(std::move(k));
      }
    }
    if (const auto& rs = root["routers"]) {
      if (!rs.IsMap()) return error("routers", "must be a mapping of router name to router (displayName, routes, defaultRoute)");
      for (const auto& kv : rs) {
        const std::string name = kv.first.as<std::string>();
        if (!kv.second.IsMap()) return error(fmt::format("routers.{}", name), "must be a router: a mapping with routes and defaultRoute");
        c.routers.push_back({name, yaml_node_to_json(kv.second)});
      }
    }
    if (const auto& ps = root["providers"]) {
      if (!ps.IsSequence()) return error("providers", "must be a list of providers");
      for (size_t i = 0; i < ps.size(); ++i) {
        auto p = read_provider(ps[i], fmt::format("providers[{}]", i), c);
        if (!p) return tl::unexpected(p.error());
      }
    }
    return c;
  }

  static Result<bool> parse_listen(std::string_view text, Config& c) {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail(ErrorCode::kInvalidRequest, fmt::format("'{}' must be host:port, e.g. 127.0.0.1:8080", text));
    unsigned port = 0;
    const std::string_view p = text.substr(colon + 1);
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc() || ptr != p.data() + p.size() || port > 65535) {
      return fail(ErrorCode::kInvalidRequest, fmt::format("'{}' has an invalid port", text));
    }
    std::string_view host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    c.host = host.empty() ? "0.0.0.0" : std::string(host);
    c.port = static_cast<uint16_t>(port);
    return true;
  }

 private:
  tl::unexpected<Error> error(std::string_view where, std::string_view what) const {
    return fail(ErrorCode::kInvalidRequest, where.empty() ? fmt::format("{}: {}", name_, what) : fmt::format("{}: {}: {}", name_, where, what));
  }

  std::string str(const YAML::Node& n) {
    std::vector<std::string> missing;
    std::string v = expand(n.as<std::string>(""), env_, missing);
    for (auto& m : missing) missing_.insert(m);
    return v;
  }

  Result<long> integer(const YAML::Node& n, std::string_view where, long lo, long hi) {
    const std::string s = str(n);
    long v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || v < lo || v > hi) {
      return error(where, fmt::format("'{}' must be a whole number from {} to {}", s, lo, hi));
    }
    return v;
  }

  Result<bool> only_keys(const YAML::Node& map, std::string_view where, std::initializer_list<std::string_view> keys) {
    for (const auto& kv : map) {
      const std::string k = kv.first.as<std::string>("");
      bool known = false;
      for (auto key : keys) known = known || key == k;
      if (!known) {
        std::string list;
        for (auto key : keys) list += fmt::format("{}{}", list.empty() ? "" : ", ", key);
        return error(where, fmt::format("unknown key '{}' (known keys: {})", k, list));
      }
    }
    return true;
  }

  Result<bool> read_limits(const YAML::Node& n, Config& c) {
    if (!n) return true;
    if (auto r = only_keys(n, "limits", {"header_bytes", "body_bytes", "read_timeout_ms", "idle_timeout_ms", "drain_timeout_ms"}); !r) return r;
    auto& l = c.limits;
    struct Size { const char* key; size_t* out; long lo; long hi; };
    for (Size s : {Size{"header_bytes", &l.header_bytes, 1024, 1 << 20}, Size{"body_bytes", &l.body_bytes, 1024, 1L << 32}}) {
      if (n[s.key]) {
        auto v = integer(n[s.key], fmt::format("limits.{}", s.key), s.lo, s.hi);
        if (!v) return tl::unexpected(v.error());
        *s.out = static_cast<size_t>(*v);
      }
    }
    struct Ms { const char* key; std::chrono::milliseconds* out; };
    for (Ms m : {Ms{"read_timeout_ms", &l.read_timeout}, Ms{"idle_timeout_ms", &l.idle_timeout}, Ms{"drain_timeout_ms", &l.drain_timeout}}) {
      if (n[m.key]) {
        auto v = integer(n[m.key], fmt::format("limits.{}", m.key), 1, 86'400'000);
        if (!v) return tl::unexpected(v.error());
        *m.out = std::chrono::milliseconds(*v);
      }
    }
    return true;
  }

  Result<bool> read_circuit_breaker(const YAML::Node& n, Config& c) {
    if (!n) return true;
    if (auto r = only_keys(n, "circuit_breaker", {"failures", "error_rate", "min_requests", "window_ms", "cooldown_ms"}); !r) return r;
    auto& b = c.circuit_breaker;
    if (n["failures"]) {
      auto v = integer(n["failures"], "circuit_breaker.failures", 1, 1000);
      if (!v) return tl::unexpected(v.error());
      b.failures = static_cast<int>(*v);
    }
    if (n["min_requests"]) {
      auto v = integer(n["min_requests"], "circuit_breaker.min_requests", 1, 1'000'000);
      if (!v) return tl::unexpected(v.error());
      b.min_requests = static_cast<int>(*v);
    }
    if (n["error_rate"]) {
      const double rate = n["error_rate"].as<double>(-1);
      if (rate <= 0 || rate > 1) return error("circuit_breaker.error_rate", "must be a fraction above 0 and at most 1, such as 0.5");
      b.error_rate = rate;
    }
    struct Ms { const char* key; std::chrono::milliseconds* out; };
    for (Ms m : {Ms{"window_ms", &b.window}, Ms{"cooldown_ms", &b.cooldown}}) {
      if (n[m.key]) {
        auto v = integer(n[m.key], fmt::format("circuit_breaker.{}", m.key), 1, 86'400'000);
        if (!v) return tl::unexpected(v.error());
        *m.out = std::chrono::milliseconds(*v);
      }
    }
    return true;
  }

  Result<bool> read_log(const YAML::Node& n, Config& c) {
    if (!n) return true;
    if (!n.IsMap()) return error("log", "must be a mapping: {enabled, database, retention_days, max_mb, metadata, bodies, queue, idle_priority}");
    if (auto r = only_keys(n, "log", {"enabled", "database", "retention_days", "max_mb", "metadata", "bodies", "queue", "idle_priority"}); !r) return r;
    auto& l = c.log;
    if (n["enabled"]) l.enabled = n["enabled"].as<bool>(true);
    if (n["database"]) l.database = str(n["database"]);
    if (n["bodies"]) l.bodies = n["bodies"].as<bool>(false);
    if (n["idle_priority"]) l.idle_priority = n["idle_priority"].as<bool>(true);
    if (n["retention_days"]) {
      auto v = integer(n["retention_days"], "log.retention_days", 0, 36'500);
      if (!v) return tl::unexpected(v.error());
      l.retention_days = *v;
    }
    if (n["max_mb"]) {
      auto v = integer(n["max_mb"], "log.max_mb", 0, 10'000'000);
      if (!v) return tl::unexpected(v.error());
      l.max_mb = *v;
    }
    if (n["queue"]) {
      auto v = integer(n["queue"], "log.queue", 16, 1'048'576);
      if (!v) return tl::unexpected(v.error());
      l.queue = static_cast<size_t>(*v);
    }
    if (const auto& keys = n["metadata"]) {
      if (!keys.IsSequence()) return error("log.metadata", "must be a list of metadata keys to keep, such as [plan, language]");
      for (size_t i = 0; i < keys.size(); ++i) l.metadata.push_back(str(keys[i]));
    }
    return true;
  }

  Result<bool> read_upstream(const YAML::Node& n, Config& c) {
    if (!n) return true;
    if (auto r = only_keys(n, "upstream", {"connect_timeout_ms", "read_timeout_ms", "max_idle_per_origin", "verify_tls", "ca_file"}); !r) return r;
    auto& u = c.upstream;
    if (n["connect_timeout_ms"]) {
      auto v = integer(n["connect_timeout_ms"], "upstream.connect_timeout_ms", 1, 600'000);
      if (!v) return tl::unexpected(v.error());
      u.connect_timeout = std::chrono::milliseconds(*v);
    }
    if (n["read_timeout_ms"]) {
      auto v = integer(n["read_timeout_ms"], "upstream.read_timeout_ms", 1, 3'600'000);
      if (!v) return tl::unexpected(v.error());
      u.read_timeout = std::chrono::milliseconds(*v);
    }
    if (n["max_idle_per_origin"]) {
      auto v = integer(n["max_idle_per_origin"], "upstream.max_idle_per_origin", 0, 100'000);
      if (!v) return tl::unexpected(v.error());
      u.max_idle_per_origin = static_cast<size_t>(*v);
    }
    if (n["verify_tls"]) u.verify_tls = n["verify_tls"].as<bool>(true);
    if (n["ca_file"]) u.ca_file = str(n["ca_file"]);
    return true;
  }

  Result<bool> read_provider(const YAML::Node& n, const std::string& where, Config& c) {
    if (!n.IsMap()) return error(where, "must be a mapping with name, kind, base_url, api_key, models");
    if (auto r = only_keys(n, where, {"name", "kind", "base_url", "api_key", "models"}); !r) return r;
    ProviderConfig p;
    p.name = str(n["name"]);
    if (p.name.empty()) return error(where, "needs a name (models are addressed as <name>/<model>)");
    if (p.name.find('/') != std::string::npos) return error(where, fmt::format("name '{}' must not contain '/'", p.name));
    for (const auto& other : c.providers) {
      if (other.name == p.name) return error(where, fmt::format("provider name '{}' is used twice", p.name));
    }
    if (n["kind"]) p.kind = str(n["kind"]);
    const Preset* known = preset(p.kind);
    if (known == nullptr) {
      std::string kinds;
      for (const auto& k : presets()) kinds += fmt::format("{}{}", kinds.empty() ? "" : ", ", k.name);
      return error(where, fmt::format("kind '{}' is not supported (supported: {})", p.kind, kinds));
    }
    p.base_url = str(n["base_url"]);
    // A preset's own URL; kind "openai" is any endpoint of that protocol, so only a provider
    // named "openai" defaults to OpenAI's.
    if (p.base_url.empty() && (p.kind != "openai" || p.name == "openai")) p.base_url = std::string(known->base_url);
    if (p.base_url.empty()) return error(where, "needs a base_url, e.g. https://api.openai.com/v1");
    if (auto u = http::Url::parse(p.base_url); !u) return error(where, u.error().message);
    missing_.clear();
    p.api_key = str(n["api_key"]);
    if (!missing_.empty()) {
      c.notes.push_back(fmt::format("provider '{}' is off: environment variable {} is not set", p.name, *missing_.begin()));
      return true;
    }
    const auto& models = n["models"];
    if (models && models.IsScalar() && models.as<std::string>("") == "*") {
      p.any_model = true;
    } else if (models && models.IsSequence()) {
      for (size_t i = 0; i < models.size(); ++i) {
        ModelConfig m;
        const auto& mn = models[i];
        if (mn.IsScalar()) {
          m.id = str(mn);
        } else if (mn.IsMap()) {
          if (auto r = only_keys(mn, fmt::format("{}.models[{}]", where, i), {"id", "input_per_mtok", "output_per_mtok"}); !r) return r;
          m.id = str(mn["id"]);
          m.input_per_mtok = mn["input_per_mtok"].as<double>(0);
          m.output_per_mtok = mn["output_per_mtok"].as<double>(0);
        }
        if (m.id.empty()) return error(fmt::format("{}.models[{}]", where, i), "needs an id");
        if (m.id == "*") p.any_model = true;
        else p.models.push_back(std::move(m));
      }
    } else if (models) {
      return error(where, "models must be a list of model ids, or \"*\" to accept any");
    }
    // No models: the shipped catalog's models of a provider of that name (checked when the
    // configuration is built).
    c.providers.push_back(std::move(p));
    return true;
  }

  std::string name_;
  const EnvLookup& env_;
  std::set<std::string> missing_;
};

void apply_env(Config& c, const EnvLookup& env) {
  if (auto v = env("SWITCHYARD_LISTEN")) {
    if (!Reader::parse_listen(*v, c)) c.notes.push_back(fmt::format("SWITCHYARD_LISTEN='{}' ignored: not host:port", *v));
  }
  if (auto v = env("SWITCHYARD_WORKERS")) c.workers = std::atoi(v->c_str());
  if (auto v = env("SWITCHYARD_DATABASE")) c.database = *v;
  if (auto v = env("SWITCHYARD_DEMO")) c.demo = *v != "0" && *v != "false";
  if (auto v = env("SWITCHYARD_ADMIN_KEY"); v && !v->empty()) c.admin_key = *v;
  if (auto v = env("SWITCHYARD_API_KEYS"); v && !v->empty()) {
    c.api_keys.clear();
    for (size_t start = 0; start <= v->size();) {
      size_t comma = v->find(',', start);
      if (comma == std::string::npos) comma = v->size();
      std::string k = v->substr(start, comma - start);
      if (!k.empty()) c.api_keys.push_back(std::move(k));
      start = comma + 1;
    }
  }
  // A key in the environment turns on the provider it belongs to, unless the file declares it:
  // OPENAI_API_KEY, GROQ_API_KEY, ... (see presets.h), with <NAME>_BASE_URL to move it. The
  // provider takes the catalog's name for it: GEMINI_API_KEY turns on "google".
  auto declared = [&](std::string_view name) {
    for (const auto& p : c.providers) {
      if (p.name == name) return true;
    }
    return false;
  };
  for (const Preset& preset : presets()) {
    if (preset.key_env.empty() || declared(preset.catalog_name())) continue;
    auto key = env(std::string(preset.key_env));
    if (!key || key->empty()) continue;
    ProviderConfig p;
    p.name = std::string(preset.catalog_name());
    p.kind = std::string(preset.name);
    std::string upper(preset.name);
    for (char& ch : upper) ch = static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch);
    p.base_url = env(upper + "_BASE_URL").value_or(std::string(preset.base_url));
    p.api_key = *key;
    p.any_model = true;  // the shipped catalog lists and prices the provider's models
    c.providers.push_back(std::move(p));
  }
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): read at start-up
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

const std::vector<ModelConfig>& demo_models() {
  static const std::vector<ModelConfig> kModels{
      {"fast", 0.10, 0.40}, {"smart", 3.00, 15.00}, {"cheap", 0.05, 0.20}};
  return kModels;
}

Result<Config> parse(const std::string& yaml_text, const std::string& name, const EnvLookup& env) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::kInvalidRequest, fmt::format("{}: line {}, column {}: {}", name, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  try {
    auto c = Reader(name, env).read(root);
    if (c) apply_env(*c, env);
    return c;
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::kInvalidRequest, fmt::format("{}: line {}: {}", name, e.mark.line + 1, e.msg));
  }
}

Result<Config> load(const LoadOptions& options, const EnvLookup& env) {
  std::optional<std::string> path = options.path;
  if (!path) path = env("SWITCHYARD_CONFIG");
  if (!path && std::filesystem::exists("switchyard.yaml")) path = "switchyard.yaml";
  if (!path) return parse("", "built-in defaults", env);
  std::ifstream in(*path);
  if (!in) return fail(ErrorCode::kNotFound, fmt::format("cannot read config file '{}'", *path));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), *path, env);
}

}  // namespace sy::config
