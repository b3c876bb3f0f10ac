// Timestamps and durations: parsing, formatting, arithmetic range checks and the get*
// accessors, with time zones from fixed offsets or the system tz database (see timezone.h).
#include <fmt/format.h>

#include <cstdlib>

#include "cel/eval.h"
#include "cel/timezone.h"

namespace sy::cel {
namespace {

constexpr int64_t kNanos = 1'000'000'000;
constexpr int64_t kMinTimestamp = -62135596800;   // 0001-01-01T00:00:00Z
constexpr int64_t kMaxTimestamp = 253402300799;   // 9999-12-31T23:59:59Z
constexpr int64_t kMaxDurationSeconds = 9223372036;

// Howard Hinnant's civil calendar algorithms.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// Seconds east of UTC at `utc_seconds` for zone `tz`, or an error value.
Value zone_offset(std::string_view tz, int64_t utc_seconds, int64_t& offset) {
  auto r = utc_offset(tz, utc_seconds);
  if (!r) return Value::error(r.error());
  offset = *r;
  return Value::null();
}

enum class Field { kYear, kMonth, kDate, kDayOfMonth, kDayOfYear, kDayOfWeek, kHours, kMinutes, kSeconds, kMillis };

template <Field F>
Value ts_get(const Value* a, int n) {
  int64_t offset = 0;
  if (n == 2) {
    Value err = zone_offset(a[1].str(), a[0].seconds(), offset);
    if (err.is_error()) return err;
  }
  const int64_t local = a[0].seconds() + offset;
  const int64_t days = floor_div(local, 86400);
  const int64_t secs = local - days * 86400;
  const Civil c = civil_from_days(days);
  switch (F) {
    case Field::kYear: return Value::integer(c.year);
    case Field::kMonth: return Value::integer(c.month - 1);
    case Field::kDate: return Value::integer(c.day);
    case Field::kDayOfMonth: return Value::integer(c.day - 1);
    case Field::kDayOfYear: return Value::integer(days - days_from_civil(c.year, 1, 1));
    case Field::kDayOfWeek: return Value::integer(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
    case Field::kHours: return Value::integer(secs / 3600);
    case Field::kMinutes: return Value::integer((secs / 60) % 60);
    case Field::kSeconds: return Value::integer(secs % 60);
    case Field::kMillis: return Value::integer(a[0].nanos() / 1'000'000);
  }
  return Value::null();
}

template <Field F>
Value ts_get1(const Value* a, EvalContext&) { return ts_get<F>(a, 1); }
template <Field F>
Value ts_get2(const Value* a, EvalContext&) { return ts_get<F>(a, 2); }

template <int64_t Unit>
Value dur_get(const Value* a, EvalContext&) {
  return Value::integer(static_cast<int64_t>(total_nanos(a[0]) / Unit));
}

Value dur_millis(const Value* a, EvalContext&) {
  return Value::integer(static_cast<int64_t>((total_nanos(a[0]) / 1'000'000) % 1000));
}

Value timestamp_from_string(const Value* a, EvalContext&) { return parse_timestamp(a[0].str()); }
Value timestamp_from_int(const Value* a, EvalContext&) {
  return make_timestamp(static_cast<Int128>(a[0].as_int()) * kNanos);
}
Value identity(const Value* a, EvalContext&) { return a[0]; }
Value duration_from_string(const Value* a, EvalContext&) { return parse_duration(a[0].str()); }

}  // namespace

Int128 total_nanos(const Value& v) { return static_cast<Int128>(v.seconds()) * kNanos + v.nanos(); }

Value make_timestamp(Int128 total) {
  Int128 s = total / kNanos;
  Int128 n = total % kNanos;
  if (n < 0) {
    n += kNanos;
    s -= 1;
  }
  if (s < kMinTimestamp || s > kMaxTimestamp) return Value::error("timestamp out of range");
  return Value::timestamp(static_cast<int64_t>(s), static_cast<int32_t>(n));
}

Value make_duration(Int128 total) {
  // Durations are 64-bit nanosecond counts (about +-292 years), as in Go's time.Duration.
  if (total > INT64_MAX || total < INT64_MIN) return Value::error("duration out of range");
  Int128 s = total / kNanos;
  Int128 n = total % kNanos;
  if (n < 0) {
    n += kNanos;
    s -= 1;
  }
  return Value::duration(static_cast<int64_t>(s), static_cast<int32_t>(n));
}

std::string format_timestamp(const Value& v) {
  const int64_t days = floor_div(v.seconds(), 86400);
  const int64_t secs = v.seconds() - days * 86400;
  const Civil c = civil_from_days(days);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", c.year, c.month, c.day, secs / 3600,
                                (secs / 60) % 60, secs % 60);
  if (v.nanos() != 0) {
    std::string frac = fmt::format("{:09}", v.nanos());
    while (frac.back() == '0') frac.pop_back();
    out += "." + frac;
  }
  return out + "Z";
}

std::string format_duration(const Value& v) {
  const Int128 t = total_nanos(v);
  const bool neg = t < 0;
  const Int128 a = neg ? -t : t;
  const auto secs = static_cast<int64_t>(a / kNanos);
  const auto nanos = static_cast<int64_t>(a % kNanos);
  std::string out = neg ? "-" : "";
  out += fmt::format("{}", secs);
  if (nanos != 0) {
    std::string frac = fmt::format("{:09}", nanos);
    while (frac.back() == '0') frac.pop_back();
    out += "." + frac;
  }
  return out + "s";
}

Value parse_timestamp(std::string_view s) {
  int y, mo, d, h, mi, se;
  auto bad = [&] { return Value::error(fmt::format("invalid timestamp '{}'", s)); };
  if (s.size() < 20 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, h) || s[13] != ':' ||
      !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se)) {
    return bad();
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return bad();
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int count = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (count < 9) {
        nanos = nanos * 10 + (s[pos] - '0');
        ++count;
      }
      ++pos;
    }
    if (count == 0) return bad();
    while (count++ < 9) nanos *= 10;
  }
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om)) {
      return bad();
    }
    offset = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  const int64_t secs = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
                       h * 3600 + mi * 60 + se - offset;
  return make_timestamp(static_cast<Int128>(secs) * kNanos + nanos);
}

