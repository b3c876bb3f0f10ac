#pragma once
// One blocking HTTP request, for command-line tools (`switchyard routers ...`), over the same
// client the gateway uses (TLS with verification included).
//
//   auto r = http::fetch(*Url::parse("http://127.0.0.1:8080"), {"GET", "/router/v1/routers", headers, {}});
//   if (r) std::puts(r->body.c_str());

#include <string>
#include <vector>

#include "http/client.h"

namespace sy::http {

struct FetchResult {
  int status = 0;
  std::string content_type;
  std::string etag;
  std::string body;
};

Result<FetchResult> fetch(const Url& url, OutRequest request, ClientOptions options = {});

}  // namespace sy::http
