#include "gateway/snapshot.h"

#include <fmt/format.h>

#include "core/json_scan.h"

namespace sy::gateway {

Result<std::shared_ptr<const Snapshot>> Snapshot::build(const config::Config& config,
                                                        std::string demo_base_url) {
  auto snap = std::make_shared<Snapshot>();
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
    for (const auto& m : pc.models) {
      snap->catalog_.add({.id = pc.name + "/" + m.id, .provider = pc.name, .upstream_id = m.id,
                          .input_per_mtok = m.input_per_mtok, .output_per_mtok = m.output_per_mtok});
    }
    if (pc.any_model) snap->wildcard_.push_back(pc.name);
    snap->providers_.push_back(std::move(*p));
  }
  std::string& j = snap->models_json_;
  j = R"({"object":"list","data":[)";
  bool first = true;
  for (const auto& m : snap->catalog_.models()) {
    if (!first) j += ',';
    first = false;
    j += R"({"id":)";
    json::append_quoted(j, m.id);
    j += R"(,"object":"model","created":0,"owned_by":)";
    json::append_quoted(j, m.provider);
    fmt::format_to(std::back_inserter(j), R"(,"pricing":{{"input_per_mtok":{},"output_per_mtok":{}}}}})", m.input_per_mtok, m.output_per_mtok);
  }
  j += "]}";
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

const providers::Provider* Snapshot::provider(std::string_view name) const {
  for (const auto& p : providers_) {
    if (p->name() == name) return p.get();
  }
  return nullptr;
}

Result<Target> Snapshot::resolve(std::string_view model, std::string& scratch_id,
                                 std::string& scratch_quoted) const {
  if (const catalog::Model* m = catalog_.find(model)) {
    return Target{provider(m->provider), m->id, m->upstream_quoted, m};
  }
  const size_t slash = model.find('/');
  if (slash != std::string_view::npos && slash + 1 < model.size()) {
    const std::string_view pname = model.substr(0, slash);
    for (const auto& w : wildcard_) {
      if (w == pname) {
        scratch_id.assign(model);
        scratch_quoted.clear();
        json::append_quoted(scratch_quoted, model.substr(slash + 1));
        return Target{provider(pname), scratch_id, scratch_quoted, nullptr};
      }
    }
  }
  std::string hint;
  if (auto s = catalog_.suggest(model); !s.empty()) {
    hint = fmt::format(" Did you mean '{}'?", fmt::join(s, "', '"));
  }
  return fail(ErrorCode::kModelNotFound,
              fmt::format("The model '{}' does not exist on this gateway.{} GET /v1/models lists the "
                          "models it serves; use '<provider>/<model>'.",
                          model, hint),
              "model");
}

}  // namespace sy::gateway
