#include "api/anthropic_dialect.h"

#include <array>

#include "core/json_scan.h"

namespace sy::api {

std::string_view anthropic_error_type(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidRequest:
    case ErrorCode::kMethodNotAllowed:
    case ErrorCode::kRequestTimeout:
    case ErrorCode::kConflict:
    case ErrorCode::kPreconditionFailed:
    case ErrorCode::kHeaderTooLarge: return "invalid_request_error";
    case ErrorCode::kUnauthorized: return "authentication_error";
    case ErrorCode::kForbidden: return "permission_error";
    case ErrorCode::kNotFound:
    case ErrorCode::kModelNotFound: return "not_found_error";
    case ErrorCode::kPayloadTooLarge: return "request_too_large";
    case ErrorCode::kRateLimited: return "rate_limit_error";
    case ErrorCode::kUnavailable: return "overloaded_error";
    case ErrorCode::kInternal:
    case ErrorCode::kUpstreamError:
    case ErrorCode::kUpstreamUnreachable:
    case ErrorCode::kUpstreamTimeout: return "api_error";
  }
  return "api_error";
}

std::string AnthropicDialect::error_body(const Error& error) const {
  std::string out = R"({"type":"error","error":{"type":)";
  json::append_quoted(out, anthropic_error_type(error.code));
  out += R"(,"message":)";
  json::append_quoted(out, error.message);
  out += "}}";
  return out;
}

std::string AnthropicDialect::stream_error_event(const Error& error) const {
  return "event: error\ndata: " + error_body(error) + "\n\n";
}

std::span<const std::string_view> AnthropicDialect::parameters() const {
  static constexpr std::array<std::string_view, 16> kParams{
      "model", "messages", "system", "max_tokens", "metadata", "stop_sequences", "stream", "temperature",
      "top_p", "top_k", "tools", "tool_choice", "thinking", "service_tier", "container", "mcp_servers"};
  return kParams;
}

}  // namespace sy::api
