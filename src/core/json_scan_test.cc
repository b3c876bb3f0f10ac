#include "core/json_scan.h"

#include <gtest/gtest.h>

#include <array>

namespace sy::json {
namespace {

constexpr std::array<std::string_view, 3> kKeys{"model", "stream", "messages"};

TEST(JsonScan, FindsTopLevelFieldsOnly) {
  const std::string_view body =
      R"({"messages":[{"role":"user","model":"inner"}], "model" : "gpt-4o", "stream":true})";
  std::array<Field, 3> out;
  ASSERT_TRUE(scan_object(body, kKeys, out));
  EXPECT_EQ(out[0].raw, "\"gpt-4o\"");
  EXPECT_EQ(out[0].kind, Kind::kString);
  EXPECT_EQ(body.substr(out[0].offset_in(body), out[0].raw.size()), "\"gpt-4o\"");
  EXPECT_EQ(out[1].kind, Kind::kTrue);
  EXPECT_EQ(out[2].kind, Kind::kArray);
}

TEST(JsonScan, MissingFieldsAreMarked) {
  std::array<Field, 3> out;
  ASSERT_TRUE(scan_object(R"({"a":1})", kKeys, out));
  EXPECT_FALSE(out[0].present());
}

TEST(JsonScan, EscapedKeyMatches) {
  std::array<Field, 3> out;
  ASSERT_TRUE(scan_object(R"({"mod\u0065l":"x"})", kKeys, out));
  EXPECT_EQ(out[0].raw, "\"x\"");
}

TEST(JsonScan, LastDuplicateWins) {
  std::array<Field, 3> out;
  ASSERT_TRUE(scan_object(R"({"model":"a","model":"b"})", kKeys, out));
  EXPECT_EQ(out[0].raw, "\"b\"");
}

TEST(JsonScan, RejectsMalformedWithPosition) {
  std::array<Field, 3> out;
  for (std::string_view bad : {"", "[]", "{", R"({"a":})", R"({"a":1,})", R"({"a":01})",
                               R"({"a":"\x"})", "{\"a\":\"\n\"}", R"({"a":1} x)", R"({a:1})",
                               R"({"a":tru})", R"({"a":-})", R"({"a":1.})", R"({"a":"\u12"})"}) {
    auto r = scan_object(bad, kKeys, out);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidRequest);
      EXPECT_NE(r.error().message.find("invalid JSON at byte"), std::string::npos);
    }
  }
}

TEST(JsonScan, DepthIsLimited) {
  std::string deep = "{\"a\":";
  for (int i = 0; i < 10000; ++i) deep += '[';
  std::array<Field, 3> out;
  auto r = scan_object(deep, kKeys, out);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("too deep"), std::string::npos);
}

TEST(JsonScan, ValidateAnyValue) {
  EXPECT_TRUE(validate(R"( [1, -2.5e+3, "x", null, {"k": [true, false]}] )"));
  EXPECT_FALSE(validate("[1 2]"));
}

