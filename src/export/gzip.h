#pragma once
// gzip (RFC 1952) for request bodies, over zlib.
//
//   std::string body = gzip(json);           // send with `content-encoding: gzip`
//   auto back = gunzip(body, 16 << 20);      // Result<std::string>, for tests and fakes

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sy::exports {

std::string gzip(std::string_view data, int level = 6);

// Fails on malformed input or when the result would exceed `max_bytes`.
Result<std::string> gunzip(std::string_view data, size_t max_bytes);

}  // namespace sy::exports
