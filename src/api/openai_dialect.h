#pragma once
// OpenAI's error shape: {"error":{"message","type","param","code"}}.

#include "gateway/dialect.h"

namespace sy::api {

class OpenAiDialect final : public gateway::ClientDialect {
 public:
  std::string error_body(const Error& error) const override;
  // A final chunk carrying an `error` object, as OpenAI sends mid-stream errors.
  std::string stream_error_event(const Error& error) const override;
};

}  // namespace sy::api
