#pragma once
// Internal to the SQLite log store: the text forms of what it stores besides plain columns.
//
//   encode_attempts(rec.attempts, column);  auto back = decode_attempts(column, rec.id);
//   std::string next = encode_cursor({time_ms, seq});  auto c = decode_cursor(next);
//
// Both formats are stored or handed out, so they are versioned: the attempts column leaves
// out members at their default (readers fill them back in), the cursor starts with a version.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "telemetry/record.h"

namespace sy::store::sqlite_log {

// The attempt chain as a JSON array, into `out` (reused across records to keep its buffer).
void encode_attempts(const std::vector<telemetry::AttemptRecord>& attempts, std::string& out);
// kInternal naming record `id` when the column is not what encode_attempts writes.
Result<std::vector<telemetry::AttemptRecord>> decode_attempts(std::string_view text,
                                                              std::string_view id);

// A page position: the last record shown (or looked at), in page order (time_ms, then seq).
struct Cursor {
  int64_t time_ms = 0;
  int64_t seq = 0;
};

// An opaque base64url token of 23 characters.
std::string encode_cursor(Cursor c);
// nullopt for anything encode_cursor did not produce (length, alphabet, version, padding).
std::optional<Cursor> decode_cursor(std::string_view s);

}  // namespace sy::store::sqlite_log
