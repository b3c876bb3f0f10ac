#pragma once
// `switchyard routers list | get NAME | apply -f FILE | delete NAME | evaluate NAME` against a
// running gateway, and `switchyard admin-key`.

namespace CLI {
class App;
}

namespace sy::cli {
void add_routers_subcommands(CLI::App& app);
// The exit code, or -1 when neither subcommand was given.
int run_routers_subcommand(CLI::App& app);
}  // namespace sy::cli
