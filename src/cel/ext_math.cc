#include "cel/eval.h"
namespace sy::cel {
void register_math_ext(Registry&) {}
}  // namespace sy::cel
