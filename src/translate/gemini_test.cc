// The Gemini dialect: canonical requests → generateContent bodies, and Gemini's answers and
// streams (the JSON shapes of ai.google.dev/api/generate-content) → canonical.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/json_scan.h"
#include "translate/translate.h"

namespace sy::translate {
namespace {

Part text(std::string_view t) { return Part{.kind = PartKind::kText, .text = t}; }

Message user(std::vector<Part> parts) { return Message{.role = Role::kUser, .parts = std::move(parts)}; }
Message assistant(std::vector<Part> parts) { return Message{.role = Role::kAssistant, .parts = std::move(parts)}; }

Part tool_use(std::string_view id, std::string_view name, std::string_view input) {
  Part p{.kind = PartKind::kToolUse};
  p.id = id;
  p.name = name;
  p.input = input;
  return p;
}

Part tool_result(std::string_view id, std::vector<Part> content, bool is_error = false) {
  Part p{.kind = PartKind::kToolResult};
  p.id = id;
  p.is_error = is_error;
  p.content = std::move(content);
  return p;
}

std::string write(const ChatRequest& req) {
  auto out = write_gemini_request(req, {.model = "gemini-2.5-flash", .model_label = "google/gemini-2.5-flash"});
  EXPECT_TRUE(out) << out.error().message;
  if (!out) return {};
  EXPECT_TRUE(json::validate(*out)) << *out;
  return *out;
}

// ---- requests ----------------------------------------------------------------------------

TEST(GeminiRequest, SystemTurnsAndGenerationConfig) {
  ChatRequest req;
  req.system = {text("You are a cat."), text("Answer \\\"briefly\\\".")};
  req.messages = {user({text("Hello there")}), user({text("Are you there?")}), assistant({text("Meow.")}),
                  user({text("What is 2+2?\\n")})};
  req.max_tokens = 256;
  req.temperature = 0.5;
  req.top_p = 0.9;
  req.top_k = 40;
  req.stop = {"END", "\\n\\n"};
  req.user = "u-1";  // Gemini has no end-user field
  EXPECT_EQ(write(req),
            R"({"contents":[{"role":"user","parts":[{"text":"Hello there"},{"text":"Are you there?"}]},)"
            R"({"role":"model","parts":[{"text":"Meow."}]},{"role":"user","parts":[{"text":"What is 2+2?\n"}]}],)"
            R"("systemInstruction":{"parts":[{"text":"You are a cat."},{"text":"Answer \"briefly\"."}]},)"
            R"("generationConfig":{"maxOutputTokens":256,"temperature":0.5,"topP":0.9,"topK":40,"stopSequences":["END","\n\n"]}})");
}

TEST(GeminiRequest, EmptyTextIsSkippedAndNoContentIsAnError) {
  ChatRequest req;
  req.messages = {user({text("Hi")}), assistant({text("")}), user({text("Still there?")})};
  EXPECT_EQ(write(req), R"({"contents":[{"role":"user","parts":[{"text":"Hi"},{"text":"Still there?"}]}]})");
  ChatRequest empty;
  empty.messages = {user({text("")})};
  auto out = write_gemini_request(empty, {.model = "gemini-2.5-flash", .model_label = "google/gemini-2.5-flash"});
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, ErrorCode::kInvalidRequest);
  EXPECT_NE(out.error().message.find("google/gemini-2.5-flash"), std::string::npos) << out.error().message;
}

TEST(GeminiRequest, WhatTheGatewayCannotReturnIsRefused) {
  ChatRequest req;
  req.messages = {user({text("Name a cat.")})};
  req.n = 3;  // the reader takes the first candidate only
  auto n = write_gemini_request(req, {.model = "gemini-2.5-flash", .model_label = "google/gemini-2.5-flash"});
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().param, "n");
  req.n = 1;
  req.logprobs = true;
  auto logprobs = write_gemini_request(req, {.model = "gemini-2.5-flash", .model_label = "google/gemini-2.5-flash"});
  ASSERT_FALSE(logprobs);
  EXPECT_EQ(logprobs.error().param, "logprobs");
}

