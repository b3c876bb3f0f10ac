#pragma once
// The client's dialect (OpenAI, Anthropic): how its errors look, how its streams end, which
// top-level fields its requests may carry. The api/ layer provides one per endpoint; the
// gateway uses it for what it writes itself, such as a failure in the middle of a stream.

#include <span>
#include <string>
#include <string_view>

#include "core/error.h"
#include "http/sse.h"

namespace sy::gateway {

class ClientDialect {
 public:
  virtual ~ClientDialect() = default;
  // The wire protocol: "openai" or "anthropic" (as providers::Provider::protocol()).
  virtual std::string_view protocol() const = 0;
  // A whole JSON error body.
  virtual std::string error_body(const Error& error) const = 0;
  // An SSE event that ends a stream with `error`, for failures after the stream began.
  virtual std::string stream_error_event(const Error& error) const = 0;
  // Whether `event` is the protocol's last event of a complete stream.
  virtual bool ends_stream(const http::SseEvent& event) const = 0;
  // The request's top-level parameters; other top-level fields a router reads are not sent on.
  virtual std::span<const std::string_view> parameters() const = 0;
};

}  // namespace sy::gateway
