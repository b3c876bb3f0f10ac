#include "http/wire.h"

#include <gtest/gtest.h>

#include <boost/beast/http/fields.hpp>
#include <string>

namespace sy::http {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

TEST(Iequals, MatchesAByteByByteComparisonForEveryBytePairAtEveryPlace) {
  // Every pair of bytes, at each place in names that end within, at, or past an 8-byte step.
  for (const size_t size : {1, 3, 8, 11, 16, 19}) {
    for (size_t at = 0; at < size; ++at) {
      std::string a(size, 'k');
      std::string b(size, 'K');
      for (int x = 0; x < 256; ++x) {
        for (int y = 0; y < 256; ++y) {
          a[at] = static_cast<char>(x);
          b[at] = static_cast<char>(y);
          const bool expected = lower(a[at]) == lower(b[at]);
          ASSERT_EQ(iequals(a, b), expected) << "size " << size << " at " << at << ": " << x
                                             << " vs " << y;
        }
      }
    }
  }
}

TEST(Iequals, DifferentSizesAreNeverEqual) {
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("Host", "host "));
  EXPECT_TRUE(iequals("X-Switchyard-Meta-Plan", "x-switchyard-meta-plan"));
  EXPECT_FALSE(iequals("x-switchyard-meta-plan", "x-switchyard-meta-plam"));
}

TEST(FindHeader, FindsTheFirstOfAnyCaseOrNothing) {
  boost::beast::http::fields fields;
  fields.insert("Host", "example");
  fields.insert("Authorization", "Bearer one");
  fields.insert("authorization", "Bearer two");
  EXPECT_EQ(find_header(fields, "authorization"), "Bearer one");
  EXPECT_EQ(find_header(fields, "HOST"), "example");
  EXPECT_EQ(find_header(fields, "x-api-key"), "");
  EXPECT_EQ(find_header(fields, "hos"), "");
}

}  // namespace
}  // namespace sy::http
