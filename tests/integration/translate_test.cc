// Translation over real sockets: OpenAI clients reaching Anthropic (and Gemini) models, Anthropic
// clients reaching OpenAI models, through the gateway and the mock upstream's protocols.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fmt/format.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "harness.h"
#include "process.h"

namespace sy::testing {
namespace {

namespace bj = boost::json;
using http::Header;

class Translate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    mock_ = new Process({SY_BINARY, "mock-upstream", "--port", "0", "--api-key", "sk-test"});
    mock_port_ = port_in(mock_->wait_for_line("listening on"));
    ASSERT_GT(mock_port_, 0) << mock_->output();
    config_ = std::filesystem::temp_directory_path() / ("switchyard-tr-" + std::to_string(getpid()) + ".yaml");
    const std::string base = "http://127.0.0.1:" + std::to_string(mock_port_);
    std::ofstream(config_) << "demo: false\n"
                              "database: ':memory:'\n"
                              "providers:\n"
                              "  - {name: gpt, kind: openai, base_url: " << base << "/v1, api_key: sk-test, models: '*'}\n"
                              "  - {name: claude, kind: anthropic, base_url: " << base << "/v1, api_key: sk-test, models: '*'}\n"
                              "  - {name: gemini, kind: gemini, base_url: " << base << "/v1beta, api_key: sk-test, models: '*'}\n"
                              "routers:\n"
                              "  cached:\n"
                              "    autoCache: true\n"
                              "    routes: []\n"
                              "    defaultRoute: {variants: [{variant: {modelId: claude/echo}, weight: 1}]}\n";
    gateway_ = new Process({SY_BINARY, "serve", "--config", config_.string(), "--listen", "127.0.0.1:0", "--workers", "1"});
    port_ = port_in(gateway_->wait_for_line("listening on"));
    ASSERT_GT(port_, 0) << gateway_->output();
  }
  static void TearDownTestSuite() {
    delete gateway_;
    delete mock_;
    std::filesystem::remove(config_);
  }

  static Reply post(std::string_view path, std::string_view body, std::span<const Header> headers = {}) {
    return call(port_, "POST", path, body, headers);
  }
  // The data of each SSE event (and its event name, when `names` is given).
  static std::vector<bj::value> events(std::string_view body, std::vector<std::string>* names = nullptr) {
    std::vector<bj::value> out;
    size_t at = 0;
    while (at < body.size()) {
      size_t end = body.find("\n\n", at);
      if (end == std::string_view::npos) end = body.size();
      std::string_view ev = body.substr(at, end - at);
      at = end + 2;
      std::string name;
      for (size_t line = 0; line < ev.size();) {
        size_t nl = ev.find('\n', line);
        if (nl == std::string_view::npos) nl = ev.size();
        std::string_view l = ev.substr(line, nl - line);
        if (l.starts_with("event: ")) name = l.substr(7);
        if (l.starts_with("data: ") && l != "data: [DONE]") {
          out.push_back(bj::parse(l.substr(6)));
          if (names != nullptr) names->push_back(name);
        }
        line = nl + 1;
      }
    }
    return out;
  }

  static inline Process* mock_ = nullptr;
  static inline Process* gateway_ = nullptr;
  static inline int mock_port_ = 0;
  static inline int port_ = 0;
  static inline std::filesystem::path config_;
};

std::string openai_body(std::string_view model, bool stream, std::string_view extra = "") {
  return fmt::format(R"({{"model":"{}","messages":[{{"role":"system","content":"Be brief."}},{{"role":"user","content":"Hello there"}}]{}{}}})",
                     model, stream ? R"(,"stream":true,"stream_options":{"include_usage":true})" : "", extra);
}

std::string anthropic_body(std::string_view model, bool stream, std::string_view extra = "") {
  return fmt::format(R"({{"model":"{}","max_tokens":100,"system":"Be brief.","messages":[{{"role":"user","content":"Hello there"}}]{}{}}})",
                     model, stream ? R"(,"stream":true)" : "", extra);
}

