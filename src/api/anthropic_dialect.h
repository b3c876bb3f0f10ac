#pragma once
// Anthropic's error shape: {"type":"error","error":{"type","message"}}; streams end with
// message_stop, and fail with an `event: error`.

#include "gateway/dialect.h"

namespace sy::api {

class AnthropicDialect final : public gateway::ClientDialect {
 public:
  std::string_view protocol() const override { return "anthropic"; }
  std::string error_body(const Error& error) const override;
  std::string stream_error_event(const Error& error) const override;
  bool ends_stream(const http::SseEvent& event) const override { return event.event == "message_stop"; }
  std::span<const std::string_view> parameters() const override;
};

// Anthropic's error type for `code` ("invalid_request_error", "overloaded_error", ...).
std::string_view anthropic_error_type(ErrorCode code);

}  // namespace sy::api
