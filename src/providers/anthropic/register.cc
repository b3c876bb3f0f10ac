// The Anthropic adapter: the Messages API (POST {base_url}/messages), x-api-key auth and an
// anthropic-version header (a client's own anthropic-version and anthropic-beta are passed on
// by the gateway).
#include <array>

#include <fmt/format.h>

#include "providers/provider.h"

namespace sy::providers {
namespace {

constexpr std::string_view kVersion = "2023-06-01";

class AnthropicProvider final : public Provider {
 public:
  AnthropicProvider(const config::ProviderConfig& c, http::Url url)
      : name_(c.name), url_(std::move(url)), target_(url_.path + "/messages"), key_(c.api_key) {
    headers_[0] = {"content-type", "application/json"};
    headers_[1] = {"anthropic-version", kVersion};
    headers_[2] = {"x-api-key", key_};
  }
  std::string_view name() const override { return name_; }
  std::string_view kind() const override { return "anthropic"; }
  std::string_view protocol() const override { return "anthropic"; }
  const http::Url& url() const override { return url_; }
  std::string_view chat_target(std::string_view, bool, std::string&) const override { return target_; }
  std::span<const http::Header> chat_headers() const override { return {headers_.data(), key_.empty() ? 2u : 3u}; }
  http::Header auth_header(std::string_view key, std::string& storage) const override {
    storage.assign(key);
    return {"x-api-key", storage};
  }

 private:
  std::string name_;
  http::Url url_;
  std::string target_;
  std::string key_;
  std::array<http::Header, 3> headers_;
};

const bool kRegistered = register_kind("anthropic", [](const config::ProviderConfig& c) -> Result<std::unique_ptr<Provider>> {
  auto url = http::Url::parse(c.base_url);
  if (!url) return fail(ErrorCode::kInvalidRequest, fmt::format("provider '{}': {}", c.name, url.error().message));
  return std::make_unique<AnthropicProvider>(c, std::move(*url));
});

}  // namespace
}  // namespace sy::providers
