#include "http/sse.h"

namespace sy::http {

size_t SseParser::event_end(std::string_view s, size_t from) {
  for (size_t i = from; i < s.size(); ++i) {
    if (s[i] != '\n') continue;
    if (i + 1 < s.size() && s[i + 1] == '\n') return i + 2;
    if (i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') return i + 3;
  }
  return std::string_view::npos;
}

void SseParser::fill_fields(SseEvent& e) {
  std::string_view rest = e.raw;
  int data_lines = 0;
  std::string_view first_data;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == ':') continue;
    const size_t colon = line.find(':');
    const std::string_view name = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (name == "data") {
      if (data_lines == 0) {
        first_data = value;
      } else {
        if (data_lines == 1) joined_.assign(first_data);
        joined_ += '\n';
        joined_ += value;
      }
      ++data_lines;
    } else if (name == "event") {
      e.event = value;
    }
  }
  e.data = data_lines > 1 ? std::string_view(joined_) : first_data;
}

}  // namespace sy::http
