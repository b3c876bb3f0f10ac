#pragma once
// Request ids: unique, sortable by creation time, cheap (no syscall, no lock).
//
//   std::string id = sy::new_request_id();   // "req_01JD3K8Z4X7Q2M9N5P6R"

#include <cstdint>
#include <string>
#include <string_view>

namespace sy {

// 26 characters of Crockford base32 after "req_": 48 bits of milliseconds, 80 bits of a
// per-thread sequence seeded from the OS once per thread.
std::string new_request_id();

// Writes the id into `out` (must hold kRequestIdSize bytes), for callers that avoid allocation;
// returns the unix ms it carries (what request_id_ms() would read back).
inline constexpr size_t kRequestIdSize = 30;
int64_t new_request_id(char* out);

// The unix ms a request id of new_request_id()'s form was made at (when its request arrived);
// -1 for any other string.
int64_t request_id_ms(std::string_view id);

}  // namespace sy
