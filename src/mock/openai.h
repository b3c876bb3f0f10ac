#pragma once
// The OpenAI chat-completions protocol, as api.openai.com speaks it: POST /v1/chat/completions,
// plain or SSE (a role chunk, content or reasoning_content deltas or tool_calls deltas, a
// finish chunk, the usage chunk when stream_options.include_usage, data: [DONE]), errors as
// {"error":{"message","type","param","code"}}. Behaviours: mock/behaviour.h.

#include <string>
#include <string_view>

#include "http/message.h"
#include "mock/behaviour.h"

namespace sy::mock {

http::Task<void> openai_chat(http::Request& req, http::Response& res);
// POST /v1/audio/speech, OpenAI's text-to-speech (mock/openai_speech.cc, docs/mock.md "Speech").
http::Task<void> openai_speech(http::Request& req, http::Response& res);

std::string openai_error_json(std::string_view message, std::string_view type, std::string_view param,
                              std::string_view code);
// The error a behaviour's status-<code> (or a drawn fault) injects, as api.openai.com words it.
http::Task<void> openai_fault(http::Response& res, const Behaviour& b);
// Sends an error with an x-request-id, and retry-after when retry_after >= 0.
http::Task<void> openai_error(http::Response& res, int status, std::string_view message, std::string_view type,
                              std::string_view param, std::string_view code, int retry_after = -1);

}  // namespace sy::mock
