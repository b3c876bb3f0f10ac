#include "speech/from_config.h"

#include <boost/json.hpp>
#include <fmt/format.h>

namespace sy::speech {
namespace {

namespace bj = boost::json;

Result<void> bad(std::string_view path, std::string_view what) {
  return fail(ErrorCode::kInvalidRequest, fmt::format("{}: {}", path, what), std::string(path));
}

Result<void> read_string(const bj::object& o, std::string_view key, std::string_view path, std::string& out) {
  const bj::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return {};
  if (!v->is_string()) return bad(fmt::format("{}.{}", path, key), "must be a string");
  out = std::string(v->as_string());
  return {};
}

Result<EngineConfig> read_engine(const bj::value& v, const std::string& path) {
  if (!v.is_object()) return tl::unexpected(bad(path, "must be a mapping {name, kind, ...}").error());
  const bj::object& o = v.as_object();
  static constexpr std::string_view kKeys[] = {"name", "kind", "base_url", "api_key", "model", "voices", "usd_per_million_chars",
                                               "first_audio_timeout_ms"};
  for (const auto& kv : o) {
    if (std::find(std::begin(kKeys), std::end(kKeys), std::string_view(kv.key())) == std::end(kKeys)) {
      return tl::unexpected(bad(fmt::format("{}.{}", path, std::string_view(kv.key())),
                                "is not a setting; use name, kind, base_url, api_key, model, voices, usd_per_million_chars, "
                                "first_audio_timeout_ms")
                                .error());
    }
  }
  EngineConfig e;
  for (auto [key, out] : {std::pair{"name", &e.name}, {"kind", &e.kind}, {"base_url", &e.base_url}, {"api_key", &e.api_key},
                          {"model", &e.model}}) {
    if (auto r = read_string(o, key, path, *out); !r) return tl::unexpected(r.error());
  }
  if (e.kind.empty()) return tl::unexpected(bad(path + ".kind", "is required: espeak, openai or elevenlabs").error());
  if (e.name.empty()) e.name = e.kind;
  if (const bj::value* voices = o.if_contains("voices"); voices != nullptr && !voices->is_null()) {
    if (!voices->is_object()) return tl::unexpected(bad(path + ".voices", "must be a mapping of voice names to the engine's voices").error());
    for (const auto& kv : voices->as_object()) {
      if (!kv.value().is_string()) {
        return tl::unexpected(bad(fmt::format("{}.voices.{}", path, std::string_view(kv.key())), "must be a string").error());
      }
      e.voices.emplace_back(std::string(kv.key()), std::string(kv.value().as_string()));
    }
  }
  if (const bj::value* price = o.if_contains("usd_per_million_chars"); price != nullptr && !price->is_null()) {
    if (!price->is_number() || price->to_number<double>() < 0) {
      return tl::unexpected(bad(path + ".usd_per_million_chars", "must be a number ≥ 0").error());
    }
    e.usd_per_million_chars = price->to_number<double>();
  }
  if (const bj::value* t = o.if_contains("first_audio_timeout_ms"); t != nullptr && !t->is_null()) {
    if (!t->is_int64() || t->as_int64() <= 0) {
      return tl::unexpected(bad(path + ".first_audio_timeout_ms", "must be a whole number of milliseconds > 0").error());
    }
    e.first_audio_timeout_ms = t->as_int64();
  }
  return e;
}

}  // namespace

Result<std::vector<EngineConfig>> engines_from_config(std::string_view tts_json) {
  std::vector<EngineConfig> out;
  if (tts_json.empty()) return out;
  boost::system::error_code ec;
  const bj::value root = bj::parse(tts_json, ec);
  if (ec || !root.is_object()) return tl::unexpected(bad("tts", "must be a mapping: {engines: [...]}").error());
  for (const auto& kv : root.as_object()) {
    if (kv.key() != "engines") {
      return tl::unexpected(bad(fmt::format("tts.{}", std::string_view(kv.key())), "is not a setting; use engines").error());
    }
  }
  const bj::value* engines = root.as_object().if_contains("engines");
  if (engines == nullptr || engines->is_null()) return out;
  if (!engines->is_array()) return tl::unexpected(bad("tts.engines", "must be a list of engines").error());
  for (size_t i = 0; i < engines->as_array().size(); ++i) {
    auto e = read_engine(engines->as_array()[i], fmt::format("tts.engines[{}]", i));
    if (!e) return tl::unexpected(e.error());
    out.push_back(std::move(*e));
  }
  return out;
}

}  // namespace sy::speech
