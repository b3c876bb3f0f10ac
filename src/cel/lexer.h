#pragma once
// Lexer: CEL source text to tokens, one at a time, with literals already decoded.
//
//   Lexer lx("size(x) > 2u");
//   for (Token t = lx.next(); t.kind != Tok::kEof; t = lx.next()) ...
//   // an invalid input yields Tok::kError with t.text holding the message

#include <cstdint>
#include <string>
#include <string_view>

namespace sy::cel {

enum class Tok : uint8_t {
  kEof,
  kError,
  kIdent,
  kQuotedIdent,  // `a-b`
  kInt,          // magnitude in u, `overflow` when above UINT64_MAX
  kUint,
  kDouble,
  kString,
  kBytes,
  kTrue,
  kFalse,
  kNull,
  kIn,
  kLParen, kRParen, kLBracket, kRBracket, kLBrace, kRBrace,
  kDot, kComma, kColon, kQuestion,
  kPlus, kMinus, kStar, kSlash, kPercent,
  kEq, kNe, kLt, kLe, kGt, kGe,
  kAnd, kOr, kNot,
};

struct Token {
  Tok kind = Tok::kEof;
  uint32_t offset = 0;
  std::string text;  // identifier, decoded string/bytes contents, or the error message
  uint64_t u = 0;
  double d = 0;
  bool overflow = false;
};

class Lexer {
 public:
  explicit Lexer(std::string_view src) : s_(src) {}
  Token next();

 private:
  Token number();
  Token quoted(bool raw, bool bytes, size_t start);
  bool escape(std::string& out, bool bytes, std::string& err);
  char peek(size_t k = 0) const { return pos_ + k < s_.size() ? s_[pos_ + k] : '\0'; }

  std::string_view s_;
  size_t pos_ = 0;
};

bool is_reserved_word(std::string_view id);

}  // namespace sy::cel
