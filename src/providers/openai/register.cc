// The OpenAI adapter: any OpenAI-compatible base URL, bearer-token auth.
#include <array>

#include <fmt/format.h>

#include "providers/provider.h"

namespace sy::providers {
namespace {

class OpenAiProvider final : public Provider {
 public:
  OpenAiProvider(const config::ProviderConfig& c, http::Url url)
      : name_(c.name), url_(std::move(url)), target_(url_.path + "/chat/completions"),
        auth_(c.api_key.empty() ? std::string() : "Bearer " + c.api_key) {
    headers_[0] = {"content-type", "application/json"};
    headers_[1] = {"authorization", auth_};
  }
  std::string_view name() const override { return name_; }
  std::string_view kind() const override { return "openai"; }
  const http::Url& url() const override { return url_; }
  std::string_view chat_target() const override { return target_; }
  std::span<const http::Header> chat_headers() const override {
    return {headers_.data(), auth_.empty() ? 1u : 2u};
  }

 private:
  std::string name_;
  http::Url url_;
  std::string target_;
  std::string auth_;
  std::array<http::Header, 2> headers_;
};

const bool kRegistered = register_kind("openai", [](const config::ProviderConfig& c) -> Result<std::unique_ptr<Provider>> {
  auto url = http::Url::parse(c.base_url);
  if (!url) return fail(ErrorCode::kInvalidRequest, fmt::format("provider '{}': {}", c.name, url.error().message));
  return std::make_unique<OpenAiProvider>(c, std::move(*url));
});

}  // namespace
}  // namespace sy::providers
