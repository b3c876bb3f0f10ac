#include "mock/request.h"

#include <gtest/gtest.h>

#include "mock/answer.h"
#include "mock/behaviour.h"

namespace sy::mock {
namespace {

TEST(ToolArguments, OneValuePerPropertyInSchemaOrder) {
  EXPECT_EQ(tool_arguments(R"({"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"},
      "metric":{"type":"boolean"},"tags":{"type":"array","items":{"type":"string"}},"where":{"type":"object"},
      "ratio":{"type":"number"}}})"),
            R"({"city":"mock-city","days":42,"metric":true,"tags":[],"where":{},"ratio":42})");
  // Gemini's Schema: upper-case types; JSON Schema type lists; enums; no properties.
  EXPECT_EQ(tool_arguments(R"({"type":"OBJECT","properties":{"q":{"type":"STRING"},"n":{"type":["integer","null"]},
      "unit":{"type":"string","enum":["celsius","fahrenheit"]}}})"),
            R"({"q":"mock-q","n":42,"unit":"celsius"})");
  EXPECT_EQ(tool_arguments(R"({"type":"object"})"), "{}");
  EXPECT_EQ(tool_arguments("not json"), "{}");
}

TEST(ReadPrompt, SameConversationSameTokensInEveryProtocol) {
  const auto o = read_prompt(Protocol::kOpenAi, R"({"model":"m","messages":[
      {"role":"system","content":"You are terse."},
      {"role":"user","content":[{"type":"text","text":"What is the weather"},{"type":"text","text":"in Paris?"}]}]})");
  const auto a = read_prompt(Protocol::kAnthropic, R"({"model":"m","max_tokens":9,"system":[{"type":"text","text":"You are terse."}],
      "messages":[{"role":"user","content":"What is the weather in Paris?"}]})");
  const auto g = read_prompt(Protocol::kGemini, R"({"systemInstruction":{"parts":[{"text":"You are terse."}]},
      "contents":[{"role":"user","parts":[{"text":"What is the weather in Paris?"}]}]})");
  ASSERT_TRUE(o && a && g);
  EXPECT_EQ(o->prompt_tokens, 9);
  EXPECT_EQ(a->prompt_tokens, 9);
  EXPECT_EQ(g->prompt_tokens, 9);
  EXPECT_EQ(a->max_tokens, 9);
  EXPECT_EQ(o->text_hash, a->text_hash);  // the same words, split into parts differently
  EXPECT_EQ(a->text_hash, g->text_hash);
}

TEST(ReadPrompt, ToolChoiceAndToolResults) {
  const auto forced = read_prompt(Protocol::kOpenAi, R"({"messages":[{"role":"user","content":"hi"}],
      "tools":[{"type":"function","function":{"name":"a","parameters":{"type":"object","properties":{"x":{"type":"string"}}}}},
               {"type":"function","function":{"name":"b","parameters":{"type":"object","properties":{"y":{"type":"number"}}}}}],
      "tool_choice":{"type":"function","function":{"name":"b"}}})");
  ASSERT_TRUE(forced && forced->tool);
  EXPECT_EQ(forced->tool->name, "b");
  EXPECT_EQ(forced->tool->arguments, R"({"y":42})");

  const auto answered = read_prompt(Protocol::kAnthropic, R"({"messages":[{"role":"user","content":"hi"},
      {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"a","input":{}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"sunny and warm"}]}],
      "tools":[{"name":"a","input_schema":{"type":"object"}}]})");
  ASSERT_TRUE(answered);
  EXPECT_FALSE(answered->tool);
  EXPECT_EQ(answered->prompt_tokens, 4);  // "hi" + the tool result's text

  const auto none = read_prompt(Protocol::kOpenAi, R"({"messages":[],"tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":"none"})");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->tool);

  const auto gemini = read_prompt(Protocol::kGemini, R"({"contents":[{"role":"user","parts":[{"text":"hi"}]}],
      "tools":[{"functionDeclarations":[{"name":"a"},{"name":"b","parametersJsonSchema":{"type":"object","properties":{"k":{"type":"boolean"}}}}]}],
      "toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["b"]}},"generationConfig":{"maxOutputTokens":5}})");
  ASSERT_TRUE(gemini && gemini->tool);
  EXPECT_EQ(gemini->tool->name, "b");
  EXPECT_EQ(gemini->tool->arguments, R"({"k":true})");
  EXPECT_EQ(gemini->max_tokens, 5);

  const auto gemini_answered = read_prompt(Protocol::kGemini, R"({"contents":[{"role":"user","parts":[{"text":"hi"}]},
      {"role":"model","parts":[{"functionCall":{"name":"a","args":{}}}]},
      {"role":"user","parts":[{"functionResponse":{"name":"a","response":{"result":"it rains"}}}]}],
      "tools":[{"function_declarations":[{"name":"a"}]}]})");
  ASSERT_TRUE(gemini_answered);
  EXPECT_FALSE(gemini_answered->tool);
  EXPECT_EQ(gemini_answered->prompt_tokens, 3);
}

TEST(ReadPrompt, RejectsWhatIsNotAnObject) { EXPECT_FALSE(read_prompt(Protocol::kGemini, "[1]")); }

TEST(PlanAnswer, LimitCutsReasoningFirstThenText) {
  Prompt p;
  p.prompt_tokens = 10;
  p.max_tokens = 20;
  const Answer a = plan_answer(Behaviour::parse("len-16/think-8/cached-50"), p, 1);
  EXPECT_EQ(a.reasoning_tokens, 8);
  EXPECT_EQ(a.text_tokens, 12);
  EXPECT_EQ(a.finish, Finish::kLength);
  EXPECT_EQ(a.cached_tokens, 10);  // never more than the prompt
  EXPECT_EQ(a.output_tokens(), 20);
  EXPECT_NE(a.reasoning(), a.text());
  EXPECT_EQ(a.signature(), plan_answer(Behaviour::parse("think"), p, 1).signature());
}

TEST(PlanAnswer, ToolOnlyWhenTheRequestAllowsOne) {
  Prompt p;
  EXPECT_FALSE(plan_answer(Behaviour::parse("tool"), p, 1).tool);
  p.tool = ToolCall{"get_weather", R"({"city":"mock-city"})"};
  const Answer a = plan_answer(Behaviour::parse("tool"), p, 1);
  ASSERT_TRUE(a.tool);
  EXPECT_EQ(a.finish, Finish::kToolUse);
  EXPECT_EQ(a.text_tokens, 0);
  EXPECT_FALSE(plan_answer(Behaviour::parse("len-3"), p, 1).tool);
}

TEST(Fragments, CoverTheTextAndKeepUtf8Whole) {
  const std::string json = R"({"city":"mock-city","days":42})";
  std::string joined;
  const auto parts = fragments(json);
  EXPECT_GE(parts.size(), 3u);
  for (auto p : parts) joined += p;
  EXPECT_EQ(joined, json);
  for (auto p : fragments("\"\xC3\xA9\xC3\xA9\xC3\xA9\"", 4)) {
    EXPECT_NE(static_cast<unsigned char>(p[0]) & 0xC0, 0x80);
  }
  EXPECT_EQ(fragments("{}").size(), 2u);
}

}  // namespace
}  // namespace sy::mock
