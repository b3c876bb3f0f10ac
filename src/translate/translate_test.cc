// Unit tests of the OpenAI and Anthropic translators (the golden files in testdata/ are checked
// by golden_test.cc).
#include <gtest/gtest.h>

#include "translate/translate.h"

namespace sy::translate {
namespace {

ChatRequest openai(std::string_view body) {
  auto r = read_openai_request(body, "test/model");
  EXPECT_TRUE(r) << r.error().message;
  return r ? std::move(*r) : ChatRequest{};
}

TEST(Translate, OpenAiToAnthropicRequest) {
  const std::string body = R"({"model":"x","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi \"you\""}],"max_tokens":50,"temperature":1.5,"stop":"END"})";
  auto out = write_anthropic_request(openai(body), {.model = "claude-x", .model_label = "anthropic/claude-x"});
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out, R"({"model":"claude-x","max_tokens":50,"system":[{"type":"text","text":"Be brief."}],"messages":[{"role":"user","content":[{"type":"text","text":"Hi \"you\""}]}],"temperature":1,"stop_sequences":["END"]})");
}

TEST(Translate, AContinuationPrefillsAnthropicAndAsksOthers) {
  const std::string body =
      R"({"model":"x","messages":[{"role":"user","content":"Count"}],"reasoning_effort":"high","max_tokens":50})";
  ChatRequest anthropic_req = openai(body);
  add_continuation(anthropic_req, R"(One, two,\n )", "anthropic");
  auto a = write_anthropic_request(anthropic_req, {.model = "claude-x", .model_label = "anthropic/claude-x"});
  ASSERT_TRUE(a) << a.error().message;
  // The streamed text is the last (assistant) turn, without its trailing white space; no thinking.
  EXPECT_NE(a->find(R"({"role":"assistant","content":[{"type":"text","text":"One, two,"}]}]})"), std::string::npos) << *a;
  EXPECT_EQ(a->find("thinking"), std::string::npos) << *a;

  ChatRequest openai_req = openai(body);
  add_continuation(openai_req, R"(One, two,\n )", "openai");
  auto o = write_openai_request(openai_req, {.model = "gpt-x", .model_label = "openai/gpt-x"});
  ASSERT_TRUE(o) << o.error().message;
  const size_t assistant = o->find(R"({"role":"assistant","content":"One, two,\n "})");
  ASSERT_NE(assistant, std::string::npos) << *o;
  const size_t instruction = o->find(R"({"role":"user","content":"Continue your previous answer exactly where it stopped)");
  EXPECT_GT(instruction, assistant) << *o;
  EXPECT_EQ(o->find("reasoning_effort"), std::string::npos) << *o;
}

TEST(Translate, ToolCallsAndResultsBothWays) {
  const std::string body = R"({"model":"x","messages":[
    {"role":"user","content":"Weather in Paris?"},
    {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}}]},
    {"role":"tool","tool_call_id":"call_1","content":"18C"}],
    "tools":[{"type":"function","function":{"name":"weather","description":"Weather now","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
    "tool_choice":{"type":"function","function":{"name":"weather"}},"parallel_tool_calls":false})";
  ChatRequest req = openai(body);
  ASSERT_EQ(req.messages.size(), 3u);
  EXPECT_EQ(req.messages[1].parts[0].input, R"({"city":"Paris"})");
  auto a = write_anthropic_request(req, {.model = "c", .model_label = "anthropic/c"});
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_NE(a->find(R"({"role":"assistant","content":[{"type":"tool_use","id":"call_1","name":"weather","input":{"city":"Paris"}}]})"), std::string::npos) << *a;
  EXPECT_NE(a->find(R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":[{"type":"text","text":"18C"}]}]})"), std::string::npos) << *a;
  EXPECT_NE(a->find(R"("tool_choice":{"type":"tool","name":"weather","disable_parallel_tool_use":true})"), std::string::npos) << *a;
  EXPECT_NE(a->find(R"("input_schema":{"type":"object","properties":{"city":{"type":"string"}}})"), std::string::npos) << *a;

  // Back: the Anthropic request read and written as OpenAI gives the same conversation.
  auto back = read_anthropic_request(*a);
  ASSERT_TRUE(back) << back.error().message;
  auto o = write_openai_request(*back, {.model = "gpt"});
  ASSERT_TRUE(o);
  EXPECT_NE(o->find(R"("tool_calls":[{"id":"call_1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}}])"), std::string::npos) << *o;
  EXPECT_NE(o->find(R"({"role":"tool","tool_call_id":"call_1","content":"18C"})"), std::string::npos) << *o;
  EXPECT_NE(o->find(R"("parallel_tool_calls":false)"), std::string::npos) << *o;
}

