#pragma once
// Google's Gemini API (generativelanguage.googleapis.com), as it speaks it:
//   POST /v1beta/models/{model}:generateContent        → GenerateContentResponse
//   POST /v1beta/models/{model}:streamGenerateContent?alt=sse
//        → "data: <GenerateContentResponse>\r\n\r\n" per chunk (without alt=sse: one JSON array)
//   POST /v1beta/models/{model}:countTokens            → {"totalTokens": N, ...}
// (/v1/models/... too). The model, percent-decoded from the path, may hold '/': it carries the
// behaviour (mock/behaviour.h) as for the other protocols. Auth when MockOptions::api_key is
// set: x-goog-api-key or ?key= (a wrong key is Google's 400 API_KEY_INVALID, none is 403
// PERMISSION_DENIED, a bearer token other than the key 401 UNAUTHENTICATED). Errors are
// {"error":{"code","message","status"[,"details"]}}.

#include <string>
#include <string_view>

#include "http/message.h"
#include "mock/mock.h"

namespace sy::mock {

// Whether `path` is one of Gemini's model methods ("/v1beta/models/x:generateContent").
bool is_gemini(std::string_view path);

http::Task<void> gemini(http::Request& req, http::Response& res, const MockOptions& options);

// {"error":{"code":status,"message":…,"status":"INVALID_ARGUMENT"}}; `details` is a raw JSON
// array appended as "details" when not empty.
std::string gemini_error_json(int status, std::string_view message, std::string_view details = {});

}  // namespace sy::mock
