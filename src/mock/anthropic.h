#pragma once
// The Anthropic Messages protocol, as api.anthropic.com speaks it: POST /v1/messages, plain or
// SSE (message_start, content_block_start, ping, content_block_delta, content_block_stop,
// message_delta, message_stop), with thinking and tool_use blocks; POST
// /v1/messages/count_tokens; errors as {"type":"error","error":{"type","message"}}.
// The model name controls the behaviour as for the OpenAI protocol (mock/behaviour.h).

#include <string>
#include <string_view>

#include "http/message.h"
#include "mock/mock.h"

namespace sy::mock {

http::Task<void> anthropic_messages(http::Request& req, http::Response& res, const MockOptions& options);
// {"input_tokens": N}: the prompt tokens a message with this body reports (cached ones included).
http::Task<void> anthropic_count_tokens(http::Request& req, http::Response& res, const MockOptions& options);

std::string anthropic_error_json(int status, std::string_view message);

}  // namespace sy::mock