TEST(GeminiRequest, ImagesInlineAndByUrl) {
  Part base64{.kind = PartKind::kImage};
  base64.media_type = "image/png";
  base64.data = "iVBORw0KGgo=";
  Part url{.kind = PartKind::kImage};
  url.url = "https:\\/\\/example.com\\/cats\\/tabby.WEBP?size=large#top";
  Part no_extension{.kind = PartKind::kImage};
  no_extension.url = "https://example.com/image?id=7";
  Part data_url{.kind = PartKind::kImage};
  data_url.url = "data:image/gif;base64,R0lGODlh";
  ChatRequest req;
  req.messages = {user({text("Compare these."), base64, url, no_extension, data_url})};
  EXPECT_EQ(write(req),
            R"({"contents":[{"role":"user","parts":[{"text":"Compare these."},)"
            R"({"inline_data":{"mime_type":"image/png","data":"iVBORw0KGgo="}},)"
            R"({"file_data":{"mime_type":"image/webp","file_uri":"https:\/\/example.com\/cats\/tabby.WEBP?size=large#top"}},)"
            R"({"file_data":{"mime_type":"image/jpeg","file_uri":"https://example.com/image?id=7"}},)"
            R"({"inline_data":{"mime_type":"image/gif","data":"R0lGODlh"}}]}]})");
}

TEST(GeminiRequest, ToolsCallsResultsAndChoice) {
  ChatRequest req;
  req.tools = {Tool{.name = "get_weather",
                    .description = "Current weather in a city",
                    .parameters = R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false})"},
               Tool{.name = "get_time"}};
  req.tool_choice = ToolChoice::kNamed;
  req.tool_choice_name = "get_weather";
  req.tool_choice_given = true;
  Part signed_call = tool_use("call_b", "get_time", "");
  signed_call.signature = "CiQBcsjafE3rQ==";
  req.messages = {
      user({text("Weather and time in Paris?")}),
      assistant({text("Let me check."), tool_use("call_a", "get_weather", R"({"city":"Paris"})"), signed_call}),
      user({tool_result("call_a", {text(R"({\"temp_c\":18,)"), text(R"(\"sky\":\"clear\"})")}),
            tool_result("call_b", {text("clock \\\"broken\\\"")}, true), text("Thanks!")}),
  };
  EXPECT_EQ(write(req),
            R"({"contents":[{"role":"user","parts":[{"text":"Weather and time in Paris?"}]},)"
            R"({"role":"model","parts":[{"text":"Let me check."},)"
            R"({"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"skip_thought_signature_validator"},)"
            R"({"functionCall":{"name":"get_time","args":{}},"thoughtSignature":"CiQBcsjafE3rQ=="}]},)"
            R"({"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"output":"{\"temp_c\":18,\n\"sky\":\"clear\"}"}}},)"
            R"({"functionResponse":{"name":"get_time","response":{"error":"clock \"broken\""}}},{"text":"Thanks!"}]}],)"
            R"("tools":[{"functionDeclarations":[{"name":"get_weather","description":"Current weather in a city",)"
            R"("parametersJsonSchema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}},)"
            R"({"name":"get_time"}]}],)"
            R"("toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_weather"]}}})");

  req.tool_choice = ToolChoice::kRequired;
  EXPECT_NE(write(req).find(R"("toolConfig":{"functionCallingConfig":{"mode":"ANY"}})"), std::string::npos);
  req.tool_choice = ToolChoice::kNone;
  EXPECT_NE(write(req).find(R"("toolConfig":{"functionCallingConfig":{"mode":"NONE"}})"), std::string::npos);
  req.tool_choice = ToolChoice::kAuto;
  EXPECT_NE(write(req).find(R"("toolConfig":{"functionCallingConfig":{"mode":"AUTO"}})"), std::string::npos);
  req.tool_choice_given = false;
  EXPECT_EQ(write(req).find("toolConfig"), std::string::npos);  // Gemini's default
}

