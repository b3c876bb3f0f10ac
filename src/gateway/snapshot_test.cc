#include <gtest/gtest.h>

#include "gateway/snapshot.h"

namespace sy::gateway {
namespace {

std::shared_ptr<const Snapshot> build(const std::string& yaml) {
  auto cfg = config::parse(yaml, "test.yaml", [](const std::string&) { return std::optional<std::string>(); });
  EXPECT_TRUE(cfg) << (cfg ? "" : cfg.error().message);
  auto snap = Snapshot::build(*cfg, "");
  EXPECT_TRUE(snap) << (snap ? "" : snap.error().message);
  return *snap;
}

TEST(Snapshot, ProvidersTheCatalogKnowsGetItsModelsAndPrices) {
  const auto snap = build(R"(demo: false
providers:
  - {name: anthropic, kind: openai, base_url: 'http://127.0.0.1:1/v1'}
  - {name: openai, base_url: 'http://127.0.0.1:1/v1', models: [gpt-4o, {id: gpt-4.1, input_per_mtok: 9, output_per_mtok: 9}, my-finetune]}
)");
  const catalog::Model* sonnet = snap->catalog().find("anthropic/claude-sonnet-4-6");
  ASSERT_NE(sonnet, nullptr);
  EXPECT_DOUBLE_EQ(sonnet->input_per_mtok, 3);
  EXPECT_DOUBLE_EQ(sonnet->cache_read_per_mtok, 0.3);
  // A dated alias resolves, with its own upstream name, and is not listed.
  const catalog::Model* dated = snap->catalog().find("anthropic/claude-haiku-4-5-20251001");
  ASSERT_NE(dated, nullptr);
  EXPECT_EQ(dated->upstream_quoted, "\"claude-haiku-4-5-20251001\"");
  EXPECT_EQ(snap->models_json().find("claude-haiku-4-5-20251001"), std::string::npos);
  EXPECT_NE(snap->models_json().find(R"("id":"anthropic/claude-haiku-4-5")"), std::string::npos);
  // A model list restricts a known provider to it: catalog prices, unless the file sets them.
  EXPECT_DOUBLE_EQ(snap->catalog().find("openai/gpt-4o")->input_per_mtok, 2.5);
  EXPECT_GT(snap->catalog().find("openai/gpt-4o")->context_tokens, 0);
  EXPECT_DOUBLE_EQ(snap->catalog().find("openai/gpt-4.1")->input_per_mtok, 9);
  EXPECT_NE(snap->catalog().find("openai/my-finetune"), nullptr);
  EXPECT_EQ(snap->catalog().find("openai/gpt-4o-mini"), nullptr);
  // Unknown models get the nearest ids.
  std::string a, b;
  auto miss = snap->resolve("anthropic/claude-sonet-4-6", a, b);
  ASSERT_FALSE(miss);
  EXPECT_NE(miss.error().message.find("Did you mean 'anthropic/claude-sonnet-4-6'"), std::string::npos) << miss.error().message;
}

TEST(Snapshot, ModelsListTheProvidersConfiguredOnly) {
  const auto snap = build("demo: false\nproviders: [{name: local, base_url: 'http://127.0.0.1:1/v1', models: [a]}]\n");
  EXPECT_EQ(snap->models_json(),
            R"({"object":"list","data":[{"id":"local/a","object":"model","created":0,"owned_by":"local","pricing":{"input_per_mtok":0,"output_per_mtok":0}}]})");
}

TEST(Snapshot, APresetNamedOtherwiseGetsItsKindsCatalog) {
  const auto snap = build("demo: false\nproviders: [{name: fast-llama, kind: groq, api_key: k}]\n");
  const auto& models = snap->catalog().models();
  ASSERT_FALSE(models.empty());
  EXPECT_EQ(models.front().provider, "fast-llama");
  EXPECT_TRUE(models.front().id.starts_with("fast-llama/")) << models.front().id;
  EXPECT_EQ(snap->providers().front()->url().host, "api.groq.com");
  EXPECT_EQ(snap->providers().front()->kind(), "groq");
}

TEST(Snapshot, AProviderTheCatalogDoesNotKnowNeedsModels) {
  auto cfg = config::parse("demo: false\nproviders: [{name: local, base_url: 'http://127.0.0.1:1/v1'}]\n", "t.yaml",
                           [](const std::string&) { return std::optional<std::string>(); });
  ASSERT_TRUE(cfg);
  auto snap = Snapshot::build(*cfg, "");
  ASSERT_FALSE(snap);
  EXPECT_NE(snap.error().message.find("provider 'local' needs models"), std::string::npos) << snap.error().message;
  EXPECT_NE(snap.error().message.find("anthropic"), std::string::npos) << snap.error().message;
}

}  // namespace
}  // namespace sy::gateway
