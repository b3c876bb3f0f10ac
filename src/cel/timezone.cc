#include "cel/timezone.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <fmt/format.h>

namespace sy::cel {
namespace {

struct Zone {
  std::vector<int64_t> transitions;
  std::vector<uint8_t> types;    // per transition: index into offsets
  std::vector<int32_t> offsets;  // per local time type
  int32_t initial = 0;           // offset before the first transition
};

uint32_t be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
int64_t be64(const unsigned char* p) {
  return static_cast<int64_t>((uint64_t{be32(p)} << 32) | be32(p + 4));
}

// Parses a TZif file (RFC 8536); uses the 64-bit block when present.
std::unique_ptr<Zone> parse_tzif(const std::string& data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t size = data.size();
  auto header = [&](size_t at, uint32_t c[6]) {
    if (at + 44 > size || data.compare(at, 4, "TZif") != 0) return false;
    for (int i = 0; i < 6; ++i) c[i] = be32(p + at + 20 + 4 * i);
    return true;
  };
  uint32_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  if (!header(0, c)) return nullptr;
  size_t at = 44;
  size_t time_size = 4;
  if (data[4] >= '2') {
    // Counts are 32-bit: add them up in size_t so a corrupt header cannot wrap the bounds check.
    at += size_t{c[3]} * 5 + size_t{c[4]} * 6 + c[5] + size_t{c[2]} * 8 + c[1] + c[0];
    if (!header(at, c)) return nullptr;
    at += 44;
    time_size = 8;
  }
  const size_t need = size_t{c[3]} * (time_size + 1) + size_t{c[4]} * 6;
  if (at + need > size || c[4] == 0) return nullptr;
  auto zone = std::make_unique<Zone>();
  for (uint32_t i = 0; i < c[3]; ++i) {
    const unsigned char* q = p + at + i * time_size;
    zone->transitions.push_back(time_size == 8 ? be64(q) : static_cast<int32_t>(be32(q)));
  }
  at += c[3] * time_size;
  for (uint32_t i = 0; i < c[3]; ++i) zone->types.push_back(std::min<uint8_t>(p[at + i], static_cast<uint8_t>(c[4] - 1)));
  at += c[3];
  for (uint32_t i = 0; i < c[4]; ++i) zone->offsets.push_back(static_cast<int32_t>(be32(p + at + i * 6)));
  zone->initial = zone->offsets[0];
  return zone;
}

// The file's bytes, or "" when it cannot be read. A name such as "America" or "America//"
// names a directory: stdio reports that as a read error, where an ifstream would throw from
// inside istreambuf_iterator. TZif files are a few KB; anything larger is not one.
std::string read_zone_file(const std::string& path) {
  constexpr size_t kMaxZoneFileBytes = 1 << 20;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    return {};
  }
  std::string data;
  char buf[4096];
  for (;;) {
    const size_t n = std::fread(buf, 1, sizeof buf, f.get());
    data.append(buf, n);
    if (n < sizeof buf) {
      break;
    }
    if (data.size() > kMaxZoneFileBytes) {
      return {};
    }
  }
  if (std::ferror(f.get())) {
    return {};
  }
  return data;
}

constexpr size_t kMaxCachedMisses = 1000;

const Zone* load_zone(std::string_view name) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Zone>, std::less<>> cache;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = cache.find(name); it != cache.end()) return it->second.get();
  std::unique_ptr<Zone> zone;
  const bool safe = !name.empty() && name.size() < 64 && name.find("..") == std::string_view::npos &&
                    name.front() != '/' &&
                    std::all_of(name.begin(), name.end(), [](char ch) {
                      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '/' || ch == '_' ||
                             ch == '-' || ch == '+';
                    });
  if (safe) {
    zone = parse_tzif(read_zone_file("/usr/share/zoneinfo/" + std::string(name)));
  }
  // Real zones are cached however many there are (the tz database bounds them). Unknown names
  // are cached only up to a bound: a rule fed names from request metadata must not grow the
  // cache without end, nor (as a full cache once did) make later valid zones unknown.
  static size_t misses = 0;
  if (zone == nullptr) {
    if (misses >= kMaxCachedMisses) {
      return nullptr;
    }
    ++misses;
  }
  return cache.emplace(std::string(name), std::move(zone)).first->second.get();
}

bool fixed_offset(std::string_view tz, int64_t& out) {
  // [+-]HH:MM or HH:MM
  int sign = 1;
  if (!tz.empty() && (tz[0] == '+' || tz[0] == '-')) {
    sign = tz[0] == '-' ? -1 : 1;
    tz.remove_prefix(1);
  }
  if (tz.size() != 5 || tz[2] != ':') return false;
  for (size_t i : {0, 1, 3, 4}) {
    if (tz[i] < '0' || tz[i] > '9') return false;
  }
  const int h = (tz[0] - '0') * 10 + (tz[1] - '0');
  const int m = (tz[3] - '0') * 10 + (tz[4] - '0');
  if (h > 23 || m > 59) return false;
  out = sign * (h * 3600 + m * 60);
  return true;
}

}  // namespace

tl::expected<int64_t, std::string> utc_offset(std::string_view tz, int64_t utc_seconds) {
  int64_t off = 0;
  if (fixed_offset(tz, off)) return off;
  if (tz == "UTC" || tz == "Z" || tz == "GMT") return 0;
  const Zone* z = load_zone(tz);
  if (z == nullptr) return tl::unexpected(fmt::format("unknown time zone '{}'", tz));
  auto it = std::upper_bound(z->transitions.begin(), z->transitions.end(), utc_seconds);
  if (it == z->transitions.begin()) return z->initial;
  const size_t idx = static_cast<size_t>(it - z->transitions.begin()) - 1;
  return z->offsets[z->types[idx]];
}

}  // namespace sy::cel