TEST(GeminiRequest, ToolResultTakesTheNameOfTheNearestEarlierCall) {
  ChatRequest req;
  Part image{.kind = PartKind::kImage};
  image.media_type = "image/jpeg";
  image.data = "/9j/4AAQ";
  req.messages = {
      user({text("go")}),
      assistant({tool_use("call_0", "screenshot", "{}")}),
      user({tool_result("call_0", {text("taken"), image})}),
      assistant({tool_use("call_0", "click", R"({"x":1})")}),  // ids repeat across turns
      user({tool_result("call_0", {})}),
  };
  EXPECT_EQ(write(req),
            R"({"contents":[{"role":"user","parts":[{"text":"go"}]},)"
            R"({"role":"model","parts":[{"functionCall":{"name":"screenshot","args":{}},"thoughtSignature":"skip_thought_signature_validator"}]},)"
            R"({"role":"user","parts":[{"functionResponse":{"name":"screenshot","response":{"output":"taken"}}},)"
            R"({"inline_data":{"mime_type":"image/jpeg","data":"/9j/4AAQ"}}]},)"
            R"({"role":"model","parts":[{"functionCall":{"name":"click","args":{"x":1}},"thoughtSignature":"skip_thought_signature_validator"}]},)"
            R"({"role":"user","parts":[{"functionResponse":{"name":"click","response":{"output":""}}}]}]})");

  ChatRequest orphan;
  orphan.messages = {user({tool_result("call_9", {text("42")})})};
  auto out = write_gemini_request(orphan, {.model = "gemini-2.5-flash", .model_label = "google/gemini-2.5-flash"});
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, ErrorCode::kInvalidRequest);
  EXPECT_NE(out.error().message.find("'call_9'"), std::string::npos) << out.error().message;
}

TEST(GeminiRequest, JsonModes) {
  ChatRequest req;
  req.messages = {user({text("List two colors.")})};
  req.response_format = ResponseFormat::kJsonObject;
  EXPECT_EQ(write(req), R"({"contents":[{"role":"user","parts":[{"text":"List two colors."}]}],)"
                        R"("generationConfig":{"responseMimeType":"application/json"}})");
  req.response_format = ResponseFormat::kJsonSchema;
  req.response_schema = R"({"type":"array","items":{"type":"string"},"minItems":2})";
  req.response_schema_name = "colors";
  EXPECT_EQ(write(req), R"({"contents":[{"role":"user","parts":[{"text":"List two colors."}]}],)"
                        R"("generationConfig":{"responseMimeType":"application/json",)"
                        R"("responseJsonSchema":{"type":"array","items":{"type":"string"},"minItems":2}}})");
}

TEST(GeminiRequest, Thinking) {
  ChatRequest req;
  Part signed_thought{.kind = PartKind::kThinking, .text = "**Counting** the r's"};
  signed_thought.signature = "EqQBCgIYAhIM";
  Part unsigned_thought{.kind = PartKind::kThinking, .text = "another provider's reasoning"};
  Part redacted{.kind = PartKind::kRedactedThinking};
  redacted.data = "opaque";
  req.messages = {user({text("How many r's in strawberry?")}),
                  assistant({signed_thought, unsigned_thought, redacted, text("Three.")}), user({text("Sure?")})};
  req.reasoning_effort = "medium";
  EXPECT_EQ(write(req),
            R"({"contents":[{"role":"user","parts":[{"text":"How many r's in strawberry?"}]},)"
            R"({"role":"model","parts":[{"text":"**Counting** the r's","thought":true,"thoughtSignature":"EqQBCgIYAhIM"},)"
            R"({"text":"Three."}]},{"role":"user","parts":[{"text":"Sure?"}]}],)"
            R"("generationConfig":{"thinkingConfig":{"thinkingBudget":4096,"includeThoughts":true}}})");

  auto config = [&](std::optional<int64_t> budget, std::string_view effort) {
    req.thinking_budget = budget;
    req.reasoning_effort = effort;
    std::string out = write(req);
    const size_t at = out.find("\"generationConfig\":");
    return at == std::string::npos ? std::string() : out.substr(at);
  };
  EXPECT_EQ(config(std::nullopt, "minimal"), R"("generationConfig":{"thinkingConfig":{"thinkingBudget":1024,"includeThoughts":true}}})");
  EXPECT_EQ(config(std::nullopt, "low"), R"("generationConfig":{"thinkingConfig":{"thinkingBudget":1024,"includeThoughts":true}}})");
  EXPECT_EQ(config(std::nullopt, "high"), R"("generationConfig":{"thinkingConfig":{"thinkingBudget":16384,"includeThoughts":true}}})");
  EXPECT_EQ(config(2000, "low"), R"("generationConfig":{"thinkingConfig":{"thinkingBudget":2000,"includeThoughts":true}}})");
  // Thinking asked without a budget: Gemini's dynamic budget (its 0 would turn thinking off).
  EXPECT_EQ(config(0, ""), R"("generationConfig":{"thinkingConfig":{"thinkingBudget":-1,"includeThoughts":true}}})");
  EXPECT_EQ(config(std::nullopt, ""), "");
}

