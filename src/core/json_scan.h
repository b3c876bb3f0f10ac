#pragma once
// A validating JSON scanner that finds top-level fields without building a tree.
//
//   std::array<std::string_view, 2> keys{"model", "stream"};
//   std::array<json::Field, 2> out;
//   if (auto r = json::scan_object(body, keys, out); !r) return r.error();
//   out[0].raw  // "\"gpt-4o\"" — a view into body, quotes included: splice by byte range
//
// The hot path needs three or four fields of a request body and the guarantee that the body is
// well-formed JSON; a full parse would allocate a node per value. This walks the bytes once.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace sy::json {

enum class Kind { kMissing, kString, kNumber, kObject, kArray, kTrue, kFalse, kNull };

struct Field {
  std::string_view raw;  // the value's bytes inside the scanned text (strings keep their quotes)
  Kind kind = Kind::kMissing;
  bool present() const { return kind != Kind::kMissing; }
  size_t offset_in(std::string_view text) const { return static_cast<size_t>(raw.data() - text.data()); }
};

// A top-level member of a scanned object.
struct Member {
  std::string_view key;  // the raw key token, quotes included
  Field value;
};

struct ScanOptions {
  int max_depth = 128;  // nesting beyond this is rejected, so no input can exhaust the stack
};

// Checks that `text` is exactly one JSON object (surrounding whitespace allowed) and fills
// out[i] with the value of top-level key keys[i] (the last one if a key repeats).
// An error says what was expected and at which byte.
Result<bool> scan_object(std::string_view text, std::span<const std::string_view> keys,
                         std::span<Field> out, ScanOptions options = {});
// The same, also listing every top-level member in `members` (cleared first), so that fields
// not known in advance can be found later without scanning again.
Result<bool> scan_object(std::string_view text, std::span<const std::string_view> keys,
                         std::span<Field> out, std::vector<Member>& members, ScanOptions options = {});

// Checks that `text` is exactly one JSON array and lists its elements in order.
Result<bool> scan_array(std::string_view text, std::vector<Field>& elements, ScanOptions options = {});

// Checks that `text` is one JSON array and, in one pass, reads the top-level fields `keys` of
// each element: out gets keys.size() fields per element, in order (missing for elements that
// are not objects). For arrays of objects such as chat messages.
Result<bool> scan_elements(std::string_view text, std::span<const std::string_view> keys, std::vector<Field>& out,
                           ScanOptions options = {});

// Checks that `text` is one well-formed JSON value of any kind.
Result<bool> validate(std::string_view text, ScanOptions options = {});

// The decoded contents of a raw JSON string token (quotes included). Invalid input yields "".
std::string unescape(std::string_view raw);
// The same, appended to `out` (a reused buffer).
void append_unescaped(std::string& out, std::string_view raw);

// Appends `s` to `out` as a JSON string literal, quotes included.
void append_quoted(std::string& out, std::string_view s);
// The same written at `out`, which has room for max_quoted_size(s.size()) bytes; returns the
// end of what it wrote. For writers that size their buffer once (telemetry/record_json.cc).
constexpr size_t max_quoted_size(size_t n) { return 2 + 6 * n; }  // every byte as \u00XX
char* write_quoted(char* out, std::string_view s);

}  // namespace sy::json
