#include "config/config.h"

#include <gtest/gtest.h>

#include <map>

namespace sy::config {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Config, DefaultsWithoutFile) {
  auto c = parse("", "built-in defaults", env_of({}));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "127.0.0.1");
  EXPECT_EQ(c->port, 8080);
  EXPECT_TRUE(c->demo);
  EXPECT_EQ(c->database, "switchyard.db");
  EXPECT_TRUE(c->providers.empty());
  EXPECT_EQ(c->limits.header_bytes, 16u * 1024);
  EXPECT_EQ(c->limits.body_bytes, 32u * 1024 * 1024);
}

TEST(Config, FullFileWithEnvExpansion) {
  auto c = parse(R"(
listen: 0.0.0.0:9090
workers: 3
limits: {body_bytes: 2048, read_timeout_ms: 500}
providers:
  - name: local
    kind: openai
    base_url: http://127.0.0.1:${MOCK_PORT:-9000}/v1
    api_key: ${LOCAL_KEY}
    models: [a, {id: b, input_per_mtok: 1.5, output_per_mtok: 2}]
)", "test.yaml", env_of({{"LOCAL_KEY", "sk-1"}, {"MOCK_PORT", "9100"}}));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->host, "0.0.0.0");
  EXPECT_EQ(c->port, 9090);
  EXPECT_EQ(c->workers, 3);
  EXPECT_EQ(c->limits.body_bytes, 2048u);
  ASSERT_EQ(c->providers.size(), 1u);
  EXPECT_EQ(c->providers[0].base_url, "http://127.0.0.1:9100/v1");
  EXPECT_EQ(c->providers[0].api_key, "sk-1");
  ASSERT_EQ(c->providers[0].models.size(), 2u);
  EXPECT_DOUBLE_EQ(c->providers[0].models[1].input_per_mtok, 1.5);
}

TEST(Config, RoutersKeysAndAdminKey) {
  auto c = parse(R"(
admin_key: ${ADMIN}
api_keys: [sk-a, '${GW_KEY}']
routers:
  user-aware:
    displayName: User Aware
    routes:
      - condition: {cel_expression: 'language == "es"'}
        route: {variants: [{variant: {modelId: demo/smart}, weight: 100}]}
    defaultRoute:
      variants: [{variant: {modelId: demo/fast}, weight: 1.5}, {variant: {modelId: demo/cheap, name: '007'}, weight: 0}]
    failover: {hedge: true, maxAttempts: ~}
)", "test.yaml", env_of({{"ADMIN", "adm-1"}, {"GW_KEY", "sk-b"}}));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->admin_key, "adm-1");
  EXPECT_EQ(c->api_keys, (std::vector<std::string>{"sk-a", "sk-b"}));
  ASSERT_EQ(c->routers.size(), 1u);
  EXPECT_EQ(c->routers[0].name, "user-aware");
  EXPECT_EQ(c->routers[0].json,
            R"({"displayName":"User Aware","routes":[{"condition":{"cel_expression":"language == \"es\""},)"
            R"("route":{"variants":[{"variant":{"modelId":"demo/smart"},"weight":100}]}}],)"
            R"("defaultRoute":{"variants":[{"variant":{"modelId":"demo/fast"},"weight":1.5},)"
            R"({"variant":{"modelId":"demo/cheap","name":"007"},"weight":0}]},"failover":{"hedge":true,"maxAttempts":null}})");
  auto env = parse("", "x", env_of({{"SWITCHYARD_ADMIN_KEY", "adm-2"}, {"SWITCHYARD_API_KEYS", "k1,,k2"}}));
  ASSERT_TRUE(env);
  EXPECT_EQ(env->admin_key, "adm-2");
  EXPECT_EQ(env->api_keys, (std::vector<std::string>{"k1", "k2"}));
  EXPECT_FALSE(parse("routers: [a]", "x", env_of({})));
}

TEST(Config, YamlToJson) {
  auto j = yaml_to_json("{a: 1, b: -0.5, c: 010, d: '1', e: yes, f: [x, null, 1e3], g: .5}", "f.yaml");
  ASSERT_TRUE(j);
  EXPECT_EQ(*j, R"({"a":1,"b":-0.5,"c":"010","d":"1","e":"yes","f":["x",null,1e3],"g":".5"})");
  auto bad = yaml_to_json("a: [1", "f.yaml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("f.yaml: line"), std::string::npos);
}

TEST(Config, UnsetKeyTurnsProviderOff) {
  auto c = parse("providers: [{name: openai, base_url: 'https://api.openai.com/v1', api_key: '${OPENAI_API_KEY}', models: '*'}]",
                 "t.yaml", env_of({}));
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->providers.empty());
  ASSERT_EQ(c->notes.size(), 1u);
  EXPECT_NE(c->notes[0].find("OPENAI_API_KEY"), std::string::npos);
}

TEST(Config, OpenAiKeyInEnvironmentTurnsProviderOn) {
  auto c = parse("", "built-in defaults", env_of({{"OPENAI_API_KEY", "sk-x"}, {"SWITCHYARD_LISTEN", "127.0.0.1:0"}}));
  ASSERT_TRUE(c);
  ASSERT_EQ(c->providers.size(), 1u);
  EXPECT_EQ(c->providers[0].name, "openai");
  EXPECT_TRUE(c->providers[0].any_model);
  EXPECT_EQ(c->port, 0);
}

