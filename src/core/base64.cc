#include "core/base64.h"

#include <array>
#include <cstdint>

namespace sy {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr int8_t kInvalid = -1;

constexpr std::array<int8_t, 256> make_decode_table() {
  std::array<int8_t, 256> table{};
  table.fill(kInvalid);
  for (size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}
constexpr std::array<int8_t, 256> kDecodeTable = make_decode_table();

}  // namespace

void base64_append(std::string& out, std::string_view bytes) {
  out.reserve(out.size() + (bytes.size() + 2) / 3 * 4);
  auto byte = [&](size_t i) {
    return static_cast<uint32_t>(static_cast<unsigned char>(bytes[i]));
  };
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t group = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += kAlphabet[group >> 18 & 63];
    out += kAlphabet[group >> 12 & 63];
    out += kAlphabet[group >> 6 & 63];
    out += kAlphabet[group & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 0) {
    return;
  }
  uint32_t group = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
  out += kAlphabet[group >> 18 & 63];
  out += kAlphabet[group >> 12 & 63];
  out += rest == 2 ? kAlphabet[group >> 6 & 63] : '=';
  out += '=';
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  base64_append(out, bytes);
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  size_t data_chars = text.size();
  while (data_chars > 0 && text[data_chars - 1] == '=') {
    --data_chars;
  }
  size_t padding = text.size() - data_chars;
  if (padding > 2) {
    return std::nullopt;
  }
  if (padding > 0 && text.size() % 4 != 0) {
    return std::nullopt;
  }
  if (data_chars % 4 == 1) {  // no encoding leaves a single character
    return std::nullopt;
  }

  std::string out;
  out.reserve(data_chars / 4 * 3 + 2);
  uint32_t bits = 0;
  int bit_count = 0;
  for (size_t i = 0; i < data_chars; ++i) {
    int8_t value = kDecodeTable[static_cast<unsigned char>(text[i])];
    if (value == kInvalid) {
      return std::nullopt;
    }
    bits = bits << 6 | static_cast<uint32_t>(value);
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out += static_cast<char>(bits >> bit_count & 0xFF);
    }
  }
  return out;
}

}  // namespace sy