Value parse_duration(std::string_view s) {
  auto bad = [&] { return Value::error(fmt::format("invalid duration '{}'", s)); };
  size_t pos = 0;
  bool neg = false;
  if (pos < s.size() && (s[pos] == '-' || s[pos] == '+')) neg = s[pos++] == '-';
  if (s.substr(pos) == "0") return Value::duration(0, 0);
  if (pos >= s.size()) return bad();
  Int128 total = 0;
  while (pos < s.size()) {
    Int128 whole = 0;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      whole = whole * 10 + (s[pos++] - '0');
      // 2^80 is far beyond any valid duration in any unit, and whole * unit (unit < 2^42)
      // stays inside Int128.
      if (whole > static_cast<Int128>(1) << 80) {
        return bad();
      }
    }
    const bool had_whole = pos > start;
    Int128 frac = 0;
    Int128 scale = 1;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      start = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (scale < static_cast<Int128>(1) << 70) {  // later digits are below a nanosecond
          frac = frac * 10 + (s[pos] - '0');
          scale *= 10;
        }
        ++pos;
      }
      if (!had_whole && pos == start) return bad();
    } else if (!had_whole) {
      return bad();
    }
    int64_t unit = 0;
    auto unit_is = [&](std::string_view u) {
      if (s.substr(pos, u.size()) == u) {
        pos += u.size();
        return true;
      }
      return false;
    };
    if (unit_is("ns")) unit = 1;
    else if (unit_is("us") || unit_is("\xC2\xB5s") || unit_is("\xCE\xBCs")) unit = 1000;
    else if (unit_is("ms")) unit = 1'000'000;
    else if (unit_is("s")) unit = kNanos;
    else if (unit_is("m")) unit = 60 * kNanos;
    else if (unit_is("h")) unit = 3600 * kNanos;
    else return bad();
    total += whole * unit + frac * unit / scale;
    if (total > static_cast<Int128>(kMaxDurationSeconds + 1) * kNanos * 2) return bad();
  }
  return make_duration(neg ? -total : total);
}

void register_time(Registry& r) {
  constexpr uint8_t kT = k(Kind::kTimestamp);
  constexpr uint8_t kDur = k(Kind::kDuration);
  constexpr uint8_t kS = k(Kind::kString);
  r.add("timestamp", false, {kS}, timestamp_from_string);
  r.add("timestamp", false, {k(Kind::kInt)}, timestamp_from_int);
  r.add("timestamp", false, {kT}, identity);
  r.add("duration", false, {kS}, duration_from_string);
  r.add("duration", false, {kDur}, identity);
#define SY_TS_ACCESSOR(name, field)             \
  r.add(name, true, {kT}, ts_get1<Field::field>); \
  r.add(name, true, {kT, kS}, ts_get2<Field::field>);
  SY_TS_ACCESSOR("getFullYear", kYear)
  SY_TS_ACCESSOR("getMonth", kMonth)
  SY_TS_ACCESSOR("getDate", kDate)
  SY_TS_ACCESSOR("getDayOfMonth", kDayOfMonth)
  SY_TS_ACCESSOR("getDayOfYear", kDayOfYear)
  SY_TS_ACCESSOR("getDayOfWeek", kDayOfWeek)
  SY_TS_ACCESSOR("getHours", kHours)
  SY_TS_ACCESSOR("getMinutes", kMinutes)
  SY_TS_ACCESSOR("getSeconds", kSeconds)
  SY_TS_ACCESSOR("getMilliseconds", kMillis)
#undef SY_TS_ACCESSOR
  r.add("getHours", true, {kDur}, dur_get<3600 * kNanos>);
  r.add("getMinutes", true, {kDur}, dur_get<60 * kNanos>);
  r.add("getSeconds", true, {kDur}, dur_get<kNanos>);
  r.add("getMilliseconds", true, {kDur}, dur_millis);
}

}  // namespace sy::cel
