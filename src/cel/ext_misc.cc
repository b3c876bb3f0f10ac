#include "cel/eval.h"
namespace sy::cel {
void register_misc_ext(Registry&) {}
}  // namespace sy::cel
