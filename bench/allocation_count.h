#pragma once
// Counts heap allocations in a benchmark binary by replacing the global operator new.
// Include it in exactly one file of the binary.
//
//   const uint64_t before = allocations();  work();  allocs = allocations() - before;

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace sy::bench {
inline std::atomic<uint64_t> g_allocations{0};
inline uint64_t allocations() { return g_allocations.load(std::memory_order_relaxed); }
}  // namespace sy::bench

void* operator new(size_t n) {
  sy::bench::g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