TEST_F(Translate, OpenAiClientReachesAnthropicModel) {
  const Reply r = post("/v1/chat/completions", openai_body("claude/len-5/seed-2", false));
  ASSERT_EQ(r.status, 200) << r.body;
  const bj::object o = bj::parse(r.body).as_object();
  EXPECT_EQ(o.at("object").as_string(), "chat.completion");
  const auto& choice = o.at("choices").as_array()[0].as_object();
  EXPECT_EQ(choice.at("finish_reason").as_string(), "stop");
  EXPECT_EQ(choice.at("message").at("role").as_string(), "assistant");
  EXPECT_FALSE(choice.at("message").at("content").as_string().empty());
  EXPECT_EQ(o.at("usage").at("completion_tokens").as_int64(), 5);
  EXPECT_GT(o.at("usage").at("prompt_tokens").as_int64(), 0);
  EXPECT_EQ(r.header("x-switchyard-provider"), "claude");

  // The same answer streamed: chunks of the same text, the finish reason, usage, [DONE].
  const Reply s = post("/v1/chat/completions", openai_body("claude/len-5/seed-2/gap-1ms", true));
  ASSERT_EQ(s.status, 200) << s.body;
  std::string text;
  std::string finish;
  int64_t completion_tokens = -1;
  for (const bj::value& v : events(s.body)) {
    const auto& chunk = v.as_object();
    EXPECT_EQ(chunk.at("object").as_string(), "chat.completion.chunk");
    for (const auto& c : chunk.at("choices").as_array()) {
      if (const auto* content = c.at("delta").as_object().if_contains("content")) text += content->as_string();
      if (c.at("finish_reason").is_string()) finish = c.at("finish_reason").as_string();
    }
    if (const auto* u = chunk.if_contains("usage"); u != nullptr && u->is_object()) {
      completion_tokens = u->at("completion_tokens").as_int64();
    }
  }
  EXPECT_EQ(text, std::string(choice.at("message").at("content").as_string()));
  EXPECT_EQ(finish, "stop");
  EXPECT_EQ(completion_tokens, 5);
  EXPECT_TRUE(s.body.ends_with("data: [DONE]\n\n")) << s.body;
}

TEST_F(Translate, AnthropicModelReceivesAMessagesRequest) {
  // The mock's echo answers with the body it received: the translated request.
  const Reply r = post("/v1/chat/completions",
                       openai_body("claude/echo", false, R"(,"temperature":0.3,"stop":["END"],"user":"u-1")"));
  ASSERT_EQ(r.status, 200) << r.body;
  const bj::object sent = bj::parse(bj::parse(r.body).at("choices").at(0).at("message").at("content").as_string()).as_object();
  EXPECT_EQ(sent.at("model").as_string(), "echo");
  EXPECT_EQ(sent.at("max_tokens").as_int64(), 4096);  // Anthropic requires it: the documented default
  EXPECT_EQ(sent.at("system").at(0).at("text").as_string(), "Be brief.");
  EXPECT_EQ(sent.at("messages").at(0).at("role").as_string(), "user");
  EXPECT_EQ(sent.at("messages").at(0).at("content").at(0).at("text").as_string(), "Hello there");
  EXPECT_EQ(sent.at("stop_sequences").at(0).as_string(), "END");
  EXPECT_EQ(sent.at("metadata").at("user_id").as_string(), "u-1");
  EXPECT_DOUBLE_EQ(sent.at("temperature").to_number<double>(), 0.3);
}

