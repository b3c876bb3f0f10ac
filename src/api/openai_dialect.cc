#include "api/openai_dialect.h"

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
