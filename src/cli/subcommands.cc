#include "cli/subcommands.h"

#include <CLI/CLI.hpp>

#if SY_HAVE_CEL_TOOL
#include "cel/tool.h"
#endif

namespace sy::cli {

void add_extra_subcommands(CLI::App& app) {
#if SY_HAVE_CEL_TOOL
  auto* cel = app.add_subcommand("cel", "evaluate or check a CEL expression (see docs/cel.md)");
  cel->allow_extras();
  cel->prefix_command();
#else
  (void)app;
#endif
}

int run_extra_subcommand(CLI::App& app, int argc, char** argv) {
#if SY_HAVE_CEL_TOOL
  if (app.got_subcommand("cel")) {
    // Hand the tool its own argv: "cel" followed by everything after it.
    for (int i = 1; i < argc; ++i) {
      if (std::string_view(argv[i]) == "cel") return sy::cel::run_tool(argc - i, argv + i);
    }
  }
#else
  (void)argc;
  (void)argv;
#endif
  std::fprintf(stderr, "%s", app.help().c_str());
  return 2;
}

}  // namespace sy::cli
