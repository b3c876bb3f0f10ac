#include "gateway/meter.h"

#include <array>

namespace sy::gateway {
namespace {

// Whether `key` (a quoted JSON key) appears in `data` with a string value that is not empty.
bool non_empty_string(std::string_view data, std::string_view key) {
  for (size_t at = data.find(key); at != std::string_view::npos; at = data.find(key, at + key.size())) {
    const size_t value = data.find_first_not_of(" \t\r\n:", at + key.size());
    if (value != std::string_view::npos && data[value] == '"' && value + 1 < data.size() && data[value + 1] != '"') {
      return true;
    }
  }
  return false;
}

}  // namespace

bool looks_like_json(std::string_view data) {
  const size_t first = data.find_first_not_of(" \t\r\n");
  const size_t last = data.find_last_not_of(" \t\r\n");
  if (first == std::string_view::npos) return true;  // no data: nothing to read
  if (data.substr(first, last - first + 1) == "[DONE]") return true;
  return (data[first] == '{' && data[last] == '}') || (data[first] == '[' && data[last] == ']');
}

bool StreamMeter::see(const http::SseEvent& ev, json::Field& usage_field) {
  if (openai_) {
    // Cheap test first: with include_usage every chunk carries "usage":null, one an object.
    const size_t key = ev.data.find("\"usage\"");
    if (key == std::string_view::npos) return false;
    const size_t value = ev.data.find_first_not_of(" \t\r\n:", key + 7);
    if (value == std::string_view::npos || ev.data[value] != '{') return false;
    static constexpr std::array<std::string_view, 1> kUsage{"usage"};
    std::array<json::Field, 1> u;
    if (!json::scan_object(ev.data, kUsage, u) || u[0].kind != json::Kind::kObject) return false;
    usage_ = read_openai_usage(u[0].raw);
    usage_field = u[0];
    return usage_.has_value();
  }
  if (ev.event == "message_start") {
    static constexpr std::array<std::string_view, 1> kMessage{"message"};
    static constexpr std::array<std::string_view, 1> kUsage{"usage"};
    std::array<json::Field, 1> m;
    std::array<json::Field, 1> u;
    if (json::scan_object(ev.data, kMessage, m) && json::scan_object(m[0].raw, kUsage, u)) {
      usage_ = read_anthropic_usage(u[0].raw);
    }
  } else if (ev.event == "message_delta") {
    // The final output count; newer API versions repeat the input counts here too.
    static constexpr std::array<std::string_view, 1> kUsage{"usage"};
    static constexpr std::array<std::string_view, 2> kCounts{"output_tokens", "input_tokens"};
    std::array<json::Field, 1> u;
    std::array<json::Field, 2> c;
    if (json::scan_object(ev.data, kUsage, u) && json::scan_object(u[0].raw, kCounts, c) &&
        c[0].kind == json::Kind::kNumber) {
      if (c[1].kind == json::Kind::kNumber) usage_ = read_anthropic_usage(u[0].raw);
      if (!usage_) usage_.emplace();
      usage_->output = std::strtoll(std::string(c[0].raw).c_str(), nullptr, 10);
    }
  }
  return false;
}

bool StreamMeter::ends_or_fails(const http::SseEvent& ev) const {
  if (!openai_) return ev.event == "message_delta" || ev.event == "message_stop" || ev.event == "error";
  return non_empty_string(ev.data, "\"finish_reason\"") || ev.data.starts_with("{\"error\"") || ev.data == "[DONE]";
}

bool StreamMeter::carries_token(const http::SseEvent& ev) const {
  if (!openai_) {
    return ev.event == "content_block_delta" ||
           (ev.event == "content_block_start" && ev.data.find("\"tool_use\"") != std::string_view::npos);
  }
  return non_empty_string(ev.data, "\"content\"") || non_empty_string(ev.data, "\"reasoning_content\"") ||
         ev.data.find("\"tool_calls\"") != std::string_view::npos;
}

}  // namespace sy::gateway
