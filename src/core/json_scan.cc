#include "core/json_scan.h"

#include <cstdint>
#include <cstring>
#include <optional>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <fmt/format.h>

namespace sy::json {
namespace {

// True when one of the 8 bytes in `v` is '"', '\\' or a control character (SWAR).
bool special_in(uint64_t v) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const auto zero_byte = [](uint64_t x) { return (x - kOnes) & ~x & kHigh; };
  const uint64_t below_space = (v - kOnes * 0x20) & ~v & kHigh;
  return (zero_byte(v ^ (kOnes * '"')) | zero_byte(v ^ (kOnes * '\\')) | below_space) != 0;
}

// The offset of the first '"', '\\' or control character at or after `pos`, or an offset
// at most 7 bytes before the end (the byte loop takes it from there). Most of a chat body
// is message text, so this is where a scan (and append_quoted) spends its time.
size_t skip_plain(std::string_view s, size_t pos) {
  const char* p = s.data() + pos;
  const char* const end = s.data() + s.size();
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i last_control = _mm_set1_epi8(0x1f);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(v, last_control), last_control);  // v <= 0x1f
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)), control);
    if (const int mask = _mm_movemask_epi8(hit); mask != 0) return static_cast<size_t>(p - s.data()) + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    p += 16;
  }
#endif
  while (end - p >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    if (special_in(v)) break;
    p += 8;
  }
  return static_cast<size_t>(p - s.data());
}

class Scanner {
 public:
  Scanner(std::string_view text, ScanOptions options) : s_(text), options_(options) {}

  Result<bool> top_object(std::span<const std::string_view> keys, std::span<Field> out,
                          std::vector<Member>* members = nullptr) {
    skip_ws();
    if (peek() != '{') return error("expected '{' (the request body must be a JSON object)");
    members_ = members;
    if (!object(0, keys, out)) return failure();
    return finish();
  }

  Result<bool> top_array(std::vector<Field>& elements) {
    skip_ws();
    if (peek() != '[') return error("expected '['");
    if (!array(0, &elements)) return failure();
    return finish();
  }

  Result<bool> top_elements(std::span<const std::string_view> keys, std::vector<Field>& out) {
    skip_ws();
    if (peek() != '[') return error("expected '['");
    element_keys_ = keys;
    element_fields_ = &out;
    if (!array(0)) return failure();
    return finish();
  }

  Result<bool> any_value() {
    skip_ws();
    if (!value(0)) return failure();
    return finish();
  }

 private:
  Result<bool> finish() {
    skip_ws();
    if (pos_ != s_.size()) return error("unexpected data after the JSON value");
    return true;
  }

  tl::unexpected<Error> error(std::string_view what) {
    if (!error_) error_ = Error{ErrorCode::kInvalidRequest, fmt::format("invalid JSON at byte {}: {}", pos_, what), {}, 0};
    return tl::unexpected(*error_);
  }
  tl::unexpected<Error> failure() const { return tl::unexpected(*error_); }
  bool set_error(std::string_view what) {
    error(what);
    return false;
  }

  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool at_end() const { return pos_ >= s_.size(); }

  void skip_ws() {
    while (pos_ < s_.size()) {
      const char c = s_[pos_];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return;
      ++pos_;
    }
  }

  bool value(int depth) {
    if (at_end()) return set_error("unexpected end of input, expected a value");
    switch (peek()) {
      case '{': return object(depth, {}, {});
      case '[': return array(depth);
      case '"': return string();
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number();
    }
  }

  bool object(int depth, std::span<const std::string_view> keys, std::span<Field> out) {
    if (depth >= options_.max_depth) return set_error("nesting is too deep");
    ++pos_;  // '{'
    skip_ws();
    if (peek() == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_ws();
      if (peek() != '"') return set_error("expected '\"' to start an object key");
      const size_t key_begin = pos_;
      if (!string()) return false;
      const std::string_view raw_key = s_.substr(key_begin, pos_ - key_begin);
      skip_ws();
      if (peek() != ':') return set_error("expected ':' after an object key");
      ++pos_;
      skip_ws();
      const size_t value_begin = pos_;
      const char first = peek();
      if (!value(depth + 1)) return false;
      if (!keys.empty()) record(raw_key, s_.substr(value_begin, pos_ - value_begin), first, keys, out);
      if (depth == 0 && members_ != nullptr) {
        members_->push_back(Member{raw_key, Field{s_.substr(value_begin, pos_ - value_begin), kind_of(first)}});
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return true;
      }
      return set_error("expected ',' or '}' in an object");
    }
  }

