#include "telemetry/record_json.h"

#include <gtest/gtest.h>

namespace sy::telemetry {
namespace {

TEST(RecordJson, TimesAreRfc3339WithMilliseconds) {
  std::string out;
  append_time(out, 1'714'566'896'123);
  EXPECT_EQ(out, "2024-05-01T12:34:56.123Z");
  out.clear();
  append_time(out, 0);
  EXPECT_EQ(out, "1970-01-01T00:00:00.000Z");
  out.clear();
  append_time(out, 4'102'444'799'999);
  EXPECT_EQ(out, "2099-12-31T23:59:59.999Z");
}

TEST(RecordJson, TimesWithinASecondAndAcrossOne) {
  // The part to the second is kept from the time before when the second is the same.
  std::string out;
  for (const int64_t ms : {1'714'566'896'123, 1'714'566'896'007, 1'714'566'897'000,
                           1'714'566'896'999, int64_t{-1}}) {
    append_time(out, ms);
    out += ' ';
  }
  EXPECT_EQ(out,
            "2024-05-01T12:34:56.123Z 2024-05-01T12:34:56.007Z 2024-05-01T12:34:57.000Z "
            "2024-05-01T12:34:56.999Z 1969-12-31T23:59:59.999Z ");
}

TEST(RecordJson, NumbersCostsAndUnknowns) {
  RequestRecord r;
  r.id = "req_1";
  r.time_ms = 1'714'566'896'000;
  r.status = 200;
  r.latency_ms = 1234;
  r.tokens_in = 9'000'000'000;
  r.cost_usd = 0.000125;
  r.attempts.push_back({.model = "m", .provider = "p", .status = 502, .ttft_ms = -1, .cost_usd = 2.5});
  std::string out;
  append_json(out, r, false);
  EXPECT_NE(out.find(R"("status":200,)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("ttft_ms":null,"latency_ms":1234,"tokens_in":9000000000,)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("cost_usd":0.000125,)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("router_version":null,)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("status":502,"error_class":null,"start_ms":0,)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("tokens_out":0,"cost_usd":2.5})"), std::string::npos) << out;
  r.cost_usd = 0;
  out.clear();
  append_json(out, r, false);
  EXPECT_NE(out.find(R"("cost_usd":0,)"), std::string::npos) << out;
}

// After a "[" already in the buffer.
constexpr std::string_view kGolden =
    R"j([{"id":"req_01JD3K8Z4X7Q2M9N5P6R7S8T9V","time":"2024-05-01T12:34:56.123Z",)j"
    R"j("time_ms":1714566896123,"key_id":"k_3f2a",)j"
    R"j("user":"ana \"the\" user\\\n\t\u0001\u001f é","endpoint":"chat.completions",)j"
    R"j("dialect":"openai","router":"support","router_version":7,"route":"spanish",)j"
    R"j("variant":"b","reason":"route spanish (language == \"es\"), variant b (sticky)",)j"
    R"j("requested_model":"switchyard/support","model":"anthropic/claude-sonnet-4-5",)j"
    R"j("provider":"anthropic","stream":true,"status":200,"error_class":null,"ttft_ms":312,)j"
    R"j("latency_ms":4051,"tokens_in":1200,"tokens_out":345,"tokens_cached":1024,)j"
    R"j("tokens_reasoning":12,"cost_usd":0.0123456789,"metadata":{"plan":"free",)j"
    R"j("tenant":"acme"},"speech":{"engine":"espeak","chars":88,"audio_seconds":5.25,)j"
    R"j("first_audio_ms":null,"cost_usd":0,"error":"openai-tts: 503"},)j"
    R"j("attempts":[{"model":"openai/gpt-4o","provider":"openai","status":429,)j"
    R"j("error_class":"rate_limited","start_ms":0,"duration_ms":41,"ttft_ms":null,)j"
    R"j("served":false,"tokens_in":0,"tokens_out":0,)j"
    R"j("cost_usd":0},{"model":"anthropic/claude-sonnet-4-5","provider":"anthropic",)j"
    R"j("status":200,"error_class":null,"start_ms":42,"duration_ms":4009,"ttft_ms":270,)j"
    R"j("served":true,"tokens_in":1200,"tokens_out":345,"cost_usd":0.0123456789}],)j"
    R"j("request_body":"{\"messages\":[{\"role\":\"user\",\"content\":\"hola\"}]}",)j"
    R"j("response_body":null})j";

// Every field of a record, the speech object, two attempts, bodies, and strings that need each
// kind of escape, appended after text already in the buffer: the whole output, byte for byte.
TEST(RecordJson, EveryFieldByteForByte) {
  RequestRecord r;
  r.id = "req_01JD3K8Z4X7Q2M9N5P6R7S8T9V";
  r.time_ms = 1'714'566'896'123;
  r.key_id = "k_3f2a";
  r.user = "ana \"the\" user\\\n\t\x01\x1f é";
  r.endpoint = "chat.completions";
  r.dialect = "openai";
  r.router = "support";
  r.router_version = 7;
  r.route = "spanish";
  r.variant = "b";
  r.reason = "route spanish (language == \"es\"), variant b (sticky)";
  r.requested_model = "switchyard/support";
  r.model = "anthropic/claude-sonnet-4-5";
  r.provider = "anthropic";
  r.stream = true;
  r.status = 200;
  r.ttft_ms = 312;
  r.latency_ms = 4'051;
  r.tokens_in = 1'200;
  r.tokens_out = 345;
  r.tokens_cached = 1'024;
  r.tokens_reasoning = 12;
  r.cost_usd = 0.0123456789;
  r.metadata_json = R"({"plan":"free","tenant":"acme"})";
  r.tts_engine = "espeak";
  r.tts_chars = 88;
  r.audio_seconds = 5.25;
  r.tts_first_audio_ms = -1;
  r.tts_cost_usd = 0;
  r.tts_error = "openai-tts: 503";
  r.attempts.push_back({.model = "openai/gpt-4o", .provider = "openai", .status = 429,
                        .error_class = "rate_limited", .start_ms = 0, .duration_ms = 41,
                        .ttft_ms = -1, .served = false, .cost_usd = 0});
  r.attempts.push_back({.model = "anthropic/claude-sonnet-4-5", .provider = "anthropic",
                        .status = 200, .start_ms = 42, .duration_ms = 4'009, .ttft_ms = 270,
                        .served = true, .tokens_in = 1'200, .tokens_out = 345, .cost_usd = 0.0123456789});
  r.request_body = R"({"messages":[{"role":"user","content":"hola"}]})";
  r.response_body = "";
  std::string out = "[";
  append_json(out, r, true);
  EXPECT_EQ(out, kGolden);
  out.resize(1);
  append_json(out, r, false);  // without bodies, the same up to the attempts
  EXPECT_EQ(out, std::string(kGolden.substr(0, kGolden.find(",\"request_body\""))) + "}");
}

TEST(RecordJson, OutcomeByteForByte) {
  OutcomeEvent e{.event_id = "evt_1", .time_ms = 1'714'566'896'123, .request_id = "req_\"2\"",
                 .user = "", .router = "support", .name = "csat", .value = 4.5};
  std::string out = "x";
  append_json(out, e);
  EXPECT_EQ(out, R"(x{"event_id":"evt_1","time":"2024-05-01T12:34:56.123Z","time_ms":1714566896123,)"
                 R"("request_id":"req_\"2\"","user":null,"router":"support","name":"csat","value":4.5})");
  out.clear();
  e.value = 0.1 + 0.2;  // the shortest form that reads back as the same double
  append_json(out, e);
  EXPECT_NE(out.find(R"("value":0.30000000000000004})"), std::string::npos) << out;
}

}  // namespace
}  // namespace sy::telemetry
