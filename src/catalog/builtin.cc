// The shipped catalog: models.json, compiled in as a string, parsed once.
#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "catalog/catalog.h"

extern const char kBuiltinModelsJson[];

namespace sy::catalog {
namespace {

namespace bj = boost::json;

double number(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  return v != nullptr && v->is_number() ? v->to_number<double>() : 0;
}

uint8_t capabilities(const bj::object& o) {
  uint8_t bits = 0;
  const bj::value* caps = o.if_contains("capabilities");
  if (caps == nullptr || !caps->is_array()) return bits;
  for (const auto& c : caps->get_array()) {
    if (!c.is_string()) continue;
    const std::string_view name = c.get_string();
    if (name == "tools") bits |= kTools;
    if (name == "vision") bits |= kVision;
    if (name == "audio") bits |= kAudio;
    if (name == "reasoning") bits |= kReasoning;
    if (name == "caching") bits |= kCaching;
  }
  return bits;
}

// Every shipped model (aliases expanded), by provider, parsed on first use.
const std::map<std::string, std::vector<Model>, std::less<>>& shipped() {
  static const auto models = [] {
    std::map<std::string, std::vector<Model>, std::less<>> out;
    boost::system::error_code ec;
    const bj::value doc = bj::parse(kBuiltinModelsJson, ec);
    if (ec || !doc.is_object() || !doc.get_object().contains("models")) {
      // The file is generated and tested; a broken one is a build defect.
      std::fprintf(stderr, "switchyard: the built-in catalog does not parse: %s\n", ec.message().c_str());
      std::abort();
    }
    for (const auto& v : doc.at("models").get_array()) {
      const bj::object& o = v.get_object();
      Model m;
      m.provider = std::string(o.at("provider").get_string());
      m.upstream_id = std::string(o.at("upstream").get_string());
      m.id = m.provider + "/" + m.upstream_id;
      m.input_per_mtok = number(o, "input");
      m.output_per_mtok = number(o, "output");
      m.cache_read_per_mtok = number(o, "cache_read");
      m.cache_write_per_mtok = number(o, "cache_write");
      m.context_tokens = static_cast<int64_t>(number(o, "context"));
      m.max_output_tokens = static_cast<int64_t>(number(o, "max_output"));
      m.capabilities = capabilities(o);
      auto& list = out[m.provider];
      list.push_back(m);
      if (const bj::value* aliases = o.if_contains("aliases"); aliases != nullptr && aliases->is_array()) {
        for (const auto& a : aliases->get_array()) {
          Model alias = m;
          alias.upstream_id = std::string(a.get_string());
          alias.id = m.provider + "/" + alias.upstream_id;
          alias.alias = true;
          list.push_back(std::move(alias));
        }
      }
    }
    return out;
  }();
  return models;
}

}  // namespace

std::vector<Model> builtin_models(std::string_view provider) {
  const auto& all = shipped();
  auto it = all.find(provider);
  return it == all.end() ? std::vector<Model>() : it->second;
}

std::vector<std::pair<std::string, size_t>> builtin_providers() {
  std::vector<std::pair<std::string, size_t>> out;
  for (const auto& [name, models] : shipped()) {
    out.emplace_back(name, static_cast<size_t>(std::count_if(models.begin(), models.end(), [](const Model& m) { return !m.alias; })));
  }
  return out;
}

}  // namespace sy::catalog
