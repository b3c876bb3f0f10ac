#include "store/log_record_codec.h"

#include <array>
#include <charconv>

#include <fmt/core.h>

#include "core/json_scan.h"

namespace sy::store::sqlite_log {

using telemetry::AttemptRecord;

namespace {

template <class T>
bool parse_number(const json::Field& f, T& out) {
  if (!f.present()) {
    return true;  // left out: the default stays
  }
  const char* end = f.raw.data() + f.raw.size();
  auto [p, ec] = std::from_chars(f.raw.data(), end, out);
  return ec == std::errc() && p == end;
}

constexpr std::string_view kB64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// 2: positions in blocks (version 1 held a row's seq).
constexpr uint8_t kCursorVersion = 2;
constexpr size_t kCursorBytes = 17;  // version, time_ms, pos (big-endian)
constexpr size_t kCursorChars = (kCursorBytes * 8 + 5) / 6;

}  // namespace

Result<std::vector<AttemptRecord>> decode_attempts(std::string_view text, std::string_view id) {
  static constexpr std::array<std::string_view, 11> kKeys = {
      "model",   "provider", "status",    "error_class", "start_ms", "duration_ms",
      "ttft_ms", "served",   "tokens_in", "tokens_out",  "cost_usd"};
  std::vector<json::Field> f;
  bool ok = static_cast<bool>(json::scan_elements(text, kKeys, f));
  std::vector<AttemptRecord> out(ok ? f.size() / kKeys.size() : 0);
  for (size_t i = 0; ok && i < out.size(); ++i) {
    const json::Field* e = &f[i * kKeys.size()];
    AttemptRecord& a = out[i];
    a.model = e[0].present() ? json::unescape(e[0].raw) : "";
    a.provider = e[1].present() ? json::unescape(e[1].raw) : "";
    a.error_class = e[3].present() ? json::unescape(e[3].raw) : "";
    a.served = e[7].kind == json::Kind::kTrue;
    ok = parse_number(e[2], a.status) && parse_number(e[4], a.start_ms) &&
         parse_number(e[5], a.duration_ms) && parse_number(e[6], a.ttft_ms) &&
         parse_number(e[8], a.tokens_in) && parse_number(e[9], a.tokens_out) &&
         parse_number(e[10], a.cost_usd);
  }
  if (!ok) {
    return fail(ErrorCode::kInternal,
                fmt::format("log store: record '{}' has a malformed attempts column", id));
  }
  return out;
}

std::string encode_cursor(Cursor c) {
  std::array<uint8_t, kCursorBytes> b{};
  b[0] = kCursorVersion;
  for (int i = 0; i < 8; ++i) {
    b[1 + i] = static_cast<uint8_t>(static_cast<uint64_t>(c.time_ms) >> (56 - 8 * i));
    b[9 + i] = static_cast<uint8_t>(static_cast<uint64_t>(c.pos) >> (56 - 8 * i));
  }
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t byte : b) {
    acc = (acc << 8) | byte;
    for (bits += 8; bits >= 6; bits -= 6) {
      out += kB64[(acc >> (bits - 6)) & 63];
    }
  }
  out += kB64[(acc << (6 - bits)) & 63];
  return out;
}

std::optional<Cursor> decode_cursor(std::string_view s) {
  if (s.size() != kCursorChars) {
    return std::nullopt;
  }
  std::array<uint8_t, kCursorBytes> b{};
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (char ch : s) {
    size_t v = kB64.find(ch);
    if (v == std::string_view::npos) {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n < b.size()) {
        b[n++] = static_cast<uint8_t>(acc >> bits);
      }
    }
  }
  if (b[0] != kCursorVersion || (acc & ((1U << bits) - 1)) != 0) {
    return std::nullopt;
  }
  uint64_t t = 0;
  uint64_t q = 0;
  for (int i = 0; i < 8; ++i) {
    t = (t << 8) | b[1 + i];
    q = (q << 8) | b[9 + i];
  }
  return Cursor{static_cast<int64_t>(t), static_cast<int64_t>(q)};
}

}  // namespace sy::store::sqlite_log
