#include "core/error.h"

namespace sy {

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidRequest: return 400;
    case ErrorCode::kUnauthorized: return 401;
    case ErrorCode::kForbidden: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kModelNotFound: return 404;
    case ErrorCode::kMethodNotAllowed: return 405;
    case ErrorCode::kRequestTimeout: return 408;
    case ErrorCode::kConflict: return 409;
    case ErrorCode::kPreconditionFailed: return 412;
    case ErrorCode::kPayloadTooLarge: return 413;
    case ErrorCode::kHeaderTooLarge: return 431;
    case ErrorCode::kRateLimited: return 429;
    case ErrorCode::kInternal: return 500;
    case ErrorCode::kUpstreamError: return 502;
    case ErrorCode::kUpstreamUnreachable: return 502;
    case ErrorCode::kUnavailable: return 503;
    case ErrorCode::kUpstreamTimeout: return 504;
  }
  return 500;
}

std::string_view openai_error_type(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidRequest:
    case ErrorCode::kNotFound:
    case ErrorCode::kModelNotFound:
    case ErrorCode::kMethodNotAllowed:
    case ErrorCode::kRequestTimeout:
    case ErrorCode::kConflict:
    case ErrorCode::kPreconditionFailed:
    case ErrorCode::kPayloadTooLarge:
    case ErrorCode::kHeaderTooLarge: return "invalid_request_error";
    case ErrorCode::kUnauthorized: return "authentication_error";
    case ErrorCode::kForbidden: return "permission_error";
    case ErrorCode::kRateLimited: return "rate_limit_error";
    case ErrorCode::kInternal:
    case ErrorCode::kUpstreamError:
    case ErrorCode::kUpstreamUnreachable:
    case ErrorCode::kUnavailable:
    case ErrorCode::kUpstreamTimeout: return "api_error";
  }
  return "api_error";
}

ErrorCode code_for_status(int status) {
  switch (status) {
    case 400: return ErrorCode::kInvalidRequest;
    case 401: return ErrorCode::kUnauthorized;
    case 403: return ErrorCode::kForbidden;
    case 404: return ErrorCode::kNotFound;
    case 408: return ErrorCode::kRequestTimeout;
    case 409: return ErrorCode::kConflict;
    case 413: return ErrorCode::kPayloadTooLarge;
    case 429: return ErrorCode::kRateLimited;
    case 503: return ErrorCode::kUnavailable;
    case 504: return ErrorCode::kUpstreamTimeout;
    default: return ErrorCode::kUpstreamError;
  }
}

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidRequest: return "invalid_request";
    case ErrorCode::kUnauthorized: return "unauthorized";
    case ErrorCode::kForbidden: return "forbidden";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kModelNotFound: return "model_not_found";
    case ErrorCode::kMethodNotAllowed: return "method_not_allowed";
    case ErrorCode::kRequestTimeout: return "request_timeout";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kPreconditionFailed: return "precondition_failed";
    case ErrorCode::kPayloadTooLarge: return "payload_too_large";
    case ErrorCode::kHeaderTooLarge: return "header_too_large";
    case ErrorCode::kRateLimited: return "rate_limited";
    case ErrorCode::kInternal: return "internal_error";
    case ErrorCode::kUpstreamError: return "upstream_error";
    case ErrorCode::kUpstreamUnreachable: return "upstream_unreachable";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kUpstreamTimeout: return "upstream_timeout";
  }
  return "internal_error";
}

}  // namespace sy
