#include "gateway/cost.h"

#include <fmt/format.h>

#include <array>
#include <charconv>

#include "core/json_scan.h"

namespace sy::gateway {
namespace {

int64_t integer(const json::Field& f) {
  if (f.kind != json::Kind::kNumber) return 0;
  int64_t v = 0;
  std::from_chars(f.raw.data(), f.raw.data() + f.raw.size(), v);
  return v < 0 ? 0 : v;
}

}  // namespace

std::optional<Usage> read_openai_usage(std::string_view usage_json) {
  static constexpr std::array<std::string_view, 3> kKeys{"prompt_tokens", "completion_tokens", "prompt_tokens_details"};
  std::array<json::Field, 3> f;
  if (!json::scan_object(usage_json, kKeys, f) || f[0].kind != json::Kind::kNumber) return std::nullopt;
  Usage u;
  u.input = integer(f[0]);
  u.output = integer(f[1]);
  if (f[2].kind == json::Kind::kObject) {
    static constexpr std::array<std::string_view, 1> kDetails{"cached_tokens"};
    std::array<json::Field, 1> d;
    if (json::scan_object(f[2].raw, kDetails, d)) u.cache_read = std::min(integer(d[0]), u.input);
  }
  return u;
}

std::optional<Usage> read_anthropic_usage(std::string_view usage_json) {
  static constexpr std::array<std::string_view, 4> kKeys{"input_tokens", "output_tokens", "cache_read_input_tokens",
                                                          "cache_creation_input_tokens"};
  std::array<json::Field, 4> f;
  if (!json::scan_object(usage_json, kKeys, f) || f[0].kind != json::Kind::kNumber) return std::nullopt;
  Usage u;
  u.cache_read = integer(f[2]);
  u.cache_write = integer(f[3]);
  u.input = integer(f[0]) + u.cache_read + u.cache_write;
  u.output = integer(f[1]);
  return u;
}

double cost_usd(const catalog::Model& m, const Usage& u) {
  const double read_price = m.cache_read_per_mtok > 0 ? m.cache_read_per_mtok : m.input_per_mtok;
  const double write_price = m.cache_write_per_mtok > 0 ? m.cache_write_per_mtok : m.input_per_mtok;
  const int64_t plain_input = std::max<int64_t>(0, u.input - u.cache_read - u.cache_write);
  return (static_cast<double>(plain_input) * m.input_per_mtok + static_cast<double>(u.cache_read) * read_price +
          static_cast<double>(u.cache_write) * write_price + static_cast<double>(u.output) * m.output_per_mtok) /
         1e6;
}

std::string format_cost(double usd) {
  std::string s = fmt::format("{:.10f}", usd);
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

}  // namespace sy::gateway
