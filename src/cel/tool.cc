#include "cel/tool.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "cel/cel.h"

namespace sy::cel {
namespace {

constexpr std::string_view kUsage =
    "usage:\n"
    "  cel eval EXPR [--vars JSON | --vars-file FILE] [--container NAME] [--declare NAME:TYPE]...\n"
    "  cel check EXPR [--container NAME] [--declare NAME:TYPE]...\n"
    "Evaluates (or only compiles) a CEL expression. Variables are the top-level fields of a JSON\n"
    "object. --declare (e.g. plan:string, headers:'map(string, string)') turns on the type\n"
    "checker: references to anything undeclared and operations on the wrong types are compile\n"
    "errors. The result prints as typed JSON; errors print with their position.\n";

int usage(std::string_view why) {
  if (!why.empty()) std::fprintf(stderr, "cel: %.*s\n", static_cast<int>(why.size()), why.data());
  std::fprintf(stderr, "%.*s", static_cast<int>(kUsage.size()), kUsage.data());
  return 2;
}

}  // namespace

int run_tool(int argc, char** argv) {
  if (argc < 2) return usage("");
  const std::string_view cmd = argv[1];
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    std::printf("%.*s", static_cast<int>(kUsage.size()), kUsage.data());
    return 0;
  }
  if (cmd != "eval" && cmd != "check") return usage("unknown command '" + std::string(cmd) + "'");
  if (argc < 3) return usage("missing EXPR");
  const std::string expr = argv[2];
  std::string vars = "{}";
  Env env;
  for (int i = 3; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 >= argc) return usage("missing value for " + std::string(a));
    if (a == "--vars") {
      vars = argv[++i];
    } else if (a == "--vars-file") {
      std::ifstream in(argv[++i], std::ios::binary);
      if (!in) return usage("cannot read " + std::string(argv[i]));
      std::stringstream ss;
      ss << in.rdbuf();
      vars = ss.str();
    } else if (a == "--container") {
      env.container(argv[++i]);
    } else if (a == "--declare") {
      const std::string_view d = argv[++i];
      const size_t colon = d.find(':');
      if (colon == std::string_view::npos || colon == 0) return usage("--declare wants NAME:TYPE, e.g. plan:string");
      env.declare(std::string(d.substr(0, colon)), std::string(d.substr(colon + 1)));
    } else {
      return usage("unknown option " + std::string(a));
    }
  }
  auto program = compile(expr, env);
  if (!program) {
    std::fprintf(stderr, "error: %s\n", program.error().to_string().c_str());
    return 1;
  }
  if (cmd == "check") {
    std::printf("ok\n");
    return 0;
  }
  auto act = Activation::from_json(vars);
  if (!act) {
    std::fprintf(stderr, "error: variables: %s\n", act.error().message.c_str());
    return 2;
  }
  auto v = program->evaluate(*act);
  if (!v) {
    std::fprintf(stderr, "error: evaluation: %s\n", v.error().to_string().c_str());
    return 1;
  }
  std::printf("%s\n", to_typed_json(*v).c_str());
  return 0;
}

}  // namespace sy::cel
