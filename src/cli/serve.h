#pragma once
// `switchyard serve` and `switchyard mock-upstream`: the composition root of the gateway.

#include <optional>
#include <string>

namespace sy::cli {

struct ServeFlags {
  std::optional<std::string> config;
  std::optional<std::string> listen;
  std::optional<int> workers;
};
int serve(const ServeFlags& flags);

struct MockFlags {
  std::string host = "127.0.0.1";
  int port = 0;
  int workers = 1;
  std::string api_key;
};
int mock_upstream(const MockFlags& flags);

}  // namespace sy::cli
