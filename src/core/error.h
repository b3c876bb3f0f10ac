#pragma once
// Error: what went wrong, in a form every dialect can render.
//
//   Result<int> parse_port(std::string_view s);
//   if (auto r = parse_port("80"); !r) log(r.error().message);
//   http_status(ErrorCode::kPayloadTooLarge) == 413
//
// Errors on the request path are values, never exceptions. The code decides the HTTP status
// through an exhaustive switch (error.cc); the message names the bad input and the fix.

#include <string>
#include <string_view>

namespace sy {

enum class ErrorCode {
  kInvalidRequest,      // 400: the client's request is malformed or inconsistent
  kUnauthorized,        // 401: missing or wrong credentials
  kForbidden,           // 403
  kNotFound,            // 404: unknown path or resource
  kModelNotFound,       // 404: the requested model is not in the catalog
  kMethodNotAllowed,    // 405
  kRequestTimeout,      // 408: the client was too slow sending its request
  kConflict,            // 409: the resource already exists
  kPreconditionFailed,  // 412: the caller's expected version is stale
  kPayloadTooLarge,     // 413
  kHeaderTooLarge,      // 431
  kRateLimited,         // 429
  kInternal,            // 500: a bug of ours
  kUpstreamError,       // 502: the provider answered with something we cannot use
  kUpstreamUnreachable, // 502: connect, TLS or reset before the answer
  kUnavailable,         // 503: shutting down, or nothing can serve
  kUpstreamTimeout,     // 504
};

// The HTTP status a client sees for `code`.
int http_status(ErrorCode code);
// OpenAI's error `type` for `code` ("invalid_request_error", "api_error", ...).
std::string_view openai_error_type(ErrorCode code);
// A stable machine-readable name ("model_not_found", "payload_too_large", ...).
std::string_view error_code_name(ErrorCode code);
// The code of a provider's HTTP error status (400 → kInvalidRequest, 429 → kRateLimited, …;
// any other → kUpstreamError).
ErrorCode code_for_status(int status);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::string param;        // the request field at fault, when there is one
  int upstream_status = 0;  // the provider's HTTP status, when it answered

  static Error invalid(std::string msg, std::string param = {}) {
    return {ErrorCode::kInvalidRequest, std::move(msg), std::move(param), 0};
  }
};

}  // namespace sy
