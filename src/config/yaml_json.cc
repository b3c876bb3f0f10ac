// YAML to JSON for documents users may write in either (routers in switchyard.yaml,
// `switchyard routers apply -f router.yaml`).
#include <yaml-cpp/yaml.h>
#include <fmt/format.h>

#include <charconv>

#include "config/config.h"
#include "core/json_scan.h"

namespace sy::config {
namespace {

bool is_number(const std::string& s) {
  if (s.empty()) return false;
  double d = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || ptr != s.data() + s.size()) return false;
  // JSON has no leading '+', no leading zeros, no bare '.5', no inf/nan.
  const char first = s[0] == '-' ? (s.size() > 1 ? s[1] : '\0') : s[0];
  if (first < '0' || first > '9') return false;
  const size_t digits_at = s[0] == '-' ? 1 : 0;
  if (s[digits_at] == '0' && s.size() > digits_at + 1 && s[digits_at + 1] >= '0' && s[digits_at + 1] <= '9') return false;
  return s.back() != '.';
}

void emit(const YAML::Node& n, std::string& out) {
  switch (n.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null: out += "null"; return;
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "?") {  // plain (unquoted) scalar: YAML 1.2 core schema types
        if (s == "true" || s == "false" || s == "null") {
          out += s;
          return;
        }
        if (s == "~") {
          out += "null";
          return;
        }
        if (is_number(s)) {
          out += s;
          return;
        }
      }
      json::append_quoted(out, s);
      return;
    }
    case YAML::NodeType::Sequence: {
      out += '[';
      for (size_t i = 0; i < n.size(); ++i) {
        if (i) out += ',';
        emit(n[i], out);
      }
      out += ']';
      return;
    }
    case YAML::NodeType::Map: {
      out += '{';
      bool first = true;
      for (const auto& kv : n) {
        if (!first) out += ',';
        first = false;
        json::append_quoted(out, kv.first.as<std::string>());
        out += ':';
        emit(kv.second, out);
      }
      out += '}';
      return;
    }
  }
}

}  // namespace

std::string yaml_node_to_json(const YAML::Node& node) {
  std::string out;
  emit(node, out);
  return out;
}

Result<std::string> yaml_to_json(const std::string& yaml_text, const std::string& name) {
  try {
    return yaml_node_to_json(YAML::Load(yaml_text));
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::kInvalidRequest,
                fmt::format("{}: line {}, column {}: {}", name, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

}  // namespace sy::config
