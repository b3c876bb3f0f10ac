#include "core/ids.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

namespace sy {
namespace {

TEST(RequestId, UniqueAndWellFormed) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    std::string id = new_request_id();
    ASSERT_EQ(id.size(), kRequestIdSize);
    ASSERT_EQ(id.rfind("req_", 0), 0u);
    ASSERT_TRUE(seen.insert(id).second) << id;
  }
}

TEST(RequestId, CarriesTheMillisecondItWasMadeAt) {
  auto now = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const int64_t before = now();
  const std::string id = new_request_id();
  const int64_t after = now();
  const int64_t ms = request_id_ms(id);
  EXPECT_GE(ms, before);
  EXPECT_LE(ms, after);
  char raw[kRequestIdSize];
  const int64_t made_at = new_request_id(raw);  // the ms it returns is the one the id carries
  EXPECT_EQ(request_id_ms(std::string_view(raw, kRequestIdSize)), made_at);
  EXPECT_GE(made_at, ms);
  EXPECT_EQ(request_id_ms("req_0000000001ZZZZZZZZZZZZZZZZ"), 1);
  EXPECT_EQ(request_id_ms("req_0000000010ZZZZZZZZZZZZZZZZ"), 32);
  for (std::string_view other : {"", "req_", "r1", "req_0000000001ZZZZZZZZZZZZZZZ",
                                 "req_0000000001ZZZZZZZZZZZZZZZZZ", "req_000000000IZZZZZZZZZZZZZZZZ",
                                 "req_000000000aZZZZZZZZZZZZZZZZ", "evt_0000000001ZZZZZZZZZZZZZZZZ"}) {
    EXPECT_EQ(request_id_ms(other), -1) << other;
  }
  EXPECT_EQ(request_id_ms(std::string_view("req_0000000001ZZZZZZZZZZZZZZZ\0", 30)), -1);
}

}  // namespace
}  // namespace sy
