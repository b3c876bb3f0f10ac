// The Gemini adapter: the Gemini API's generateContent (POST {base_url}/models/{model}:generateContent,
// or :streamGenerateContent?alt=sse for a stream) with x-goog-api-key auth. The model is part of
// the target, so the gateway asks for it per request with chat_target(model, stream, storage).
#include <array>

#include <fmt/format.h>

#include "providers/provider.h"

namespace sy::providers {
namespace {

// Appends `model` to a request target: unreserved characters and '/' as they are, the rest
// percent-encoded, so that no model name can add a query or a path step of its own.
void append_model(std::string& target, std::string_view model) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : model) {
    const auto c = static_cast<unsigned char>(ch);
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                       c == '.' || c == '_' || c == '~' || c == '/';
    if (plain) {
      target += ch;
    } else {
      target += '%';
      target += kHex[c >> 4];
      target += kHex[c & 15];
    }
  }
}

class GeminiProvider final : public Provider {
 public:
  GeminiProvider(const config::ProviderConfig& c, http::Url url)
      : name_(c.name), kind_(c.kind), url_(std::move(url)), target_(url_.path + "/models/{model}:generateContent"),
        key_(c.api_key) {
    headers_[0] = {"content-type", "application/json"};
    headers_[1] = {"x-goog-api-key", key_};
  }
  std::string_view name() const override { return name_; }
  std::string_view kind() const override { return kind_; }
  std::string_view protocol() const override { return "gemini"; }
  const http::Url& url() const override { return url_; }
  // "<base>/models/gemini-2.5-flash:generateContent"; a name that names its collection
  // ("models/…", "tunedModels/my-model") goes under the base path as it is.
  std::string_view chat_target(std::string_view model, bool stream, std::string& storage) const override {
    storage.assign(url_.path);
    storage += model.starts_with("models/") || model.starts_with("tunedModels/") ? "/" : "/models/";
    append_model(storage, model);
    storage += stream ? ":streamGenerateContent?alt=sse" : ":generateContent";
    return storage;
  }
  std::span<const http::Header> chat_headers() const override { return {headers_.data(), key_.empty() ? 1u : 2u}; }
  http::Header auth_header(std::string_view key, std::string& storage) const override {
    storage.assign(key);
    return {"x-goog-api-key", storage};
  }

 private:
  std::string name_;
  std::string kind_;
  http::Url url_;
  std::string target_;
  std::string key_;
  std::array<http::Header, 2> headers_;
};

const bool kRegistered = register_kind("gemini", [](const config::ProviderConfig& c) -> Result<std::unique_ptr<Provider>> {
  auto url = http::Url::parse(c.base_url);
  if (!url) return fail(ErrorCode::kInvalidRequest, fmt::format("provider '{}': {}", c.name, url.error().message));
  return std::make_unique<GeminiProvider>(c, std::move(*url));
});

}  // namespace
}  // namespace sy::providers
