#include "catalog/catalog.h"

#include <gtest/gtest.h>

namespace sy::catalog {
namespace {

Catalog sample() {
  Catalog c;
  c.add({.id = "demo/fast", .provider = "demo", .upstream_id = "fast"});
  c.add({.id = "demo/smart", .provider = "demo", .upstream_id = "smart"});
  c.add({.id = "openai/gpt-4o", .provider = "openai", .upstream_id = "gpt-4o"});
  c.add({.id = "azure/gpt-4o", .provider = "azure", .upstream_id = "gpt-4o"});
  return c;
}

TEST(Catalog, FindsByIdAndUniqueBareName) {
  const Catalog c = sample();
  ASSERT_NE(c.find("demo/fast"), nullptr);
  EXPECT_EQ(c.find("demo/fast")->upstream_quoted, "\"fast\"");
  EXPECT_EQ(c.find("smart")->id, "demo/smart");
  EXPECT_EQ(c.find("gpt-4o"), nullptr);  // two providers offer it: ambiguous
  EXPECT_EQ(c.find("nope"), nullptr);
}

TEST(Catalog, SuggestsNearIds) {
  const Catalog c = sample();
  auto s = c.suggest("demo/fats");
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s[0], "demo/fast");
}

}  // namespace
}  // namespace sy::catalog
