#include "core/ids.h"

#include <array>
#include <random>

#include "core/clock.h"

namespace sy {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

struct ThreadSeq {
  uint64_t hi;
  uint64_t lo;
  ThreadSeq() {
    std::random_device rd;
    hi = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    lo = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
};

}  // namespace

int64_t new_request_id(char* out) {
  thread_local ThreadSeq seq;
  const auto ms = static_cast<uint64_t>(unix_now_ms());
  ++seq.lo;
  out[0] = 'r';
  out[1] = 'e';
  out[2] = 'q';
  out[3] = '_';
  // 10 chars of time (50 bits), then 16 chars of the 80-bit sequence.
  for (int i = 9; i >= 0; --i) out[4 + (9 - i)] = kAlphabet[(ms >> (i * 5)) & 31];
  const uint64_t parts[2] = {seq.hi & 0xFFFFFFFFFFULL, seq.lo & 0xFFFFFFFFFFULL};
  for (int p = 0; p < 2; ++p) {
    for (int i = 7; i >= 0; --i) out[14 + p * 8 + (7 - i)] = kAlphabet[(parts[p] >> (i * 5)) & 31];
  }
  return static_cast<int64_t>(ms & ((uint64_t{1} << 50) - 1));
}

int64_t request_id_ms(std::string_view id) {
  // Each byte's value in the alphabet, -1 for bytes outside it.
  static constexpr auto kValue = [] {
    std::array<int8_t, 256> v{};
    v.fill(-1);
    for (int i = 0; i < 32; ++i) v[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
    return v;
  }();
  if (id.size() != kRequestIdSize || id.substr(0, 4) != "req_") return -1;
  int64_t ms = 0;
  for (size_t i = 4; i < kRequestIdSize; ++i) {
    const int8_t digit = kValue[static_cast<unsigned char>(id[i])];
    if (digit < 0) return -1;
    if (i < 14) ms = ms * 32 + digit;
  }
  return ms;
}

std::string new_request_id() {
  std::string s(kRequestIdSize, '\0');
  new_request_id(s.data());
  return s;
}

}  // namespace sy