TEST_F(Translate, AnthropicClientReachesOpenAiModel) {
  const Reply r = post("/v1/messages", anthropic_body("gpt/len-4/seed-5", false));
  ASSERT_EQ(r.status, 200) << r.body;
  const bj::object o = bj::parse(r.body).as_object();
  EXPECT_EQ(o.at("type").as_string(), "message");
  EXPECT_EQ(o.at("stop_reason").as_string(), "end_turn");
  EXPECT_EQ(o.at("content").at(0).at("type").as_string(), "text");
  EXPECT_EQ(o.at("usage").at("output_tokens").as_int64(), 4);

  std::vector<std::string> names;
  const Reply s = post("/v1/messages", anthropic_body("gpt/len-4/seed-5/gap-1ms", true));
  ASSERT_EQ(s.status, 200) << s.body;
  const auto evs = events(s.body, &names);
  ASSERT_GE(names.size(), 6u) << s.body;
  EXPECT_EQ(names.front(), "message_start");
  EXPECT_EQ(names[1], "ping");
  EXPECT_EQ(names[2], "content_block_start");
  EXPECT_EQ(names[names.size() - 3], "content_block_stop");
  EXPECT_EQ(names[names.size() - 2], "message_delta");
  EXPECT_EQ(names.back(), "message_stop");
  std::string text;
  for (size_t i = 0; i < evs.size(); ++i) {
    if (names[i] == "content_block_delta") text += evs[i].at("delta").at("text").as_string();
  }
  EXPECT_EQ(text, std::string(o.at("content").at(0).at("text").as_string()));
  EXPECT_EQ(evs[evs.size() - 2].at("usage").at("output_tokens").as_int64(), 4);
  EXPECT_EQ(evs[evs.size() - 2].at("delta").at("stop_reason").as_string(), "end_turn");

  // What the OpenAI model received: the system prompt as a system message, usage asked for.
  const Reply echo = post("/v1/messages", anthropic_body("gpt/echo", false));
  ASSERT_EQ(echo.status, 200) << echo.body;
  const bj::object sent = bj::parse(bj::parse(echo.body).at("content").at(0).at("text").as_string()).as_object();
  EXPECT_EQ(sent.at("messages").at(0).at("role").as_string(), "system");
  EXPECT_EQ(sent.at("messages").at(0).at("content").as_string(), "Be brief.");
  EXPECT_EQ(sent.at("max_tokens").as_int64(), 100);
}

TEST_F(Translate, ProviderErrorsComeBackInTheClientsDialect) {
  const Reply limited = post("/v1/chat/completions", openai_body("claude/status-429/retry-after-3s", false));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.header("retry-after"), "3");
  const bj::object e = bj::parse(limited.body).as_object();
  EXPECT_TRUE(e.at("error").at("message").is_string()) << limited.body;
  EXPECT_EQ(e.at("error").at("type").as_string(), "rate_limit_error") << limited.body;

  const Reply overloaded = post("/v1/chat/completions", openai_body("claude/status-529", false));
  EXPECT_EQ(overloaded.status, 529);
  EXPECT_TRUE(bj::parse(overloaded.body).at("error").at("message").is_string()) << overloaded.body;

  const Reply failed = post("/v1/messages", anthropic_body("gpt/status-500", false));
  EXPECT_EQ(failed.status, 500);
  const bj::object a = bj::parse(failed.body).as_object();
  EXPECT_EQ(a.at("type").as_string(), "error") << failed.body;
  EXPECT_EQ(a.at("error").at("type").as_string(), "api_error") << failed.body;

  // Bad input is refused before any provider is asked, in the client's dialect.
  const Reply bad = post("/v1/chat/completions", R"({"model":"claude/x","messages":[{"role":"wizard","content":"hi"}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("messages[0].role"), std::string::npos) << bad.body;
  const Reply n = post("/v1/chat/completions", openai_body("claude/x", false, R"(,"n":2)"));
  EXPECT_EQ(n.status, 400);
  EXPECT_NE(n.body.find("'n' > 1 is not supported for model 'claude/x'"), std::string::npos) << n.body;
}

