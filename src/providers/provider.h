#pragma once
// A model provider: where its API lives and how to address it.
//
//   auto p = providers::make(cfg);                 // kind "openai" → the OpenAI adapter
//   p->chat_target("gpt-4o", false, storage);      // "/v1/chat/completions"
//   p->chat_headers();                              // authorization, content-type
//
// Adapters register their kind themselves (providers/<kind>/register.cc); nothing central
// lists them. The interface stays small: capabilities are added as optional interfaces.

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "http/client.h"

namespace sy::providers {

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string_view name() const = 0;
  virtual std::string_view kind() const = 0;
  // The wire protocol it speaks: "openai" (chat completions), "anthropic" (messages) or
  // "gemini" (generateContent).
  virtual std::string_view protocol() const = 0;
  virtual const http::Url& url() const = 0;
  // The request target of a completion of `model` (the provider's own id), streamed or not:
  // most protocols have one path, Gemini puts both in the URL. `storage` holds a target built
  // per request.
  virtual std::string_view chat_target(std::string_view model, bool stream, std::string& storage) const = 0;
  // The headers a completion needs (auth, version).
  virtual std::span<const http::Header> chat_headers() const = 0;
  // The header that authenticates with `key` (a client's own key, sent per request as
  // x-switchyard-provider-key-<provider>); `storage` holds its value.
  virtual http::Header auth_header(std::string_view key, std::string& storage) const = 0;
};

using Factory = std::function<Result<std::unique_ptr<Provider>>(const config::ProviderConfig&)>;

// Called by each adapter's registration unit at start-up.
bool register_kind(std::string kind, Factory factory);
Result<std::unique_ptr<Provider>> make(const config::ProviderConfig& config);
std::vector<std::string> kinds();

}  // namespace sy::providers
