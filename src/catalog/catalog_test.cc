#include "catalog/catalog.h"

#include <gtest/gtest.h>

#include <algorithm>

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

TEST(Catalog, ShipsAtLeast220PricedModelsFrom10Providers) {
  size_t models = 0;
  size_t providers = 0;
  for (const auto& [name, n] : builtin_providers()) {
    models += n;
    providers += n > 0;
  }
  EXPECT_GE(models, 220u);
  EXPECT_GE(providers, 10u);
  const auto anthropic = builtin_models("anthropic");
  auto sonnet = std::find_if(anthropic.begin(), anthropic.end(), [](const Model& m) { return m.id == "anthropic/claude-sonnet-4-6"; });
  ASSERT_NE(sonnet, anthropic.end());
  EXPECT_DOUBLE_EQ(sonnet->input_per_mtok, 3);
  EXPECT_DOUBLE_EQ(sonnet->output_per_mtok, 15);
  EXPECT_DOUBLE_EQ(sonnet->cache_read_per_mtok, 0.3);
  EXPECT_DOUBLE_EQ(sonnet->cache_write_per_mtok, 3.75);
  EXPECT_GT(sonnet->context_tokens, 100'000);
  EXPECT_TRUE(sonnet->capabilities & kTools);
  EXPECT_TRUE(sonnet->capabilities & kCaching);
  // A dated snapshot is an alias: its own upstream name, the same prices, not listed.
  auto dated = std::find_if(anthropic.begin(), anthropic.end(),
                            [](const Model& m) { return m.id == "anthropic/claude-haiku-4-5-20251001"; });
  ASSERT_NE(dated, anthropic.end());
  EXPECT_TRUE(dated->alias);
  EXPECT_EQ(dated->upstream_id, "claude-haiku-4-5-20251001");
  EXPECT_DOUBLE_EQ(dated->input_per_mtok, 1);
  EXPECT_TRUE(builtin_models("nobody").empty());
  EXPECT_FALSE(builtin_models("google").empty());
}

TEST(Catalog, FirstDefinitionWins) {
  Catalog c;
  c.add({.id = "openai/gpt-4o", .provider = "openai", .upstream_id = "gpt-4o", .input_per_mtok = 9});
  c.add({.id = "openai/gpt-4o", .provider = "openai", .upstream_id = "gpt-4o", .input_per_mtok = 2.5});
  EXPECT_EQ(c.models().size(), 1u);
  EXPECT_DOUBLE_EQ(c.find("openai/gpt-4o")->input_per_mtok, 9);
}

}  // namespace
}  // namespace sy::catalog
