#include "core/ids.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sy