TEST(Translate, ImagesBothKinds) {
  ChatRequest req = openai(R"({"model":"x","messages":[{"role":"user","content":[{"type":"text","text":"What?"},
    {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
    {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}]}]})");
  auto a = write_anthropic_request(req, {.model = "c"});
  ASSERT_TRUE(a);
  EXPECT_NE(a->find(R"({"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}})"), std::string::npos) << *a;
  EXPECT_NE(a->find(R"({"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}})"), std::string::npos) << *a;
  auto back = read_anthropic_request(*a);
  ASSERT_TRUE(back);
  auto o = write_openai_request(*back, {.model = "g"});
  EXPECT_NE(o->find(R"({"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}})"), std::string::npos) << *o;
}

TEST(Translate, JsonResponseFormatBecomesAForcedToolAndBackText) {
  ChatRequest req = openai(R"({"model":"x","messages":[{"role":"user","content":"Name?"}],
    "response_format":{"type":"json_schema","json_schema":{"name":"person","schema":{"type":"object","properties":{"name":{"type":"string"}}}}}})");
  auto a = write_anthropic_request(req, {.model = "c"});
  ASSERT_TRUE(a);
  EXPECT_NE(a->find(R"("tool_choice":{"type":"tool","name":"json_response"})"), std::string::npos) << *a;
  auto res = read_anthropic_response(R"({"id":"msg_1","model":"c","content":[{"type":"tool_use","id":"t","name":"json_response","input":{"name":"Ada"}}],"stop_reason":"tool_use","usage":{"input_tokens":5,"output_tokens":3}})");
  ASSERT_TRUE(res);
  json_tool_to_text(*res);
  const std::string out = write_openai_response(*res, {.model = "c"});
  EXPECT_NE(out.find(R"("content":"{\"name\":\"Ada\"}")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("finish_reason":"stop")"), std::string::npos) << out;
}

TEST(Translate, ThinkingNeedsRoomAndDropsSampling) {
  ChatRequest req = openai(R"({"model":"x","messages":[{"role":"user","content":"Think"}],"reasoning_effort":"medium","temperature":0.2})");
  auto a = write_anthropic_request(req, {.model = "c", .default_max_tokens = 4096});
  ASSERT_TRUE(a);
  EXPECT_NE(a->find(R"("max_tokens":8192)"), std::string::npos) << *a;
  EXPECT_NE(a->find(R"("thinking":{"type":"enabled","budget_tokens":4096})"), std::string::npos) << *a;
  EXPECT_EQ(a->find("temperature"), std::string::npos) << *a;
  ChatRequest tight = openai(R"({"model":"x","messages":[{"role":"user","content":"Think"}],"reasoning_effort":"low","max_tokens":500})");
  auto e = write_anthropic_request(tight, {.model = "c", .model_label = "anthropic/c"});
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("needs max_tokens above 1024"), std::string::npos) << e.error().message;
}

TEST(Translate, UnsupportedInputIsNamed) {
  auto audio = read_openai_request(R"({"model":"x","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]})", "anthropic/c");
  ASSERT_FALSE(audio);
  EXPECT_NE(audio.error().message.find("\"input_audio\" cannot be translated for this model (model 'anthropic/c')"), std::string::npos)
      << audio.error().message;
  auto server_tool = read_anthropic_request(R"({"model":"x","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]})", "openai/gpt");
  ASSERT_FALSE(server_tool);
  EXPECT_EQ(server_tool.error().param, "tools[0].type");
}

