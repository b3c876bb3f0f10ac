#pragma once
// Names the calling thread, as `top -H`, `ps -L`, perf and gdb show it: "sy-http-0", "sy-log".

#include <pthread.h>

#include <string>
#include <string_view>

namespace sy {

// Linux keeps 15 bytes of a name; the rest is cut.
inline void name_this_thread(std::string_view name) {
  const std::string cut(name.substr(0, 15));
  pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace sy
