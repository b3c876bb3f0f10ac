#include "core/base64.h"

#include <string>

#include <gtest/gtest.h>

namespace sy {
namespace {

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(base64_decode("Zm9vYg=="), "foob");
  EXPECT_EQ(base64_decode(""), "");
}

TEST(Base64, AppendKeepsWhatIsThere) {
  std::string out = "data:";
  base64_append(out, "hi");
  EXPECT_EQ(out, "data:aGk=");
}

TEST(Base64, RoundTripsEveryByteAndLength) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) {
    bytes += static_cast<char>(i);
  }
  for (size_t length = 0; length <= bytes.size(); ++length) {
    std::string_view input(bytes.data(), length);
    std::string encoded = base64_encode(input);
    ASSERT_EQ(encoded.size() % 4, 0u);
    ASSERT_EQ(base64_decode(encoded), std::string(input)) << length;
    while (!encoded.empty() && encoded.back() == '=') {
      encoded.pop_back();
    }
    ASSERT_EQ(base64_decode(encoded), std::string(input)) << "unpadded " << length;
  }
}

TEST(Base64, UsesTheStandardAlphabet) {
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(base64_decode("+/8="), "\xfb\xff");
  EXPECT_EQ(base64_decode("-_8="), std::nullopt);  // URL alphabet is not accepted
}

TEST(Base64, RejectsBadInput) {
  EXPECT_EQ(base64_decode("Zm9v YmFy"), std::nullopt);  // whitespace
  EXPECT_EQ(base64_decode("Zm9v\nYmFy"), std::nullopt);
  EXPECT_EQ(base64_decode("Zm9*"), std::nullopt);  // not in the alphabet
  EXPECT_EQ(base64_decode("Zm=v"), std::nullopt);  // '=' inside
  EXPECT_EQ(base64_decode("Zg=="), "f");
  EXPECT_EQ(base64_decode("Zg="), std::nullopt);    // padding to a bad length
  EXPECT_EQ(base64_decode("Zg==="), std::nullopt);  // too much padding
  EXPECT_EQ(base64_decode("Z"), std::nullopt);      // no encoding is 1 mod 4
  EXPECT_EQ(base64_decode("Zm9vY"), std::nullopt);
  EXPECT_EQ(base64_decode("===="), std::nullopt);
  EXPECT_EQ(base64_decode(std::string_view("Zm9v\0", 5)), std::nullopt);
}

}  // namespace
}  // namespace sy