TEST(Translate, UsageBothWays) {
  auto res = read_anthropic_response(R"({"id":"m","model":"c","content":[{"type":"text","text":"Hi"}],"stop_reason":"max_tokens","usage":{"input_tokens":10,"cache_read_input_tokens":90,"cache_creation_input_tokens":5,"output_tokens":7}})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->usage.input, 105);
  const std::string o = write_openai_response(*res, {.model = "c", .cost = "0.5"});
  EXPECT_NE(o.find(R"("usage":{"prompt_tokens":105,"completion_tokens":7,"total_tokens":112,"prompt_tokens_details":{"cached_tokens":90},"completion_tokens_details":{"reasoning_tokens":0},"cost":0.5})"), std::string::npos) << o;
  EXPECT_NE(o.find(R"("finish_reason":"length")"), std::string::npos);
  auto back = read_openai_response(o);
  ASSERT_TRUE(back);
  const std::string a = write_anthropic_response(*back, {.model = "c"});
  EXPECT_NE(a.find(R"("usage":{"input_tokens":15,"cache_creation_input_tokens":0,"cache_read_input_tokens":90,"output_tokens":7})"), std::string::npos) << a;
  EXPECT_NE(a.find(R"("stop_reason":"max_tokens")"), std::string::npos) << a;
}

std::string run_stream(std::string_view from, std::string_view to, const std::vector<std::pair<std::string, std::string>>& in) {
  auto dec = make_stream_decoder(from);
  auto enc = make_stream_encoder(to, {.model = "m", .request_id = "r", .include_usage = true});
  std::vector<StreamEvent> events;
  std::string out;
  for (const auto& [name, data] : in) {
    events.clear();
    EXPECT_TRUE(dec->decode(name, data, events));
    for (const auto& e : events) enc->encode(e, out);
  }
  EXPECT_TRUE(dec->done());
  return out;
}

TEST(Translate, AnthropicToolStreamBecomesOpenAiToolCallDeltas) {
  const std::string out = run_stream("anthropic", "openai", {
      {"message_start", R"({"type":"message_start","message":{"id":"msg_1","model":"c","usage":{"input_tokens":12,"output_tokens":1}}})"},
      {"content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me check."}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
      {"content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"weather","input":{}}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":1})"},
      {"message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":20}})"},
      {"message_stop", R"({"type":"message_stop"})"}});
  EXPECT_NE(out.find(R"("delta":{"content":"Let me check."})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("delta":{"tool_calls":[{"index":0,"id":"toolu_1","type":"function","function":{"name":"weather","arguments":""}}]})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("finish_reason":"tool_calls")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("usage":{"prompt_tokens":12,"completion_tokens":20)"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("data: [DONE]\n\n"));
}

TEST(Translate, OpenAiStreamBecomesAnthropicEvents) {
  const std::string out = run_stream("openai", "anthropic", {
      {"", R"({"id":"c1","model":"g","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})"},
      {"", R"({"id":"c1","model":"g","choices":[{"index":0,"delta":{"reasoning_content":"Hmm."},"finish_reason":null}]})"},
      {"", R"({"id":"c1","model":"g","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]})"},
      {"", R"({"id":"c1","model":"g","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}]})"},
      {"", R"({"id":"c1","model":"g","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]},"finish_reason":null}]})"},
      {"", R"({"id":"c1","model":"g","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})"},
      {"", R"({"id":"c1","model":"g","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":3}}})"},
      {"", "[DONE]"}});
  const std::vector<std::string_view> order{"message_start", "ping", "content_block_start", "thinking_delta", "content_block_stop",
                                            "content_block_start", "text_delta", "content_block_stop", "content_block_start",
                                            "input_json_delta", "content_block_stop", "message_delta", "message_stop"};
  size_t at = 0;
  for (std::string_view step : order) {
    at = out.find(step, at);
    ASSERT_NE(at, std::string::npos) << step << " missing or out of order in\n" << out;
  }
  EXPECT_NE(out.find(R"("index":2,"content_block":{"type":"tool_use","id":"call_9","name":"f","input":{}})"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("stop_reason":"tool_use")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("usage":{"input_tokens":6,"cache_creation_input_tokens":0,"cache_read_input_tokens":3,"output_tokens":4})"), std::string::npos) << out;
}

TEST(Translate, ErrorsOfEveryShape) {
  EXPECT_EQ(read_error(429, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})").type, "rate_limit_error");
  EXPECT_EQ(read_error(400, R"({"error":{"message":"bad","type":"invalid_request_error","param":null}})").message, "bad");
  EXPECT_EQ(read_error(429, R"({"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}})").type, "RESOURCE_EXHAUSTED");
  EXPECT_NE(read_error(502, "<html>bad gateway</html>").message.find("HTTP 502"), std::string::npos);
}

}  // namespace
}  // namespace sy::translate