  static void record(std::string_view raw_key, std::string_view raw_value, char first,
                     std::span<const std::string_view> keys, std::span<Field> out) {
    const std::string_view inner = raw_key.substr(1, raw_key.size() - 2);
    std::string decoded;
    std::string_view key = inner;
    if (inner.find('\\') != std::string_view::npos) {
      decoded = unescape(raw_key);
      key = decoded;
    }
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) out[i] = Field{raw_value, kind_of(first)};
    }
  }

  static Kind kind_of(char first) {
    switch (first) {
      case '"': return Kind::kString;
      case '{': return Kind::kObject;
      case '[': return Kind::kArray;
      case 't': return Kind::kTrue;
      case 'f': return Kind::kFalse;
      case 'n': return Kind::kNull;
      default: return Kind::kNumber;
    }
  }

  bool array(int depth, std::vector<Field>* elements = nullptr) {
    if (depth >= options_.max_depth) return set_error("nesting is too deep");
    ++pos_;  // '['
    skip_ws();
    if (peek() == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      skip_ws();
      const size_t value_begin = pos_;
      const char first = peek();
      if (depth == 0 && element_fields_ != nullptr) {
        // One element's fields: keys.size() slots, filled when the element is an object.
        const size_t at = element_fields_->size();
        element_fields_->resize(at + element_keys_.size());
        if (first == '{') {
          if (!object(depth + 1, element_keys_, std::span(*element_fields_).subspan(at))) return false;
        } else if (!value(depth + 1)) {
          return false;
        }
      } else if (!value(depth + 1)) {
        return false;
      }
      if (elements != nullptr) elements->push_back(Field{s_.substr(value_begin, pos_ - value_begin), kind_of(first)});
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return true;
      }
      return set_error("expected ',' or ']' in an array");
    }
  }

  static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  bool string() {
    ++pos_;  // opening quote
    while (pos_ < s_.size()) {
      pos_ = skip_plain(s_, pos_);
      if (pos_ >= s_.size()) break;
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return set_error("control character inside a string (escape it)");
      if (c == '\\') {
        ++pos_;
        if (at_end()) break;
        const char e = s_[pos_];
        if (e == 'u') {
          for (int i = 1; i <= 4; ++i) {
            if (pos_ + i >= s_.size() || !is_hex(s_[pos_ + i])) {
              return set_error("invalid \\u escape in a string");
            }
          }
          pos_ += 4;
        } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' &&
                   e != 'r' && e != 't') {
          return set_error("invalid escape in a string");
        }
      }
      ++pos_;
    }
    return set_error("unterminated string");
  }

  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return set_error("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool digits() {
    const size_t begin = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    return pos_ > begin;
  }

  bool number() {
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (!digits()) {
      return set_error("expected a value");
    }
    if (peek() == '.') {
      ++pos_;
      if (!digits()) return set_error("expected digits after '.' in a number");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!digits()) return set_error("expected digits in a number's exponent");
    }
    return true;
  }

  std::string_view s_;
  ScanOptions options_;
  size_t pos_ = 0;
  std::vector<Member>* members_ = nullptr;
  std::span<const std::string_view> element_keys_;
  std::vector<Field>* element_fields_ = nullptr;
  std::optional<Error> error_;  // built only on failure: most scans succeed
};

void append_utf8(std::string& out, unsigned cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

unsigned hex4(std::string_view s) {
  unsigned v = 0;
  for (const char c : s) {
    v <<= 4;
    if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
  }
  return v;
}

}  // namespace

Result<bool> scan_object(std::string_view text, std::span<const std::string_view> keys,
                         std::span<Field> out, ScanOptions options) {
  for (auto& f : out) f = Field{};
  return Scanner(text, options).top_object(keys, out);
}

Result<bool> scan_object(std::string_view text, std::span<const std::string_view> keys,
                         std::span<Field> out, std::vector<Member>& members, ScanOptions options) {
  for (auto& f : out) f = Field{};
  members.clear();
  return Scanner(text, options).top_object(keys, out, &members);
}

Result<bool> scan_array(std::string_view text, std::vector<Field>& elements, ScanOptions options) {
  elements.clear();
  return Scanner(text, options).top_array(elements);
}

Result<bool> scan_elements(std::string_view text, std::span<const std::string_view> keys, std::vector<Field>& out,
                           ScanOptions options) {
  out.clear();
  return Scanner(text, options).top_elements(keys, out);
}

Result<bool> validate(std::string_view text, ScanOptions options) {
  return Scanner(text, options).any_value();
}

void append_unescaped(std::string& out, std::string_view raw) {
  if (raw.size() < 2 || raw.front() != '"' || raw.back() != '"') return;
  const std::string_view s = raw.substr(1, raw.size() - 2);
  out.reserve(out.size() + s.size());
  size_t i = 0;
  while (i < s.size()) {
    const size_t escape = s.find('\\', i);
    if (escape == std::string_view::npos || escape + 1 >= s.size()) {  // the rest as it is
      out.append(s.substr(i));
      return;
    }
    out.append(s.data() + i, escape - i);  // up to the escape in one append
    i = escape + 1;                        // its letter
    switch (const char e = s[i]) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        if (i + 4 >= s.size()) return;
        unsigned cp = hex4(s.substr(i + 1, 4));
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < s.size() && s[i + 1] == '\\' &&
            s[i + 2] == 'u') {
          const unsigned lo = hex4(s.substr(i + 3, 4));
          if (lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
          }
        }
        append_utf8(out, cp);
        break;
      }
      default: out += e; break;
    }
    ++i;
  }
}

std::string unescape(std::string_view raw) {
  std::string out;
  append_unescaped(out, raw);
  return out;
}

namespace {

// JSON string escaping, shared by append_quoted and write_quoted: put(data, size) takes the
// literal piece by piece. Runs that need no escape go in whole: most strings are one run.
// skip_plain leaves up to 7 bytes before a special byte or the end; they are looked at here.
template <class Put>
void quote(std::string_view s, Put&& put) {
  static constexpr char kHex[] = "0123456789abcdef";
  put("\"", 1);
  size_t run = 0;
  for (size_t i = skip_plain(s, 0); i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    put(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': put("\\\"", 2); break;
      case '\\': put("\\\\", 2); break;
      case '\n': put("\\n", 2); break;
      case '\r': put("\\r", 2); break;
      case '\t': put("\\t", 2); break;
      default: {
        const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        put(escape, sizeof escape);
      }
    }
    i = skip_plain(s, i + 1) - 1;  // the next long run at full speed
  }
  put(s.data() + run, s.size() - run);
  put("\"", 1);
}

}  // namespace

void append_quoted(std::string& out, std::string_view s) {
  quote(s, [&out](const char* p, size_t n) { out.append(p, n); });
}

char* write_quoted(char* out, std::string_view s) {
  quote(s, [&out](const char* p, size_t n) {
    std::memcpy(out, p, n);
    out += n;
  });
  return out;
}

}  // namespace sy::json
