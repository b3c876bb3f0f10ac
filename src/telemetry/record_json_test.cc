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

}  // namespace
}  // namespace sy::telemetry