TEST_F(Translate, OpenAiClientReachesGeminiModel) {
  const Reply r = post("/v1/chat/completions", openai_body("gemini/len-6/seed-4", false));
  ASSERT_EQ(r.status, 200) << r.body;
  const bj::object o = bj::parse(r.body).as_object();
  const std::string text(o.at("choices").at(0).at("message").at("content").as_string());
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(o.at("usage").at("completion_tokens").as_int64(), 6);
  EXPECT_EQ(o.at("choices").at(0).at("finish_reason").as_string(), "stop");

  const Reply s = post("/v1/chat/completions", openai_body("gemini/len-6/seed-4/gap-1ms", true));
  ASSERT_EQ(s.status, 200) << s.body;
  std::string streamed;
  int64_t completion_tokens = -1;
  for (const bj::value& v : events(s.body)) {
    for (const auto& c : v.at("choices").as_array()) {
      if (const auto* content = c.at("delta").as_object().if_contains("content")) streamed += content->as_string();
    }
    if (const auto* u = v.as_object().if_contains("usage"); u != nullptr && u->is_object()) {
      completion_tokens = u->at("completion_tokens").as_int64();
    }
  }
  EXPECT_EQ(streamed, text);
  EXPECT_EQ(completion_tokens, 6);

  // What Gemini received: contents with roles, the system instruction, the generation config.
  const Reply echo = post("/v1/chat/completions", openai_body("gemini/echo", false, R"(,"max_tokens":77,"stop":["X"])"));
  ASSERT_EQ(echo.status, 200) << echo.body;
  const bj::object sent = bj::parse(bj::parse(echo.body).at("choices").at(0).at("message").at("content").as_string()).as_object();
  EXPECT_EQ(sent.at("contents").at(0).at("role").as_string(), "user");
  EXPECT_EQ(sent.at("contents").at(0).at("parts").at(0).at("text").as_string(), "Hello there");
  EXPECT_EQ(sent.at("systemInstruction").at("parts").at(0).at("text").as_string(), "Be brief.");
  EXPECT_EQ(sent.at("generationConfig").at("maxOutputTokens").as_int64(), 77);
  EXPECT_EQ(sent.at("generationConfig").at("stopSequences").at(0).as_string(), "X");

  // And an Anthropic client reaches it too.
  const Reply a = post("/v1/messages", anthropic_body("gemini/len-3", false));
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(bj::parse(a.body).at("usage").at("output_tokens").as_int64(), 3);
}

TEST_F(Translate, ToolCallsRoundTrip) {
  const std::string tools =
      R"(,"tools":[{"type":"function","function":{"name":"weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}}}}}])";
  for (std::string_view model : {"claude/tool", "gemini/tool"}) {
    const Reply r = post("/v1/chat/completions", openai_body(model, false, tools));
    ASSERT_EQ(r.status, 200) << r.body;
    const bj::value parsed = bj::parse(r.body);
    const bj::value& choice = parsed.at("choices").at(0);
    EXPECT_EQ(choice.at("finish_reason").as_string(), "tool_calls") << r.body;
    const bj::value& call = choice.at("message").at("tool_calls").at(0);
    EXPECT_EQ(call.at("function").at("name").as_string(), "weather");
    EXPECT_EQ(bj::parse(call.at("function").at("arguments").as_string()), bj::parse(R"({"city":"mock-city","days":42})"));

    // Streamed: the deltas assemble into the same call.
    const Reply s = post("/v1/chat/completions", openai_body(std::string(model) + "/gap-1ms", true, tools));
    ASSERT_EQ(s.status, 200) << s.body;
    std::string name, arguments, finish;
    for (const bj::value& v : events(s.body)) {
      for (const auto& c : v.at("choices").as_array()) {
        if (const auto* calls = c.at("delta").as_object().if_contains("tool_calls")) {
          const auto& fn = calls->at(0).at("function").as_object();
          if (const auto* n = fn.if_contains("name")) name += n->as_string();
          if (const auto* a = fn.if_contains("arguments")) arguments += a->as_string();
        }
        if (c.at("finish_reason").is_string()) finish = c.at("finish_reason").as_string();
      }
    }
    EXPECT_EQ(name, "weather") << s.body;
    EXPECT_EQ(bj::parse(arguments), bj::parse(R"({"city":"mock-city","days":42})")) << s.body;
    EXPECT_EQ(finish, "tool_calls");
  }
  // An Anthropic client calling an OpenAI model's tool: a tool_use block in a stream.
  const std::string anthropic_tools =
      R"(,"tools":[{"name":"weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}])";
  std::vector<std::string> names;
  const Reply s = post("/v1/messages", anthropic_body("gpt/tool/gap-1ms", true, anthropic_tools));
  ASSERT_EQ(s.status, 200) << s.body;
  const auto evs = events(s.body, &names);
  std::string partial;
  bool started = false;
  for (size_t i = 0; i < evs.size(); ++i) {
    if (names[i] == "content_block_start" && evs[i].at("content_block").at("type") == "tool_use") {
      started = evs[i].at("content_block").at("name") == "weather";
    }
    if (names[i] == "content_block_delta" && evs[i].at("delta").at("type") == "input_json_delta") {
      partial += evs[i].at("delta").at("partial_json").as_string();
    }
    if (names[i] == "message_delta") {
      EXPECT_EQ(evs[i].at("delta").at("stop_reason").as_string(), "tool_use");
    }
  }
  EXPECT_TRUE(started) << s.body;
  EXPECT_EQ(bj::parse(partial), bj::parse(R"({"city":"mock-city"})")) << s.body;
}

