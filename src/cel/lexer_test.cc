#include "cel/lexer.h"

#include <gtest/gtest.h>

namespace sy::cel {
namespace {

std::vector<Token> lex(std::string_view s) {
  Lexer lx(s);
  std::vector<Token> out;
  for (;;) {
    Token t = lx.next();
    out.push_back(t);
    if (t.kind == Tok::kEof || t.kind == Tok::kError) return out;
  }
}

TEST(Lexer, OperatorsAndOffsets) {
  auto t = lex("a <= 1 && b != 'x' // comment\n|| !c");
  ASSERT_EQ(t.size(), 11u);
  EXPECT_EQ(t[0].kind, Tok::kIdent);
  EXPECT_EQ(t[1].kind, Tok::kLe);
  EXPECT_EQ(t[1].offset, 2u);
  EXPECT_EQ(t[3].kind, Tok::kAnd);
  EXPECT_EQ(t[5].kind, Tok::kNe);
  EXPECT_EQ(t[7].kind, Tok::kOr);
  EXPECT_EQ(t[8].kind, Tok::kNot);
}

TEST(Lexer, Numbers) {
  auto t = lex("42 0x1F 7u 0xFFu 1.5 1e3 .5 18446744073709551616");
  EXPECT_EQ(t[0].u, 42u);
  EXPECT_EQ(t[1].u, 31u);
  EXPECT_EQ(t[2].kind, Tok::kUint);
  EXPECT_EQ(t[3].kind, Tok::kUint);
  EXPECT_EQ(t[3].u, 255u);
  EXPECT_DOUBLE_EQ(t[4].d, 1.5);
  EXPECT_DOUBLE_EQ(t[5].d, 1000);
  EXPECT_DOUBLE_EQ(t[6].d, 0.5);
  EXPECT_TRUE(t[7].overflow);
}

TEST(Lexer, StringEscapesRawAndTriple) {
  auto t = lex(R"('a\n\x41\101\u00e9\U0001F600' r'\n' """x"y""" b'\xff')");
  EXPECT_EQ(t[0].text, "a\nAA\xC3\xA9\xF0\x9F\x98\x80");
  EXPECT_EQ(t[1].text, "\\n");
  EXPECT_EQ(t[2].text, "x\"y");
  EXPECT_EQ(t[3].kind, Tok::kBytes);
  EXPECT_EQ(t[3].text, "\xff");
}

TEST(Lexer, Errors) {
  EXPECT_EQ(lex("'abc").back().kind, Tok::kError);
  EXPECT_EQ(lex("'\\q'").back().kind, Tok::kError);
  EXPECT_EQ(lex("'\\udead'").back().kind, Tok::kError);
  EXPECT_EQ(lex("'a\nb'").back().kind, Tok::kError);
  EXPECT_EQ(lex("1 $ 2").back().kind, Tok::kError);
  EXPECT_EQ(lex("1 $ 2").back().offset, 2u);
}

TEST(Lexer, ReservedWords) {
  EXPECT_TRUE(is_reserved_word("while"));
  EXPECT_FALSE(is_reserved_word("language"));
}

}  // namespace
}  // namespace sy::cel
