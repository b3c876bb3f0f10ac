#include "cel/lexer.h"

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace sy::cel {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

void append_utf8(std::string& out, uint32_t cp) {
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

Token make(Tok k, size_t off) {
  Token t;
  t.kind = k;
  t.offset = static_cast<uint32_t>(off);
  return t;
}

Token error_at(size_t off, std::string msg) {
  Token t = make(Tok::kError, off);
  t.text = std::move(msg);
  return t;
}

}  // namespace

bool is_reserved_word(std::string_view id) {
  static constexpr std::array<std::string_view, 17> kWords = {
      "as", "break", "const", "continue", "else", "for", "function", "if", "import",
      "let", "loop", "package", "namespace", "return", "var", "void", "while"};
  for (auto w : kWords) {
    if (w == id) return true;
  }
  return false;
}

Token Lexer::next() {
  for (;;) {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' ||
                                s_[pos_] == '\r' || s_[pos_] == '\f')) {
      ++pos_;
    }
    if (peek() == '/' && peek(1) == '/') {
      while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      continue;
    }
    break;
  }
  const size_t start = pos_;
  if (pos_ >= s_.size()) return make(Tok::kEof, start);
  const char c = s_[pos_];
  if (is_digit(c) || (c == '.' && is_digit(peek(1)))) return number();
  if (is_ident_start(c)) {
    // String prefixes: r, b, rb, br in any case.
    size_t k = pos_;
    bool raw = false;
    bool bytes = false;
    while (k < s_.size() && k < pos_ + 2) {
      const char p = s_[k];
      if ((p == 'r' || p == 'R') && !raw) {
        raw = true;
      } else if ((p == 'b' || p == 'B') && !bytes) {
        bytes = true;
      } else {
        break;
      }
      ++k;
    }
    if (k > pos_ && k < s_.size() && (s_[k] == '"' || s_[k] == '\'')) {
      pos_ = k;
      return quoted(raw, bytes, start);
    }
    while (pos_ < s_.size() && is_ident_char(s_[pos_])) ++pos_;
    const std::string_view id = s_.substr(start, pos_ - start);
    if (id == "true") return make(Tok::kTrue, start);
    if (id == "false") return make(Tok::kFalse, start);
    if (id == "null") return make(Tok::kNull, start);
    if (id == "in") return make(Tok::kIn, start);
    Token t = make(Tok::kIdent, start);
    t.text = std::string(id);
    return t;
  }
  if (c == '"' || c == '\'') return quoted(false, false, start);
  if (c == '`') {
    ++pos_;
    while (pos_ < s_.size() && s_[pos_] != '`') {
      const char q = s_[pos_];
      if (!is_ident_char(q) && q != '.' && q != '-' && q != '/' && q != ' ') {
        return error_at(start, "invalid character in quoted identifier");
      }
      ++pos_;
    }
    if (pos_ >= s_.size()) return error_at(start, "unterminated quoted identifier");
    ++pos_;
    Token t = make(Tok::kQuotedIdent, start);
    t.text = std::string(s_.substr(start + 1, pos_ - start - 2));
    if (t.text.empty()) return error_at(start, "empty quoted identifier");
    return t;
  }
  ++pos_;
  auto two = [&](char second, Tok yes, Tok no) {
    if (peek() == second) {
      ++pos_;
      return make(yes, start);
    }
    return make(no, start);
  };
  switch (c) {
    case '(': return make(Tok::kLParen, start);
    case ')': return make(Tok::kRParen, start);
    case '[': return make(Tok::kLBracket, start);
    case ']': return make(Tok::kRBracket, start);
    case '{': return make(Tok::kLBrace, start);
    case '}': return make(Tok::kRBrace, start);
    case '.': return make(Tok::kDot, start);
    case ',': return make(Tok::kComma, start);
    case ':': return make(Tok::kColon, start);
    case '?': return make(Tok::kQuestion, start);
    case '+': return make(Tok::kPlus, start);
    case '-': return make(Tok::kMinus, start);
    case '*': return make(Tok::kStar, start);
    case '/': return make(Tok::kSlash, start);
    case '%': return make(Tok::kPercent, start);
    case '=':
      if (peek() == '=') {
        ++pos_;
        return make(Tok::kEq, start);
      }
      break;
    case '!': return two('=', Tok::kNe, Tok::kNot);
    case '<': return two('=', Tok::kLe, Tok::kLt);
    case '>': return two('=', Tok::kGe, Tok::kGt);
    case '&':
      if (peek() == '&') {
        ++pos_;
        return make(Tok::kAnd, start);
      }
      break;
    case '|':
      if (peek() == '|') {
        ++pos_;
        return make(Tok::kOr, start);
      }
      break;
    default: break;
  }
  return error_at(start, std::string("unexpected character '") + c + "'");
}

