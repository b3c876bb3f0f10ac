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

TEST(Snapshot, GeminiProvidersGetTheCatalogsGoogleModels) {
  const auto snap = build(R"(demo: false
providers:
  - {name: google, kind: gemini, api_key: AIza-k}
  - {name: gem, kind: gemini, models: [gemini-2.5-pro]}
)");
  const catalog::Model* flash = snap->catalog().find("google/gemini-2.5-flash");
  ASSERT_NE(flash, nullptr);
  EXPECT_EQ(flash->provider, "google");
  EXPECT_EQ(flash->upstream_quoted, "\"gemini-2.5-flash\"");
  EXPECT_GT(flash->input_per_mtok, 0);
  const catalog::Model* pro = snap->catalog().find("gem/gemini-2.5-pro");  // named otherwise: its own name
  ASSERT_NE(pro, nullptr);
  EXPECT_GT(pro->input_per_mtok, 0);
  EXPECT_EQ(snap->catalog().find("gem/gemini-2.5-flash"), nullptr);

  const auto& p = *snap->providers().front();
  EXPECT_EQ(p.kind(), "gemini");
  EXPECT_EQ(p.protocol(), "gemini");
  EXPECT_EQ(p.url().host, "generativelanguage.googleapis.com");
  std::string storage;
  EXPECT_EQ(p.chat_target("gemini-2.5-flash", false, storage), "/v1beta/models/gemini-2.5-flash:generateContent");
  EXPECT_EQ(p.chat_target("gemini-2.5-flash", true, storage), "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
  EXPECT_EQ(p.chat_target("tunedModels/my-model", false, storage), "/v1beta/tunedModels/my-model:generateContent");
  EXPECT_EQ(p.chat_target("len-6/seed-4", false, storage), "/v1beta/models/len-6/seed-4:generateContent");  // the mock's
  EXPECT_EQ(p.chat_target("x?key=1 2", false, storage), "/v1beta/models/x%3Fkey%3D1%202:generateContent");
  ASSERT_EQ(p.chat_headers().size(), 2u);
  EXPECT_EQ(p.chat_headers()[1].name, "x-goog-api-key");
  EXPECT_EQ(p.chat_headers()[1].value, "AIza-k");
  const http::Header own = p.auth_header("AIza-own", storage);
  EXPECT_EQ(own.name, "x-goog-api-key");
  EXPECT_EQ(own.value, "AIza-own");
  EXPECT_EQ(snap->providers().back()->chat_headers().size(), 1u);  // no key: the client brings one
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