TEST_F(Translate, CountTokensAndAnthropicModels) {
  const std::string body = R"({"model":"claude/x","messages":[{"role":"user","content":"Hello there, how are you today?"}]})";
  const Reply counted = post("/v1/messages/count_tokens", body);
  ASSERT_EQ(counted.status, 200) << counted.body;
  EXPECT_GT(bj::parse(counted.body).at("input_tokens").as_int64(), 0);
  EXPECT_TRUE(counted.header("x-switchyard-token-count").empty());  // the provider counted
  const Reply estimated = post("/anthropic/v1/messages/count_tokens",
                               R"({"model":"gpt/x","messages":[{"role":"user","content":"Hello there, how are you today?"}]})");
  ASSERT_EQ(estimated.status, 200) << estimated.body;
  EXPECT_EQ(bj::parse(estimated.body).at("input_tokens").as_int64(), 4 + 8);  // 31 characters → 8, plus a message
  EXPECT_EQ(estimated.header("x-switchyard-token-count"), "estimate");

  const Reply models = call(port_, "GET", "/anthropic/v1/models");
  ASSERT_EQ(models.status, 200) << models.body;
  const bj::object list = bj::parse(models.body).as_object();
  EXPECT_EQ(list.at("has_more"), false);
  EXPECT_EQ(list.at("data").at(0).at("id").as_string(), "switchyard/cached");
  EXPECT_EQ(list.at("data").at(0).at("type").as_string(), "model");
}

TEST_F(Translate, AutoCacheMarksSystemAndTools) {
  const std::string tools = R"(,"tools":[{"type":"function","function":{"name":"a","parameters":{"type":"object"}}},{"type":"function","function":{"name":"b","parameters":{"type":"object"}}}])";
  const Reply r = post("/v1/chat/completions", openai_body("switchyard/cached", false, tools));
  ASSERT_EQ(r.status, 200) << r.body;
  const bj::object sent = bj::parse(bj::parse(r.body).at("choices").at(0).at("message").at("content").as_string()).as_object();
  EXPECT_EQ(sent.at("system").at(0).at("cache_control").at("type").as_string(), "ephemeral") << sent;
  EXPECT_FALSE(sent.at("tools").at(0).as_object().contains("cache_control")) << sent;
  EXPECT_EQ(sent.at("tools").at(1).at("cache_control").at("type").as_string(), "ephemeral") << sent;

  // Anthropic clients: the string system prompt becomes a marked block, bytes otherwise as sent.
  const Reply a = post("/v1/messages", anthropic_body("switchyard/cached", false));
  ASSERT_EQ(a.status, 200) << a.body;
  const bj::object passed = bj::parse(bj::parse(a.body).at("content").at(0).at("text").as_string()).as_object();
  EXPECT_EQ(passed.at("system"), bj::parse(R"([{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}])"));

  // A client's own breakpoints are left alone.
  const Reply own = post("/v1/chat/completions",
                         R"({"model":"switchyard/cached","messages":[{"role":"system","content":[{"type":"text","text":"S","cache_control":{"type":"ephemeral","ttl":"1h"}}]},{"role":"user","content":"Q"}]})");
  ASSERT_EQ(own.status, 200) << own.body;
  const bj::object kept = bj::parse(bj::parse(own.body).at("choices").at(0).at("message").at("content").as_string()).as_object();
  EXPECT_EQ(kept.at("system").at(0).at("cache_control").at("ttl").as_string(), "1h");
}

}  // namespace
}  // namespace sy::testing
