#pragma once
// JSON helpers shared by the activation, the tool and the conformance runner.
//
//   auto v = parse_json(R"({"a":[1,2.5,"x"]})", /*copy_strings=*/true);  // map{a: [1, 2.5, "x"]}
//   std::string t = to_typed_json(*v);  // {"type":"map","value":[...]}

#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "cel/cel.h"

namespace sy::cel {

// Objects become maps, arrays lists, integral numbers int (double when out of range).
// Without copy_strings, unescaped strings are views into `text`.
tl::expected<Value, std::string> parse_json(std::string_view text, bool copy_strings);
// A parsed typed-JSON value ({"type":..., "value":...}) to the Value it describes.
tl::expected<Value, std::string> from_typed_value(const Value& parsed);
tl::expected<std::string, std::string> base64_decode(std::string_view in);
std::string base64_encode(std::string_view in);

}  // namespace sy::cel
