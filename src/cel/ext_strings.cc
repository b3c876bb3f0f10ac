#include "cel/eval.h"
namespace sy::cel {
void register_strings_ext(Registry&) {}
}  // namespace sy::cel
