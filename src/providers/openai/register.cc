// The OpenAI adapter: any OpenAI-compatible base URL, bearer-token auth. Registered for
// "openai" and for every OpenAI-compatible preset (groq, mistral, ...; config/presets.h).
#include <array>

#include <fmt/format.h>

#include "config/presets.h"
#include "providers/provider.h"

namespace sy::providers {
namespace {

class OpenAiProvider final : public Provider {
 public:
  OpenAiProvider(const config::ProviderConfig& c, http::Url url)
      : name_(c.name), kind_(c.kind), url_(std::move(url)), target_(url_.path + "/chat/completions"),
        auth_(c.api_key.empty() ? std::string() : "Bearer " + c.api_key) {
    headers_[0] = {"content-type", "application/json"};
    headers_[1] = {"authorization", auth_};
  }
  std::string_view name() const override { return name_; }
  std::string_view kind() const override { return kind_; }
  std::string_view protocol() const override { return "openai"; }
  const http::Url& url() const override { return url_; }
  std::string_view chat_target(std::string_view, bool, std::string&) const override { return target_; }
  std::span<const http::Header> chat_headers() const override {
    return {headers_.data(), auth_.empty() ? 1u : 2u};
  }
  http::Header auth_header(std::string_view key, std::string& storage) const override {
    storage.assign("Bearer ").append(key);
    return {"authorization", storage};
  }

 private:
  std::string name_;
  std::string kind_;
  http::Url url_;
  std::string target_;
  std::string auth_;
  std::array<http::Header, 2> headers_;
};

Result<std::unique_ptr<Provider>> make_openai(const config::ProviderConfig& c) {
  auto url = http::Url::parse(c.base_url);
  if (!url) return fail(ErrorCode::kInvalidRequest, fmt::format("provider '{}': {}", c.name, url.error().message));
  return std::make_unique<OpenAiProvider>(c, std::move(*url));
}

const bool kRegistered = [] {
  for (const auto& p : config::presets()) {
    if (p.protocol == "openai") register_kind(std::string(p.name), make_openai);
  }
  return true;
}();

}  // namespace
}  // namespace sy::providers