TEST(Config, PresetsAndTheirKeys) {
  auto c = parse("providers: [{name: g, kind: groq, api_key: k}]\n", "t.yaml",
                 env_of({{"MISTRAL_API_KEY", "m-1"}, {"MISTRAL_BASE_URL", "http://127.0.0.1:9/v1"}, {"GROQ_API_KEY", "g-2"}}));
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->providers.size(), 3u);  // g from the file; groq and mistral from their keys
  EXPECT_EQ(c->providers[0].base_url, "https://api.groq.com/openai/v1");
  EXPECT_EQ(c->providers[1].name, "groq");
  EXPECT_EQ(c->providers[1].api_key, "g-2");
  EXPECT_EQ(c->providers[2].name, "mistral");
  EXPECT_EQ(c->providers[2].base_url, "http://127.0.0.1:9/v1");
  EXPECT_TRUE(c->providers[2].any_model);
  auto bad = parse("providers: [{name: x, kind: grok, base_url: 'http://a/v1'}]\n", "t.yaml", env_of({}));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("kind 'grok' is not supported (supported: openai, anthropic, gemini, deepseek, groq"), std::string::npos)
      << bad.error().message;
  EXPECT_FALSE(parse("providers: [{name: x, kind: openai}]\n", "t.yaml", env_of({})));  // any endpoint: say which
  auto openai = parse("providers: [{name: openai, api_key: k}]\n", "t.yaml", env_of({}));
  ASSERT_TRUE(openai);
  EXPECT_EQ(openai->providers[0].base_url, "https://api.openai.com/v1");
}

TEST(Config, GeminiIsTheCatalogsGoogle) {
  // The key alone: a provider named as the catalog names Gemini's models ("google/...").
  auto env_only = parse("", "built-in defaults", env_of({{"GEMINI_API_KEY", "AIza-1"}}));
  ASSERT_TRUE(env_only) << env_only.error().message;
  ASSERT_EQ(env_only->providers.size(), 1u);
  EXPECT_EQ(env_only->providers[0].name, "google");
  EXPECT_EQ(env_only->providers[0].kind, "gemini");
  EXPECT_EQ(env_only->providers[0].base_url, "https://generativelanguage.googleapis.com/v1beta");
  EXPECT_EQ(env_only->providers[0].api_key, "AIza-1");
  EXPECT_TRUE(env_only->providers[0].any_model);
  auto moved = parse("", "built-in defaults", env_of({{"GEMINI_API_KEY", "k"}, {"GEMINI_BASE_URL", "http://127.0.0.1:9/v1beta"}}));
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->providers[0].base_url, "http://127.0.0.1:9/v1beta");
  // Declared in the file under that name, the key does not add a second one.
  auto file = parse("providers: [{name: google, kind: gemini, api_key: '${GEMINI_API_KEY}'}]\n", "t.yaml",
                    env_of({{"GEMINI_API_KEY", "AIza-2"}}));
  ASSERT_TRUE(file) << file.error().message;
  ASSERT_EQ(file->providers.size(), 1u);
  EXPECT_EQ(file->providers[0].kind, "gemini");
  EXPECT_EQ(file->providers[0].base_url, "https://generativelanguage.googleapis.com/v1beta");
  EXPECT_EQ(file->providers[0].api_key, "AIza-2");
}

TEST(Config, ErrorsNameTheProblem) {
  auto typo = parse("lisen: 1", "t.yaml", env_of({}));
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("unknown key 'lisen'"), std::string::npos);
  auto kind = parse("providers: [{name: x, kind: soap, base_url: 'http://a', models: '*'}]", "t.yaml", env_of({}));
  ASSERT_FALSE(kind);
  EXPECT_NE(kind.error().message.find("providers[0]"), std::string::npos);
  auto yaml = parse("listen: [", "t.yaml", env_of({}));
  ASSERT_FALSE(yaml);
  EXPECT_NE(yaml.error().message.find("t.yaml: line"), std::string::npos);
  auto port = parse("listen: 'x:99999'", "t.yaml", env_of({}));
  ASSERT_FALSE(port);
}

TEST(Config, CircuitBreaker) {
  auto c = parse("circuit_breaker: {failures: 3, error_rate: 0.25, min_requests: 8, window_ms: 5000, cooldown_ms: 700}",
                 "t.yaml", env_of({}));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->circuit_breaker.failures, 3);
  EXPECT_DOUBLE_EQ(c->circuit_breaker.error_rate, 0.25);
  EXPECT_EQ(c->circuit_breaker.min_requests, 8);
  EXPECT_EQ(c->circuit_breaker.window.count(), 5000);
  EXPECT_EQ(c->circuit_breaker.cooldown.count(), 700);
  auto rate = parse("circuit_breaker: {error_rate: 2}", "t.yaml", env_of({}));
  ASSERT_FALSE(rate);
  EXPECT_NE(rate.error().message.find("circuit_breaker.error_rate"), std::string::npos) << rate.error().message;
  auto typo = parse("circuit_breaker: {failure: 3}", "t.yaml", env_of({}));
  ASSERT_FALSE(typo);
}

TEST(Config, RequestLogQueueAndPriority) {
  auto defaults = parse("demo: true", "t.yaml", env_of({}));
  ASSERT_TRUE(defaults) << defaults.error().message;
  EXPECT_EQ(defaults->log.queue, 8192u);
  EXPECT_TRUE(defaults->log.idle_priority);
  auto c = parse("log: {queue: 64, idle_priority: false}", "t.yaml", env_of({}));
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->log.queue, 64u);
  EXPECT_FALSE(c->log.idle_priority);
  auto typo = parse("log: {idle_prio: false}", "t.yaml", env_of({}));
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("idle_priority"), std::string::npos) << typo.error().message;
}

}  // namespace
}  // namespace sy::config
