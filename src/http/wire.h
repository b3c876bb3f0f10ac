#pragma once
// Byte-level helpers shared by the server and the client: response heads, header scans.

#include <span>
#include <string>
#include <string_view>

#include "http/message.h"

namespace sy::http {

// Appends "HTTP/1.1 <status> <reason>\r\n", content-type, `headers` and a connection header
// (keep-alive or close). The caller adds the framing header and the blank line.
void append_head(std::string& out, int status, std::string_view content_type,
                 std::span<const Header> headers, bool close);

// Decodes %XX escapes in a URL path segment ("demo%2Ffast" → "demo/fast"). Invalid escapes
// are kept as they are.
std::string percent_decode(std::string_view s);
// The value of `key` in a request target's query string ("/x?pageSize=10&pageToken=y"),
// percent-decoded; "" when absent.
std::string query_param(std::string_view target, std::string_view key);
// Escapes everything but RFC 3986's unreserved characters (for one path segment or query value).
std::string percent_encode(std::string_view s);

// ASCII case-insensitive equality, for header names.
bool iequals(std::string_view a, std::string_view b);

// The value of the first header named `name` (ASCII case-insensitive) in beast `fields`, "" when
// absent. A scan that compares sizes first: for the dozen headers a message has, several times
// cheaper than beast's own find, whose tree compares names byte by byte at every node.
template <class Fields>
std::string_view find_header(const Fields& fields, std::string_view name) {
  for (const auto& field : fields) {
    const auto n = field.name_string();
    if (n.size() == name.size() && iequals(std::string_view(n.data(), n.size()), name)) {
      const auto v = field.value();
      return {v.data(), v.size()};
    }
  }
  return {};
}

}  // namespace sy::http
