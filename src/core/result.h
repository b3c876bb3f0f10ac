#pragma once
// Result<T>: a value or an Error.
//
//   Result<Port> r = parse_port(text);
//   if (!r) return tl::unexpected(r.error());
//   use(*r);

#include <tl/expected.hpp>

#include "core/error.h"

namespace sy {

template <class T>
class [[nodiscard]] Result : public tl::expected<T, Error> {
 public:
  using tl::expected<T, Error>::expected;
  Result(tl::expected<T, Error> e) : tl::expected<T, Error>(std::move(e)) {}  // NOLINT
};

inline tl::unexpected<Error> fail(ErrorCode code, std::string message, std::string param = {}) {
  return tl::unexpected<Error>(Error{code, std::move(message), std::move(param), 0});
}

}  // namespace sy
