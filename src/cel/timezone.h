#pragma once
// Time zone offsets for the timestamp accessors.
//
//   auto off = utc_offset("America/Los_Angeles", 1234567890);  // -28800
//   auto fixed = utc_offset("+05:30", 0);                       // 19800
//
// IANA names are read from the system tz database (TZif files under /usr/share/zoneinfo),
// parsed once per zone and cached for the life of the process.

#include <cstdint>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace sy::cel {

// Seconds east of UTC in zone `tz` at instant `utc_seconds`, or why the zone is unknown.
tl::expected<int64_t, std::string> utc_offset(std::string_view tz, int64_t utc_seconds);

}  // namespace sy::cel