TEST(JsonUnescape, DecodesEscapesAndSurrogates) {
  EXPECT_EQ(unescape(R"("a\"b\\c\n")"), "a\"b\\c\n");
  EXPECT_EQ(unescape(R"("\u00e9")"), "\xC3\xA9");
  EXPECT_EQ(unescape(R"("\ud83d\ude00")"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(unescape("x"), "");
}

TEST(JsonUnescape, AppendsRunsAndEscapes) {
  std::string out = "x";
  append_unescaped(out, R"("ab\ncd\\")");
  EXPECT_EQ(out, "xab\ncd\\");
  EXPECT_EQ(unescape(R"("\tlead")"), "\tlead");
  EXPECT_EQ(unescape(R"("trail\")"), "trail\\");  // a lone backslash at the end stays
  EXPECT_EQ(unescape(R"("\u00e9\u00e9 \/")"), "\xC3\xA9\xC3\xA9 /");
  EXPECT_EQ(unescape(R"("cut \u00")"), "cut ");  // a cut \u escape ends the string
}

TEST(JsonQuote, RoundTrips) {
  std::string out;
  append_quoted(out, "he said \"hi\"\n\x01");
  EXPECT_EQ(out, R"("he said \"hi\"\n\u0001")");
  EXPECT_EQ(unescape(out), "he said \"hi\"\n\x01");
}

// Escapes are written between runs copied whole: at the start, the end, back to back.
TEST(JsonQuote, EscapesBetweenRuns) {
  auto quoted = [](std::string_view s) {
    std::string out = "x";  // appends to what is there
    append_quoted(out, s);
    return out;
  };
  EXPECT_EQ(quoted(""), R"(x"")");
  EXPECT_EQ(quoted("\\"), R"(x"\\")");
  EXPECT_EQ(quoted("\"a\tb\r\n"), R"(x"\"a\tb\r\n")");
  EXPECT_EQ(quoted("\x1f\x1f"), R"(x"\u001f\u001f")");
  EXPECT_EQ(quoted("caf\xC3\xA9 \x7f"), "x\"caf\xC3\xA9 \x7f\"");
  for (size_t at = 0; at < 12; ++at) {
    const std::string s = std::string(at, 'a') + "\"" + std::string(11 - at, 'b');
    EXPECT_EQ(unescape(quoted(s).substr(1)), s) << at;
  }
  // Two escapes at every pair of offsets, across the 16- and 8-byte skips and the tail.
  auto reference = [](std::string_view s) {
    std::string out = "x\"";
    for (const char c : s) {
      if (c == '"') out += "\\\"";
      else if (c == '\x01') out += "\\u0001";
      else out += c;
    }
    return out + '"';
  };
  for (size_t n = 1; n < 40; ++n) {
    for (size_t a = 0; a < n; ++a) {
      for (size_t b = a; b < n; ++b) {
        std::string s(n, 'p');
        s[a] = '"';
        s[b] = '\x01';
        ASSERT_EQ(quoted(s), reference(s)) << n << " " << a << " " << b;
      }
    }
  }
}

// Strings are skipped eight bytes at a time: what ends or breaks a string must be found at
// every offset within such a block, and multi-byte UTF-8 must pass.
TEST(JsonScan, StringSpecialsFoundAtEveryOffset) {
  for (size_t at = 0; at < 20; ++at) {
    const std::string text(at, 'a');
    EXPECT_TRUE(validate("\"" + text + "\"")) << at;
    EXPECT_TRUE(validate("\"" + text + "\\n" + text + "\"")) << at;
    EXPECT_TRUE(validate("\"" + text + "\\\"" + text + "\"")) << at;
    EXPECT_TRUE(validate("\"" + text + "caf\xC3\xA9 \xE2\x9C\x93" + text + "\"")) << at;
    EXPECT_FALSE(validate("\"" + text + "\x01" + text + "\"")) << at;
    EXPECT_FALSE(validate("\"" + text + "\x1F" + text + "\"")) << at;
    EXPECT_FALSE(validate("\"" + text + "\\x" + text + "\"")) << at;
    EXPECT_FALSE(validate("\"" + text)) << at;
  }
  std::array<Field, 1> f;
  constexpr std::array<std::string_view, 1> keys{"b"};
  ASSERT_TRUE(scan_object(R"({"a":"0123456789abcdef","b":"x"})", keys, f));
  EXPECT_EQ(f[0].raw, "\"x\"");
}

TEST(JsonScan, MembersListsTopLevelFieldsOnly) {
  constexpr std::array<std::string_view, 1> keys{"model"};
  std::array<Field, 1> out;
  std::vector<Member> members;
  ASSERT_TRUE(scan_object(R"({"model":"m","meta":{"a":1},"x\u0041":[2]})", keys, out, members));
  EXPECT_EQ(out[0].raw, R"("m")");
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[1].key, R"("meta")");
  EXPECT_EQ(members[1].value.raw, R"({"a":1})");
  EXPECT_EQ(members[2].key, R"("x\u0041")");
  EXPECT_EQ(members[2].value.kind, Kind::kArray);
}

TEST(JsonScan, ElementFieldsInOnePass) {
  constexpr std::array<std::string_view, 2> keys{"role", "content"};
  std::vector<Field> f;
  ASSERT_TRUE(scan_elements(R"([{"role":"user","content":"a","x":{"role":"no"}}, 3, {"content":[1]}])", keys, f));
  ASSERT_EQ(f.size(), 6u);
  EXPECT_EQ(f[0].raw, R"("user")");
  EXPECT_EQ(f[1].raw, R"("a")");
  EXPECT_FALSE(f[2].present());
  EXPECT_FALSE(f[3].present());
  EXPECT_FALSE(f[4].present());
  EXPECT_EQ(f[5].raw, "[1]");
  EXPECT_FALSE(scan_elements(R"([{"role":}])", keys, f));
}

TEST(JsonScan, ArrayElementsAreListedInOrder) {
  std::vector<Field> e;
  ASSERT_TRUE(scan_array(R"( [ {"role":"user"}, "x" ,3,[1],null ] )", e));
  ASSERT_EQ(e.size(), 5u);
  EXPECT_EQ(e[0].raw, R"({"role":"user"})");
  EXPECT_EQ(e[0].kind, Kind::kObject);
  EXPECT_EQ(e[1].raw, R"("x")");
  EXPECT_EQ(e[2].kind, Kind::kNumber);
  EXPECT_EQ(e[3].raw, "[1]");
  EXPECT_EQ(e[4].kind, Kind::kNull);
  ASSERT_TRUE(scan_array("[]", e));
  EXPECT_TRUE(e.empty());
  EXPECT_FALSE(scan_array("[1,]", e));
  EXPECT_FALSE(scan_array("{}", e));
}

}  // namespace
}  // namespace sy::json
