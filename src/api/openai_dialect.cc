#include "api/openai_dialect.h"

#include <array>

#include "core/json_scan.h"

namespace sy::api {
namespace {
void append_error_object(std::string& out, const Error& e) {
  out += R"({"error":{"message":)";
  json::append_quoted(out, e.message);
  out += R"(,"type":)";
  json::append_quoted(out, openai_error_type(e.code));
  out += R"(,"param":)";
  if (e.param.empty()) out += "null";
  else json::append_quoted(out, e.param);
  out += R"(,"code":)";
  json::append_quoted(out, error_code_name(e.code));
  out += "}}";
}
}  // namespace

std::span<const std::string_view> OpenAiDialect::parameters() const {
  static constexpr std::array<std::string_view, 34> kParams{
      "model", "messages", "stream", "stream_options", "temperature", "top_p", "n", "stop", "max_tokens",
      "max_completion_tokens", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs", "top_logprobs",
      "user", "tools", "tool_choice", "parallel_tool_calls", "response_format", "seed", "service_tier", "store",
      "metadata", "modalities", "audio", "prediction", "reasoning_effort", "verbosity", "web_search_options",
      "functions", "function_call", "prompt_cache_key", "safety_identifier"};
  return kParams;
}

std::string OpenAiDialect::error_body(const Error& error) const {
  std::string out;
  append_error_object(out, error);
  return out;
}

std::string OpenAiDialect::stream_error_event(const Error& error) const {
  std::string out = "data: ";
  append_error_object(out, error);
  out += "\n\n";
  return out;
}

}  // namespace sy::api
