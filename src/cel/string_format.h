#pragma once
// Internal: the strings extension's format() ("%s is %d".format([a, b])).
//
//   Value s = format_string("%.2f", Value::list({Value::dbl(1.234)}), ctx);  // "1.23"

#include <string_view>

#include "cel/eval.h"

namespace sy::cel {

Value format_string(std::string_view format, const Value& args, EvalContext& ctx);

}  // namespace sy::cel
