#pragma once
// Internal to the SQLite log store: the text forms it reads or hands out besides blocks.
//
//   auto attempts = decode_attempts(column, rec.id);      // a version-3 row's attempts
//   std::string next = encode_cursor({time_ms, pos});  auto c = decode_cursor(next);
//
// The cursor starts with a version: one from an older format is refused, not misread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "telemetry/record.h"

namespace sy::store::sqlite_log {

// The attempts column of a version-3 row (a JSON array whose members at their default were
// left out); kInternal naming record `id` when it is not that.
Result<std::vector<telemetry::AttemptRecord>> decode_attempts(std::string_view text,
                                                              std::string_view id);

// A page position: the last record shown (or looked at), in page order (time_ms, then pos:
// sqlite_log_store_impl.h's position()).
struct Cursor {
  int64_t time_ms = 0;
  int64_t pos = 0;
};

// An opaque base64url token of 23 characters.
std::string encode_cursor(Cursor c);
// nullopt for anything encode_cursor did not produce (length, alphabet, version, padding).
std::optional<Cursor> decode_cursor(std::string_view s);

}  // namespace sy::store::sqlite_log
