#include "store/user_visits.h"

#include <gtest/gtest.h>

namespace sy::store {
namespace {

uint64_t same_for_all(std::string_view) { return 42; }

// The same visits, with the real hash and with one under which every user collides.
class UserVisitsTest : public ::testing::TestWithParam<UserVisits::Hash> {};

TEST_P(UserVisitsTest, CountsDistinctUsersAndFindsEachUsersVariant) {
  UserVisits v(GetParam());
  // u1: group 0 twice, group 1 once → 0. u2: 1 then 0, once each → 0 (the later). u3: group 1.
  v.add("u1", 0, 10);
  v.add("u2", 1, 11);
  v.add("u1", 1, 12);
  v.add("u3", 1, 13);
  v.add("u1", 0, 14);
  v.add("u2", 0, 15);
  v.add("u10", 2, 16);  // a name that another one starts with
  EXPECT_EQ(v.finish(4), (std::vector<int64_t>{2, 3, 1, 0}));
  EXPECT_EQ(v.favourite("u1"), 0u);
  EXPECT_EQ(v.favourite("u2"), 0u);
  EXPECT_EQ(v.favourite("u3"), 1u);
  EXPECT_EQ(v.favourite("u10"), 2u);
  EXPECT_EQ(v.favourite("u4"), std::nullopt);
  EXPECT_EQ(v.favourite("u"), std::nullopt);
}

TEST_P(UserVisitsTest, NoVisits) {
  UserVisits v(GetParam());
  EXPECT_EQ(v.finish(2), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(v.favourite("u1"), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(Hashes, UserVisitsTest, ::testing::Values(&UserVisits::default_hash, &same_for_all));

}  // namespace
}  // namespace sy::store