TEST(GeminiRequest, FromAnOpenAiClient) {
  const std::string body = R"({"model":"google/gemini-2.5-flash","messages":[
    {"role":"system","content":"Be brief."},
    {"role":"user","content":[{"type":"text","text":"What's in this image?"},
                              {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
    {"role":"assistant","content":null,"tool_calls":[{"id":"call_xyz","type":"function","function":{"name":"zoom","arguments":"{\"level\":2}"}}]},
    {"role":"tool","tool_call_id":"call_xyz","content":"zoomed"}],
    "tools":[{"type":"function","function":{"name":"zoom","parameters":{"type":"object","properties":{"level":{"type":"integer"}}}}}],
    "max_completion_tokens":100})";
  auto req = read_openai_request(body);
  ASSERT_TRUE(req) << req.error().message;
  EXPECT_EQ(write(*req),
            R"({"contents":[{"role":"user","parts":[{"text":"What's in this image?"},)"
            R"({"inline_data":{"mime_type":"image/png","data":"iVBORw0KGgo="}}]},)"
            R"({"role":"model","parts":[{"functionCall":{"name":"zoom","args":{"level":2}},"thoughtSignature":"skip_thought_signature_validator"}]},)"
            R"({"role":"user","parts":[{"functionResponse":{"name":"zoom","response":{"output":"zoomed"}}}]}],)"
            R"("systemInstruction":{"parts":[{"text":"Be brief."}]},)"
            R"("tools":[{"functionDeclarations":[{"name":"zoom","parametersJsonSchema":{"type":"object","properties":{"level":{"type":"integer"}}}}]}],)"
            R"("generationConfig":{"maxOutputTokens":100}})");
}

// ---- responses ---------------------------------------------------------------------------

