#pragma once
// The wall clock as Unix milliseconds: request ids, records' times, stored rows' times.

#include <chrono>
#include <cstdint>

namespace sy {

inline int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace sy
