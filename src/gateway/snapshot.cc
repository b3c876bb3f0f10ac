#include "gateway/snapshot.h"

#include <ctime>

#include <algorithm>

#include <fmt/format.h>

#include "config/presets.h"
#include "core/json_scan.h"

namespace sy::gateway {

Result<std::shared_ptr<const Snapshot>> Snapshot::build(const config::Config& config,
                                                        std::string demo_base_url) {
  auto backends = std::make_shared<Backends>();
  std::vector<config::ProviderConfig> all = config.providers;
  if (config.demo && !demo_base_url.empty()) {
    config::ProviderConfig demo;
    demo.name = "demo";
    demo.kind = "openai";
    demo.base_url = std::move(demo_base_url);
    demo.models = config::demo_models();
    all.insert(all.begin(), std::move(demo));
  }
  for (const auto& pc : all) {
    auto p = providers::make(pc);
    if (!p) return tl::unexpected(p.error());
    // The shipped catalog's models of a provider of this name ("openai", "anthropic", ...), else
    // of its preset kind (a "groq" provider named otherwise; kind "openai" is the protocol, any
    // endpoint; kind "gemini" is "google" in the catalog), under this provider's name: their
    // prices and limits, and with no model list (or "*") all of them.
    std::vector<catalog::Model> shipped = catalog::builtin_models(pc.name);
    if (shipped.empty() && pc.kind != "openai") {
      const config::Preset* preset = config::preset(pc.kind);
      shipped = catalog::builtin_models(preset != nullptr ? preset->catalog_name() : std::string_view(pc.kind));
      for (auto& m : shipped) {
        m.provider = pc.name;
        m.id = pc.name + "/" + m.upstream_id;
      }
    }
    if (pc.models.empty() && !pc.any_model && shipped.empty()) {
      std::string known;
      for (const auto& [name, n] : catalog::builtin_providers()) known += fmt::format("{}{}", known.empty() ? "" : ", ", name);
      return fail(ErrorCode::kInvalidRequest,
                  fmt::format("provider '{}' needs models: a list of model ids, or \"*\" to accept any (the built-in "
                              "catalog has models for providers named {})",
                              pc.name, known));
    }
    for (const auto& m : pc.models) {
      catalog::Model entry{.id = pc.name + "/" + m.id, .provider = pc.name, .upstream_id = m.id,
                           .input_per_mtok = m.input_per_mtok, .output_per_mtok = m.output_per_mtok};
      auto known = std::find_if(shipped.begin(), shipped.end(), [&](const catalog::Model& s) { return s.upstream_id == m.id; });
      if (known != shipped.end()) {
        const double in = entry.input_per_mtok;
        const double out = entry.output_per_mtok;
        entry = *known;  // the catalog's limits, capabilities and cache prices
        entry.alias = false;
        if (in > 0 || out > 0) {  // prices in the file win
          entry.input_per_mtok = in;
          entry.output_per_mtok = out;
        }
      }
      backends->catalog.add(std::move(entry));
    }
    if (pc.models.empty() || pc.any_model) {
      for (const auto& m : shipped) backends->catalog.add(m);
    }
    if (pc.any_model) backends->wildcard.push_back(pc.name);
    backends->providers.push_back(std::move(*p));
  }
  for (const auto& key : config.log.metadata) {
    std::string member;
    json::append_quoted(member, key);
    member += ':';
    backends->log_metadata.push_back({key, fmt::format("x-switchyard-meta-{}", key), std::move(member)});
  }
  for (const auto& k : backends->log_metadata) backends->log_metadata_names.push_back(k.key);
  backends->log_bodies = config.log.bodies;
  auto snap = std::make_shared<Snapshot>();
  snap->backends_ = std::move(backends);
  snap->routers_ = std::make_shared<const routing::RouterSet>();
  snap->build_models_json();
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

std::shared_ptr<const Snapshot> Snapshot::with_routers(std::shared_ptr<const routing::RouterSet> routers) const {
  auto snap = std::make_shared<Snapshot>();
  snap->backends_ = backends_;
  snap->routers_ = std::move(routers);
  snap->build_models_json();
  return snap;
}

void Snapshot::build_models_json() {
  std::string& j = models_json_;
  j = R"({"object":"list","data":[)";
  bool first = true;
  for (const auto& m : backends_->catalog.models()) {
    if (m.alias) continue;
    if (!first) j += ',';
    first = false;
    j += R"({"id":)";
    json::append_quoted(j, m.id);
    j += R"(,"object":"model","created":0,"owned_by":)";
    json::append_quoted(j, m.provider);
    fmt::format_to(std::back_inserter(j), R"(,"pricing":{{"input_per_mtok":{},"output_per_mtok":{})", m.input_per_mtok,
                   m.output_per_mtok);
    if (m.cache_read_per_mtok > 0) fmt::format_to(std::back_inserter(j), R"(,"cache_read_per_mtok":{})", m.cache_read_per_mtok);
    if (m.cache_write_per_mtok > 0) fmt::format_to(std::back_inserter(j), R"(,"cache_write_per_mtok":{})", m.cache_write_per_mtok);
    j += '}';
    if (m.context_tokens > 0) fmt::format_to(std::back_inserter(j), R"(,"context_window":{})", m.context_tokens);
    if (m.max_output_tokens > 0) fmt::format_to(std::back_inserter(j), R"(,"max_output_tokens":{})", m.max_output_tokens);
    j += '}';
  }
  for (const auto& r : routers_->all()) {
    if (!first) j += ',';
    first = false;
    j += R"({"id":)";
    json::append_quoted(j, "switchyard/" + r->name());
    j += R"(,"object":"model","created":)";
    j += std::to_string(r->meta().create_time_ms / 1000);
    j += R"(,"owned_by":"switchyard","router":{"version":)";
    j += std::to_string(r->meta().version);
    if (!r->spec().display_name.empty()) {
      j += R"(,"displayName":)";
      json::append_quoted(j, r->spec().display_name);
    }
    j += "}}";
  }
  j += "]}";

  // The same list in Anthropic's shape (GET /anthropic/v1/models): routers first, as they are
  // what a coding agent should pick.
  std::string& a = anthropic_models_json_;
  a = R"({"data":[)";
  std::string first_id, last_id;
  auto add = [&](std::string_view id, std::string_view display, int64_t created_s) {
    if (first_id.empty()) {
      first_id = id;
    } else {
      a += ',';
    }
    last_id = id;
    a += R"({"type":"model","id":)";
    json::append_quoted(a, id);
    a += R"(,"display_name":)";
    json::append_quoted(a, display);
    const std::time_t t = created_s;
    std::tm tm{};
    gmtime_r(&t, &tm);
    fmt::format_to(std::back_inserter(a), R"(,"created_at":"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z"}})", tm.tm_year + 1900,
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  };
  for (const auto& r : routers_->all()) {
    const std::string id = "switchyard/" + r->name();
    add(id, r->spec().display_name.empty() ? id : r->spec().display_name, r->meta().create_time_ms / 1000);
  }
  for (const auto& m : backends_->catalog.models()) {
    if (!m.alias) add(m.id, m.id, 0);
  }
  a += R"(],"has_more":false,"first_id":)";
  if (first_id.empty()) {
    a += "null,\"last_id\":null}";
  } else {
    json::append_quoted(a, first_id);
    a += R"(,"last_id":)";
    json::append_quoted(a, last_id);
    a += '}';
  }
}

const providers::Provider* Snapshot::provider(std::string_view name) const {
  for (const auto& p : backends_->providers) {
    if (p->name() == name) return p.get();
  }
  return nullptr;
}

Result<Target> Snapshot::resolve(std::string_view model, std::string& scratch_id,
                                 std::string& scratch_quoted) const {
  if (const catalog::Model* m = backends_->catalog.find(model)) {
    return Target{provider(m->provider), m->id, m->upstream_quoted, m};
  }
  const size_t slash = model.find('/');
  if (slash != std::string_view::npos && slash + 1 < model.size()) {
    const std::string_view pname = model.substr(0, slash);
    for (const auto& w : backends_->wildcard) {
      if (w == pname) {
        scratch_id.assign(model);
        scratch_quoted.clear();
        json::append_quoted(scratch_quoted, model.substr(slash + 1));
        return Target{provider(pname), scratch_id, scratch_quoted, nullptr};
      }
    }
  }
  std::string hint;
  if (auto s = backends_->catalog.suggest(model); !s.empty()) {
    hint = fmt::format(" Did you mean '{}'?", fmt::join(s, "', '"));
  }
  return fail(ErrorCode::kModelNotFound,
              fmt::format("The model '{}' does not exist on this gateway.{} GET /v1/models lists the "
                          "models it serves; use '<provider>/<model>'.",
                          model, hint),
              "model");
}

}  // namespace sy::gateway

namespace sy::gateway {

Result<const routing::CompiledRouter*> Snapshot::router_for(std::string_view model) const {
  constexpr std::string_view kPrefix = "switchyard/";
  if (model.starts_with(kPrefix)) {
    const std::string_view name = model.substr(kPrefix.size());
    if (const auto* r = routers_->find(name)) return r;
    std::string names;
    for (const auto& r : routers_->all()) names += fmt::format("{}'switchyard/{}'", names.empty() ? "" : ", ", r->name());
    return fail(ErrorCode::kModelNotFound,
                fmt::format("No router is named '{}'. {}", name,
                            names.empty() ? std::string("This gateway has no routers yet: create one with POST /router/v1/routers.")
                                          : fmt::format("Routers: {}.", names)),
                "model");
  }
  if (model.find('/') != std::string_view::npos) return nullptr;
  const auto* r = routers_->find(model);
  if (r == nullptr) return nullptr;
  if (const catalog::Model* m = backends_->catalog.find(model)) {
    return fail(ErrorCode::kInvalidRequest,
                fmt::format("'{}' names both a router and the model '{}': say 'switchyard/{}' for the router or '{}' "
                            "for the model.",
                            model, m->id, model, m->id),
                "model");
  }
  return r;
}

std::optional<std::string> Snapshot::check_model(std::string_view model_id) const {
  std::string a, b;
  if (model_id.find('/') == std::string_view::npos) {
    return fmt::format("'{}' is not a model id: use '<provider>/<model>', such as 'demo/fast' (GET /v1/models lists them)",
                       model_id);
  }
  if (auto t = resolve(model_id, a, b); !t) return t.error().message;
  return std::nullopt;
}

}  // namespace sy::gateway