TEST(GeminiResponse, TextThoughtsCallsAndUsage) {
  const std::string body = R"({
  "candidates": [{
    "content": {
      "parts": [
        {"text": "**Planning** the lookup", "thought": true},
        {"text": "I'll check the weather in \"Paris\"."},
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris", "unit": "celsius"}}, "thoughtSignature": "CiQBcsjafE3rQ=="},
        {"functionCall": {"id": "fc-given", "name": "get_time", "args": {}}}
      ],
      "role": "model"
    },
    "finishReason": "STOP",
    "index": 0
  }],
  "usageMetadata": {"promptTokenCount": 1200, "candidatesTokenCount": 40, "totalTokenCount": 1340,
                    "cachedContentTokenCount": 1024, "thoughtsTokenCount": 100,
                    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1200}]},
  "modelVersion": "gemini-2.5-flash",
  "responseId": "IxQraeCaG_O24_UP9PW30QQ"
})";
  auto res = read_gemini_response(body);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->id, "IxQraeCaG_O24_UP9PW30QQ");
  EXPECT_EQ(res->model, "gemini-2.5-flash");
  EXPECT_EQ(res->stop, StopReason::kToolUse);
  ASSERT_EQ(res->content.size(), 4u);
  EXPECT_EQ(res->content[0].kind, PartKind::kThinking);
  EXPECT_EQ(res->content[0].text, "**Planning** the lookup");
  EXPECT_EQ(res->content[1].kind, PartKind::kText);
  EXPECT_EQ(res->content[1].text, R"(I'll check the weather in \"Paris\".)");
  EXPECT_EQ(res->content[2].kind, PartKind::kToolUse);
  EXPECT_EQ(res->content[2].id, "call_IxQraeCaG_O24_UP9PW30QQ_0");
  EXPECT_EQ(res->content[2].name, "get_weather");
  EXPECT_EQ(res->content[2].input, R"({"city": "Paris", "unit": "celsius"})");
  EXPECT_EQ(res->content[2].signature, "CiQBcsjafE3rQ==");
  EXPECT_EQ(res->content[3].id, "fc-given");
  EXPECT_EQ(res->content[3].name, "get_time");
  EXPECT_EQ(res->content[3].input, "{}");
  EXPECT_TRUE(res->usage.present);
  EXPECT_EQ(res->usage.input, 1200);
  EXPECT_EQ(res->usage.cache_read, 1024);
  EXPECT_EQ(res->usage.output, 140);
  EXPECT_EQ(res->usage.reasoning, 100);
}

TEST(GeminiResponse, FinishReasons) {
  auto stop = [](std::string_view finish) {
    const std::string body = R"({"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"finishReason":")" +
                             std::string(finish) + R"("}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1}})";
    auto res = read_gemini_response(body);
    EXPECT_TRUE(res) << res.error().message;
    return res ? res->stop : StopReason::kNone;
  };
  EXPECT_EQ(stop("STOP"), StopReason::kEndTurn);
  EXPECT_EQ(stop("MAX_TOKENS"), StopReason::kMaxTokens);
  EXPECT_EQ(stop("SAFETY"), StopReason::kContentFilter);
  EXPECT_EQ(stop("RECITATION"), StopReason::kContentFilter);
  EXPECT_EQ(stop("BLOCKLIST"), StopReason::kContentFilter);
  EXPECT_EQ(stop("PROHIBITED_CONTENT"), StopReason::kContentFilter);
  EXPECT_EQ(stop("SPII"), StopReason::kContentFilter);
  EXPECT_EQ(stop("MALFORMED_FUNCTION_CALL"), StopReason::kEndTurn);
  EXPECT_EQ(stop("OTHER"), StopReason::kEndTurn);

  auto safety = read_gemini_response(R"({"candidates":[{"finishReason":"SAFETY","index":0,"safetyRatings":[]}]})");
  ASSERT_TRUE(safety) << safety.error().message;
  EXPECT_EQ(safety->stop, StopReason::kContentFilter);
  EXPECT_TRUE(safety->content.empty());
  EXPECT_FALSE(safety->usage.present);
}

TEST(GeminiResponse, BlockedPromptAndMalformedBodies) {
  auto blocked = read_gemini_response(
      R"({"promptFeedback":{"blockReason":"SAFETY","safetyRatings":[]},"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8},"modelVersion":"gemini-2.5-pro"})");
  ASSERT_TRUE(blocked) << blocked.error().message;
  EXPECT_EQ(blocked->stop, StopReason::kContentFilter);
  EXPECT_TRUE(blocked->content.empty());
  EXPECT_EQ(blocked->usage.input, 8);

  for (std::string_view bad : {R"([])", R"({"candidates":{}})", R"({"candidates":[{"content":{"parts":{}}}]})",
                               R"({"candidates":[{"content":{"parts":[{"functionCall":{"args":{}}}]}}]})", "{\"candidates\":["}) {
    auto res = read_gemini_response(bad);
    ASSERT_FALSE(res) << bad;
    EXPECT_EQ(res.error().code, ErrorCode::kUpstreamError);
    EXPECT_NE(res.error().message.find("Gemini response"), std::string::npos) << res.error().message;
  }
}

