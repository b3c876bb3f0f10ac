#include "http/wire.h"

#include <cstdint>
#include <cstring>

#include <fmt/format.h>

namespace sy::http {

void append_head(std::string& out, int status, std::string_view content_type,
                 std::span<const Header> headers, bool close) {
  fmt::format_to(std::back_inserter(out), "HTTP/1.1 {} {}\r\n", status, reason_phrase(status));
  if (!content_type.empty()) {
    out += "content-type: ";
    out += content_type;
    out += "\r\n";
  }
  for (const Header& h : headers) {
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  out += close ? "connection: close\r\n" : "connection: keep-alive\r\n";
}

std::string percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

namespace {

// The bytes of `v` in 'A'..'Z' made lower case, eight at a time; others (0x80 and up too) kept.
uint64_t ascii_lower8(uint64_t v) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = kOnes * 0x80;
  const uint64_t low7 = v & ~kHigh;                       // a byte's sum below cannot carry out
  const uint64_t from_a = low7 + kOnes * (0x80 - 'A');    // high bit set: byte >= 'A'
  const uint64_t past_z = low7 + kOnes * (0x80 - 'Z' - 1);  // high bit set: byte > 'Z'
  const uint64_t upper = from_a & ~past_z & ~v & kHigh;
  return v | (upper >> 2);  // 0x80 >> 2 is 0x20, the case bit
}

bool same8(uint64_t x, uint64_t y) { return x == y || ascii_lower8(x) == ascii_lower8(y); }

uint64_t load(const char* p, size_t n) {  // n <= 8; the missing bytes are zero
  uint64_t v = 0;
  std::memcpy(&v, p, n);
  return v;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  size_t i = 0;
  for (; i + 8 <= a.size(); i += 8) {
    if (!same8(load(a.data() + i, 8), load(b.data() + i, 8))) return false;
  }
  const size_t rest = a.size() - i;
  return rest == 0 || same8(load(a.data() + i, rest), load(b.data() + i, rest));
}

std::string query_param(std::string_view target, std::string_view key) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == key) return eq == std::string_view::npos ? std::string() : http::percent_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return {};
}


}  // namespace sy::http
