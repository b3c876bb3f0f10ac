#pragma once
// Three tiers for bugs: SY_ASSERT (debug only), SY_RELEASE_ASSERT (always fatal),
// SY_BUG (abort in debug; in release log once per site and count, then carry on).

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace sy {
inline std::atomic<unsigned long> g_bug_count{0};
[[noreturn]] inline void assert_fail(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "switchyard: assertion failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}
}  // namespace sy

#define SY_RELEASE_ASSERT(x) ((x) ? void(0) : ::sy::assert_fail(#x, __FILE__, __LINE__))
#ifdef NDEBUG
#define SY_ASSERT(x) void(0)
#define SY_BUG(msg)                                                                 \
  do {                                                                              \
    static bool sy_logged = false;                                                  \
    if (!sy_logged) {                                                               \
      sy_logged = true;                                                             \
      std::fprintf(stderr, "switchyard: bug: %s at %s:%d\n", msg, __FILE__, __LINE__); \
    }                                                                               \
    ::sy::g_bug_count.fetch_add(1, std::memory_order_relaxed);                      \
  } while (0)
#else
#define SY_ASSERT(x) SY_RELEASE_ASSERT(x)
#define SY_BUG(msg) ::sy::assert_fail(msg, __FILE__, __LINE__)
#endif
