#include <gtest/gtest.h>

#include "gateway/cost.h"

namespace sy::gateway {
namespace {

TEST(Cost, ReadsOpenAiUsage) {
  auto u = read_openai_usage(R"({"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,
      "prompt_tokens_details":{"cached_tokens":1000,"audio_tokens":0}})");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->input, 1200);
  EXPECT_EQ(u->output, 300);
  EXPECT_EQ(u->cache_read, 1000);
  EXPECT_FALSE(read_openai_usage("null"));
  EXPECT_FALSE(read_openai_usage(R"({"input_tokens":3})"));
}

TEST(Cost, ReadsAnthropicUsage) {
  auto u = read_anthropic_usage(R"({"input_tokens":200,"cache_creation_input_tokens":50,"cache_read_input_tokens":1000,"output_tokens":300})");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->input, 1250);  // Anthropic counts cached tokens apart
  EXPECT_EQ(u->cache_read, 1000);
  EXPECT_EQ(u->cache_write, 50);
  EXPECT_EQ(u->output, 300);
}

TEST(Cost, AtProviderRatesWithCacheReads) {
  const catalog::Model m{.input_per_mtok = 3, .output_per_mtok = 15, .cache_read_per_mtok = 0.3, .cache_write_per_mtok = 3.75};
  // 200 plain input at 3, 1000 cached at 0.3, 300 output at 15, per million.
  EXPECT_DOUBLE_EQ(cost_usd(m, {.input = 1200, .output = 300, .cache_read = 1000}), (200 * 3 + 1000 * 0.3 + 300 * 15) / 1e6);
  EXPECT_DOUBLE_EQ(cost_usd(m, {.input = 1000, .output = 0, .cache_write = 1000}), 1000 * 3.75 / 1e6);
  const catalog::Model plain{.input_per_mtok = 0.1, .output_per_mtok = 0.4};
  EXPECT_DOUBLE_EQ(cost_usd(plain, {.input = 100, .output = 10, .cache_read = 50}), (100 * 0.1 + 10 * 0.4) / 1e6);
}

TEST(Cost, FormattedWithoutExponent) {
  EXPECT_EQ(format_cost(0.0000054), "0.0000054");
  EXPECT_EQ(format_cost(0), "0");
  EXPECT_EQ(format_cost(1.5), "1.5");
}

}  // namespace
}  // namespace sy::gateway
