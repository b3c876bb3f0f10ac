#pragma once
// How errors look in the client's dialect (OpenAI, Anthropic, ...). The api/ layer provides
// one per endpoint; the gateway uses it for errors it must write itself, such as a failure
// in the middle of a stream.

#include <string>

#include "core/error.h"

namespace sy::gateway {

class ClientDialect {
 public:
  virtual ~ClientDialect() = default;
  // A whole JSON error body.
  virtual std::string error_body(const Error& error) const = 0;
  // An SSE event that ends a stream with `error`, for failures after the stream began.
  virtual std::string stream_error_event(const Error& error) const = 0;
};

}  // namespace sy::gateway
