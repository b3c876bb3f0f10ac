#include "core/thread_name.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <thread>

namespace sy {
namespace {

std::string name_of_this_thread() {
  std::array<char, 64> buf{};
  pthread_getname_np(pthread_self(), buf.data(), buf.size());
  return buf.data();
}

TEST(ThreadName, NamesTheCallingThreadCutTo15Bytes) {
  std::string short_name;
  std::string long_name;
  std::thread([&] {
    name_this_thread("sy-log");
    short_name = name_of_this_thread();
    name_this_thread("sy-export-mixpanel");
    long_name = name_of_this_thread();
  }).join();
  EXPECT_EQ(short_name, "sy-log");
  EXPECT_EQ(long_name, "sy-export-mixpa");
}

}  // namespace
}  // namespace sy
