#pragma once
// The Anthropic Messages protocol, as api.anthropic.com speaks it: POST /v1/messages, plain or
// SSE (message_start, content_block_start, ping, content_block_delta, content_block_stop,
// message_delta, message_stop), errors as {"type":"error","error":{"type","message"}}.
// The model name controls the behaviour as for the OpenAI protocol (mock/behaviour.h).

#include "http/message.h"
#include "mock/mock.h"

namespace sy::mock {

http::Task<void> anthropic_messages(http::Request& req, http::Response& res, const MockOptions& options);

}  // namespace sy::mock