// ---- streams -----------------------------------------------------------------------------

using T = StreamEvent::Type;

// One event, written out for comparisons: "type index field...".
std::string show(const StreamEvent& e) {
  switch (e.type) {
    case T::kStart: return fmt::format("start id={} model={} input={}", e.id, e.model, e.usage.input);
    case T::kBlockStart:
      return fmt::format("block_start {} {}{}", e.index,
                         e.block == PartKind::kText ? "text" : e.block == PartKind::kThinking ? "thinking" : "tool_use",
                         e.block == PartKind::kToolUse ? fmt::format(" id={} name={}", e.id, e.name) : "");
    case T::kTextDelta: return fmt::format("text {} {}", e.index, e.text);
    case T::kThinkingDelta: return fmt::format("thinking {} {}", e.index, e.text);
    case T::kSignatureDelta: return fmt::format("signature {} {}", e.index, e.text);
    case T::kToolInputDelta: return fmt::format("input {} {}", e.index, e.text);
    case T::kBlockStop: return fmt::format("block_stop {}", e.index);
    case T::kFinish:
      return fmt::format("finish stop={} input={} output={} cache_read={} reasoning={}", static_cast<int>(e.stop),
                         e.usage.input, e.usage.output, e.usage.cache_read, e.usage.reasoning);
    case T::kError: return fmt::format("error {} {}", e.error_type, e.text);
  }
  return "?";
}

std::vector<std::string> decode_all(StreamDecoder& dec, const std::vector<std::string>& chunks) {
  std::vector<std::string> shown;
  for (const auto& data : chunks) {
    std::vector<StreamEvent> events;
    auto r = dec.decode("", data, events);
    EXPECT_TRUE(r) << r.error().message;
    for (const auto& e : events) shown.push_back(show(e));  // views are valid until the next call
  }
  return shown;
}

TEST(GeminiStream, ThoughtsTextCallAndFinish) {
  // streamGenerateContent?alt=sse of gemini-2.5-flash with includeThoughts and a tool.
  const std::string meta = R"("modelVersion": "gemini-2.5-flash", "responseId": "tTCwacuEBMvnitYP06qsgQY")";
  const std::vector<std::string> chunks = {
      R"({"candidates": [{"content": {"parts": [{"text": "**Checking the forecast**\n", "thought": true}],"role": "model"},"index": 0}],)"
      R"("usageMetadata": {"promptTokenCount": 52,"totalTokenCount": 52,"thoughtsTokenCount": 30},)" + meta + "}",
      R"({"candidates": [{"content": {"parts": [{"text": "Let me look up "}],"role": "model"},"index": 0}],)"
      R"("usageMetadata": {"promptTokenCount": 52,"candidatesTokenCount": 4,"totalTokenCount": 86,"thoughtsTokenCount": 30},)" + meta + "}",
      R"({"candidates": [{"content": {"parts": [{"text": "\"Paris\"."}],"role": "model"},"index": 0}],)" + meta + "}",
      R"({"candidates": [{"content": {"parts": [{"functionCall": {"name": "get_weather","args": {"city": "Paris"}},"thoughtSignature": "CiQBcsjafE3rQ=="}],"role": "model"},)"
      R"("finishReason": "STOP","index": 0}],)"
      R"("usageMetadata": {"promptTokenCount": 52,"candidatesTokenCount": 19,"totalTokenCount": 101,"cachedContentTokenCount": 32,"thoughtsTokenCount": 30},)" +
          meta + "}",
  };
  auto dec = make_stream_decoder("gemini");
  ASSERT_NE(dec, nullptr);
  EXPECT_FALSE(dec->done());
  const std::vector<std::string> expected = {
      "start id=tTCwacuEBMvnitYP06qsgQY model=gemini-2.5-flash input=52",
      "block_start 0 thinking",
      R"(thinking 0 **Checking the forecast**\n)",
      "block_stop 0",
      "block_start 1 text",
      "text 1 Let me look up ",
      R"(text 1 \"Paris\".)",
      "block_stop 1",
      "block_start 2 tool_use id=call_tTCwacuEBMvnitYP06qsgQY_0 name=get_weather",
      R"(input 2 {\"city\": \"Paris\"})",
      "block_stop 2",
      fmt::format("finish stop={} input=52 output=49 cache_read=32 reasoning=30", static_cast<int>(StopReason::kToolUse)),
  };
  EXPECT_EQ(decode_all(*dec, chunks), expected);
  EXPECT_TRUE(dec->done());
  std::vector<StreamEvent> after;
  ASSERT_TRUE(dec->decode("", chunks[1], after));
  EXPECT_TRUE(after.empty());  // nothing follows the finish
}

