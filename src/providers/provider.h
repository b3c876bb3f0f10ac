#pragma once
// A model provider: where its API lives and how to address it.
//
//   auto p = providers::make(cfg);                 // kind "openai" → the OpenAI adapter
//   p->chat_target();                               // "/v1/chat/completions"
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
  // The wire protocol it speaks: "openai" (chat completions) or "anthropic" (messages).
  virtual std::string_view protocol() const = 0;
  virtual const http::Url& url() const = 0;
  // Request target of a completion in its protocol, and the headers it needs (auth).
  virtual std::string_view chat_target() const = 0;
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
