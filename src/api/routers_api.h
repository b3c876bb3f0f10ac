#pragma once
// The routers admin API under /router/v1/routers (admin key checked by the caller):
//
//   GET    /router/v1/routers?pageSize=&pageToken=   list, by name
//   POST   /router/v1/routers                        create (name in the body, or generated)
//   POST   /router/v1/routers:validate               {"valid", "problems": [{path, message}]}
//   GET    /router/v1/routers/{name}                 ETag: "<version>"; If-None-Match → 304
//   PUT    /router/v1/routers/{name}                 replace (or create); If-Match
//   PATCH  /router/v1/routers/{name}                 JSON merge patch; If-Match
//   DELETE /router/v1/routers/{name}                 204; If-Match
//   POST   /router/v1/routers/{name}:evaluate        dry run: route, variant and why
//   POST   /router/v1/routers/{name}:ramp            {"route", "variant"}: that variant gets all the route's traffic

#include <string>
#include <string_view>

#include "gateway/router_admin.h"
#include "http/message.h"

namespace sy::api {

bool is_routers_path(std::string_view path);
http::Task<void> serve_routers(http::Request& req, http::Response& res, std::string_view request_id,
                               gateway::RouterAdmin& admin);
// An error in the admin API's shape (OpenAI's, plus "details" for validation problems).
std::string admin_error_body(const Error& e);

}  // namespace sy::api
