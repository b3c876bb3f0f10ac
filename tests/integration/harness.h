#pragma once
// HTTP over loopback for integration tests: one request, its status, headers and body.
//
//   Reply r = call(port, "POST", "/v1/chat/completions", body, headers);
//   EXPECT_EQ(r.status, 200);  r.header("x-switchyard-model");

#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "http/client.h"

namespace sy::testing {

struct Reply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // the headers tests look at (harness.cc lists them)
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// Runs a coroutine to completion on the test thread's loop, which outlives every http::Client
// (pooled connections live on it).
void run(const std::function<http::Task<void>()>& body);

// Runs one exchange to completion on a loop of its own: safe from any thread (throws when it
// cannot connect).
Reply call(int port, std::string_view method, std::string_view target, std::string_view body = "",
           std::span<const http::Header> headers = {});

// A streamed request: `on_piece` sees each body piece as it arrives; returns status and headers.
Reply stream(int port, std::string_view target, std::string_view body, std::span<const http::Header> headers,
             const std::function<void(std::string_view)>& on_piece);

// A chat completion request body for `model`.
std::string chat_body(std::string_view model, bool stream, std::string_view extra = "");

}  // namespace sy::testing