TEST(GeminiStream, SignaturesTextEndAndMaxTokens) {
  const std::vector<std::string> chunks = {
      R"({"candidates": [{"content": {"role": "model","parts": [{"text": "Hello!"}]}}],"usageMetadata": {"trafficType": "ON_DEMAND"},"modelVersion": "gemini-3-flash-preview","responseId": "r1"})",
      R"({"candidates": [{"content": {"role": "model","parts": [{"text": "Weighing it","thought": true,"thoughtSignature": "AY89a18i"}]}}],"modelVersion": "gemini-3-flash-preview","responseId": "r1"})",
      R"({"candidates": [{"content": {"role": "model","parts": [{"text": " More","thought": false},{"text": "","thoughtSignature": "AY89a18iOcFus5wr5bW5xN6zZ4aUiCyhgmg6HE2YjtYDV/dwZ5oZlZHeTmiUKv34qq0="}]},"finishReason": "MAX_TOKENS"}],)"
      R"("usageMetadata": {"promptTokenCount": 1,"candidatesTokenCount": 9,"totalTokenCount": 10},"modelVersion": "gemini-3-flash-preview","responseId": "r1"})",
  };
  auto dec = make_stream_decoder("gemini");
  const std::vector<std::string> expected = {
      "start id=r1 model=gemini-3-flash-preview input=0",
      "block_start 0 text",
      "text 0 Hello!",
      "block_stop 0",
      "block_start 1 thinking",
      "thinking 1 Weighing it",
      "signature 1 AY89a18i",
      "block_stop 1",
      "block_start 2 text",
      "text 2  More",
      "block_stop 2",
      fmt::format("finish stop={} input=1 output=9 cache_read=0 reasoning=0", static_cast<int>(StopReason::kMaxTokens)),
  };
  EXPECT_EQ(decode_all(*dec, chunks), expected);
  EXPECT_TRUE(dec->done());
}

TEST(GeminiStream, BlockedPromptErrorsAndBadChunks) {
  auto blocked = make_stream_decoder("gemini");
  EXPECT_EQ(decode_all(*blocked, {R"({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},"usageMetadata": {"promptTokenCount": 7,"totalTokenCount": 7},"modelVersion": "gemini-2.5-flash","responseId": "b1"})"}),
            (std::vector<std::string>{"start id=b1 model=gemini-2.5-flash input=7",
                                      fmt::format("finish stop={} input=7 output=0 cache_read=0 reasoning=0",
                                                  static_cast<int>(StopReason::kContentFilter))}));
  EXPECT_TRUE(blocked->done());

  auto failing = make_stream_decoder("gemini");
  EXPECT_EQ(decode_all(*failing, {R"({"error": {"code": 503, "message": "The model is \"overloaded\".\nTry again later.", "status": "UNAVAILABLE"}})"}),
            (std::vector<std::string>{"error UNAVAILABLE The model is \"overloaded\".\nTry again later."}));  // plain text
  EXPECT_TRUE(failing->done());

  auto bad = make_stream_decoder("gemini");
  std::vector<StreamEvent> events;
  auto r = bad->decode("", R"({"candidates": [{"content": {"parts": [{"text": "cut)", events);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUpstreamError);
  EXPECT_FALSE(bad->done());
}

}  // namespace
}  // namespace sy::translate
