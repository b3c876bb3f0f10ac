#pragma once
// Base64 (RFC 4648 §4: standard alphabet, '=' padding), for binary payloads in JSON.
//
//   std::string b64 = base64_encode("hi");           // "aGk="
//   base64_append(json, pcm_bytes);                 // appends to an existing buffer
//   std::optional<std::string> raw = base64_decode("aGk");  // "hi" (padding optional)

#include <optional>
#include <string>
#include <string_view>

namespace sy {

// Appends the padded encoding of `bytes` to `out` (reserves once; no other allocation).
void base64_append(std::string& out, std::string_view bytes);

// The padded encoding of `bytes`.
std::string base64_encode(std::string_view bytes);

// The bytes `text` encodes, or nullopt when it is not base64: a character outside the
// standard alphabet (whitespace included), '=' anywhere but the end, a length that no
// encoding has, or padding that does not bring the length to a multiple of four.
// Padding may be left out.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace sy