Token Lexer::number() {
  const size_t start = pos_;
  if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X')) {
    pos_ += 2;
    const size_t digits = pos_;
    uint64_t v = 0;
    bool overflow = false;
    while (is_hex(peek())) {
      if (v > (UINT64_MAX >> 4)) overflow = true;
      v = (v << 4) | static_cast<uint64_t>(hex_value(peek()));
      ++pos_;
    }
    if (pos_ == digits) return error_at(start, "invalid hex literal");
    Token t = make(Tok::kInt, start);
    if (peek() == 'u' || peek() == 'U') {
      ++pos_;
      t.kind = Tok::kUint;
    }
    t.u = v;
    t.overflow = overflow;
    if (is_ident_char(peek())) return error_at(start, "invalid number literal");
    return t;
  }
  bool is_double = false;
  while (is_digit(peek())) ++pos_;
  if (peek() == '.' && is_digit(peek(1))) {
    is_double = true;
    ++pos_;
    while (is_digit(peek())) ++pos_;
  }
  if ((peek() == 'e' || peek() == 'E') &&
      (is_digit(peek(1)) || ((peek(1) == '+' || peek(1) == '-') && is_digit(peek(2))))) {
    is_double = true;
    pos_ += 2;
    while (is_digit(peek())) ++pos_;
  }
  const std::string text(s_.substr(start, pos_ - start));
  if (is_double) {
    errno = 0;
    const double d = std::strtod(text.c_str(), nullptr);
    if (errno == ERANGE && std::isinf(d)) return error_at(start, "invalid double literal");
    Token t = make(Tok::kDouble, start);
    t.d = d;
    if (is_ident_char(peek()) || peek() == '.') return error_at(start, "invalid number literal");
    return t;
  }
  uint64_t v = 0;
  bool overflow = false;
  for (char ch : text) {
    const auto digit = static_cast<uint64_t>(ch - '0');
    if (v > (UINT64_MAX - digit) / 10) overflow = true;
    v = v * 10 + digit;
  }
  Token t = make(Tok::kInt, start);
  if (peek() == 'u' || peek() == 'U') {
    ++pos_;
    t.kind = Tok::kUint;
  }
  t.u = v;
  t.overflow = overflow;
  if (is_ident_char(peek())) return error_at(start, "invalid number literal");
  return t;
}

bool Lexer::escape(std::string& out, bool bytes, std::string& err) {
  // s_[pos_] is the character after the backslash.
  const char e = peek();
  ++pos_;
  switch (e) {
    case 'a': out += '\a'; return true;
    case 'b': out += '\b'; return true;
    case 'f': out += '\f'; return true;
    case 'n': out += '\n'; return true;
    case 'r': out += '\r'; return true;
    case 't': out += '\t'; return true;
    case 'v': out += '\v'; return true;
    case '\\': out += '\\'; return true;
    case '\'': out += '\''; return true;
    case '"': out += '"'; return true;
    case '`': out += '`'; return true;
    case '?': out += '?'; return true;
    case 'x':
    case 'X': {
      if (!is_hex(peek()) || !is_hex(peek(1))) {
        err = "invalid \\x escape";
        return false;
      }
      const auto v = static_cast<uint32_t>(hex_value(peek()) * 16 + hex_value(peek(1)));
      pos_ += 2;
      if (bytes) {
        out += static_cast<char>(v);
      } else {
        append_utf8(out, v);
      }
      return true;
    }
    case 'u':
    case 'U': {
      if (bytes) {
        err = "\\u escape in bytes literal";
        return false;
      }
      const int n = e == 'u' ? 4 : 8;
      uint32_t v = 0;
      for (int k = 0; k < n; ++k) {
        if (!is_hex(peek())) {
          err = "invalid unicode escape";
          return false;
        }
        v = v * 16 + static_cast<uint32_t>(hex_value(peek()));
        ++pos_;
      }
      if ((v >= 0xD800 && v < 0xE000) || v > 0x10FFFF) {
        err = "invalid unicode code point";
        return false;
      }
      append_utf8(out, v);
      return true;
    }
    default:
      if (e >= '0' && e <= '3' && peek() >= '0' && peek() <= '7' && peek(1) >= '0' && peek(1) <= '7') {
        const auto v = static_cast<uint32_t>((e - '0') * 64 + (peek() - '0') * 8 + (peek(1) - '0'));
        pos_ += 2;
        if (bytes) {
          out += static_cast<char>(v);
        } else {
          append_utf8(out, v);
        }
        return true;
      }
      err = "invalid escape sequence";
      return false;
  }
}

Token Lexer::quoted(bool raw, bool bytes, size_t start) {
  const char q = peek();
  const bool triple = peek(1) == q && peek(2) == q;
  pos_ += triple ? 3 : 1;
  std::string out;
  for (;;) {
    if (pos_ >= s_.size()) return error_at(start, "unterminated string literal");
    const char c = s_[pos_];
    if (c == q && (!triple || (peek(1) == q && peek(2) == q))) {
      pos_ += triple ? 3 : 1;
      break;
    }
    if (!triple && (c == '\n' || c == '\r')) return error_at(start, "newline in string literal");
    if (c == '\\' && !raw) {
      ++pos_;
      std::string err;
      if (!escape(out, bytes, err)) return error_at(start, err);
      continue;
    }
    out += c;
    ++pos_;
  }
  Token t = make(bytes ? Tok::kBytes : Tok::kString, start);
  t.text = std::move(out);
  return t;
}

}  // namespace sy::cel
