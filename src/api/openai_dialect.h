#pragma once
// OpenAI's error shape: {"error":{"message","type","param","code"}}.

#include "gateway/dialect.h"

namespace sy::api {

class OpenAiDialect final : public gateway::ClientDialect {
 public:
  std::string_view protocol() const override { return "openai"; }
  std::string error_body(const Error& error) const override;
  // A final chunk carrying an `error` object, as OpenAI sends mid-stream errors.
  std::string stream_error_event(const Error& error) const override;
  bool ends_stream(const http::SseEvent& event) const override { return event.data == "[DONE]"; }
  std::span<const std::string_view> parameters() const override;
};

}  // namespace sy::api
