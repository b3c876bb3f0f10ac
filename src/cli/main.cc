// switchyard: the realtime LLM router.
//   switchyard serve [--config FILE] [--listen HOST:PORT] [--workers N]
//   switchyard mock-upstream [--port N] [--host H] [--workers N] [--api-key KEY]
//   switchyard routers list | get NAME | apply -f FILE | delete NAME | evaluate NAME --meta k=v --user U
//   switchyard admin-key
//   switchyard version
#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/routers.h"
#include "cli/serve.h"
#include "cli/subcommands.h"

int main(int argc, char** argv) {
  CLI::App app{"switchyard: a realtime LLM router speaking the OpenAI API"};
  app.require_subcommand(1);
  app.set_version_flag("--version", SY_VERSION);

  sy::cli::ServeFlags serve;
  auto* s = app.add_subcommand("serve", "run the gateway (embedded defaults when there is no config file)");
  s->add_option("-c,--config", serve.config, "config file (default: $SWITCHYARD_CONFIG or ./switchyard.yaml)");
  s->add_option("-l,--listen", serve.listen, "listen address HOST:PORT (port 0 picks a free one)");
  s->add_option("-w,--workers", serve.workers, "worker threads (default: one per core)");

  sy::cli::MockFlags mock;
  auto* m = app.add_subcommand("mock-upstream", "run the mock model provider (OpenAI, Anthropic and Gemini wire protocols)");
  m->add_option("--host", mock.host, "address to bind");
  m->add_option("-p,--port", mock.port, "port (0 picks a free one)");
  m->add_option("-w,--workers", mock.workers, "worker threads");
  m->add_option("--api-key", mock.api_key, "require this bearer key");

  auto* v = app.add_subcommand("version", "print the version");
  sy::cli::add_routers_subcommands(app);
  sy::cli::add_extra_subcommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (*s) return sy::cli::serve(serve);
  if (*m) return sy::cli::mock_upstream(mock);
  if (*v) {
    std::printf("switchyard %s\n", SY_VERSION);
    return 0;
  }
  if (int rc = sy::cli::run_routers_subcommand(app); rc >= 0) return rc;
  return sy::cli::run_extra_subcommand(app, argc, argv);
}
