#pragma once
// Subcommands contributed by other modules (`cel`), kept out of main.cc.

namespace CLI {
class App;
}

namespace sy::cli {
void add_extra_subcommands(CLI::App& app);
int run_extra_subcommand(CLI::App& app, int argc, char** argv);
}  // namespace sy::cli
