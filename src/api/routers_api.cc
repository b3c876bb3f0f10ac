// /router/v1/routers: the routers admin API (see docs/routers.md).
#include "api/routers_api.h"

#include <fmt/format.h>

#include <array>
#include <charconv>

#include "core/json_scan.h"
#include "http/wire.h"

namespace sy::api {
namespace {

using http::Header;
using http::Method;
using http::Task;

constexpr std::string_view kPrefix = "/router/v1/routers";

std::string error_body(const gateway::AdminError& e) {
  std::string out = R"({"error":{"message":)";
  json::append_quoted(out, e.error.message);
  out += R"(,"type":)";
  json::append_quoted(out, openai_error_type(e.error.code));
  out += R"(,"param":)";
  if (e.error.param.empty()) {
    out += "null";
  } else {
    json::append_quoted(out, e.error.param);
  }
  out += R"(,"code":)";
  json::append_quoted(out, e.problems.empty() ? error_code_name(e.error.code) : std::string_view("invalid_router"));
  if (!e.problems.empty()) {
    out += R"(,"details":)";
    out += gateway::problems_json(e.problems);
  }
  return out + "}}";
}

Task<void> reply(http::Response& res, std::string_view request_id, int status, std::string_view body,
                 std::string_view etag = {}, std::string_view location = {}) {
  std::array<Header, 3> h{Header{"x-switchyard-request-id", request_id}};
  size_t n = 1;
  if (!etag.empty()) h[n++] = {"etag", etag};
  if (!location.empty()) h[n++] = {"location", location};
  co_await res.send(status, "application/json", body, std::span(h.data(), n));
}

Task<void> reply_error(http::Response& res, std::string_view request_id, const gateway::AdminError& e) {
  const std::string body = error_body(e);
  co_await reply(res, request_id, http_status(e.error.code), body);
}

Task<void> reply_resource(http::Response& res, std::string_view request_id, const gateway::RouterResource& r,
                          int status, std::string_view name) {
  const std::string etag = fmt::format("\"{}\"", r.version);
  const std::string location = status == 201 ? fmt::format("{}/{}", kPrefix, name) : std::string();
  co_await reply(res, request_id, status, r.json, etag, location);
}

Task<void> not_allowed(http::Response& res, std::string_view request_id, std::string_view allow) {
  const std::array<Header, 2> h{Header{"x-switchyard-request-id", request_id}, Header{"allow", allow}};
  const gateway::AdminError e{Error{ErrorCode::kMethodNotAllowed, fmt::format("This path accepts {} only.", allow), {}, 0}, {}};
  const std::string body = error_body(e);
  co_await res.send(405, "application/json", body, h);
}

// The resource name in the created resource's JSON.
std::string name_in(std::string_view resource_json) {
  constexpr std::array<std::string_view, 1> kName{"name"};
  std::array<json::Field, 1> f;
  if (!json::scan_object(resource_json, kName, f) || f[0].kind != json::Kind::kString) return {};
  return json::unescape(f[0].raw);
}

}  // namespace

bool is_routers_path(std::string_view path) { return path == kPrefix || path.starts_with("/router/v1/routers"); }

Task<void> serve_routers(http::Request& req, http::Response& res, std::string_view request_id,
                         gateway::RouterAdmin& admin) {
  const std::string_view path = req.path();
  const Method m = req.method();
  const std::string& body = req.body();
  std::string_view rest = path.substr(kPrefix.size());

  if (rest.empty() || rest == "/") {
    if (m == Method::kGet) {
      const std::string size_text = http::query_param(req.target(), "pageSize");
      size_t size = 50;
      if (!size_text.empty()) {
        auto [p, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
        if (ec != std::errc() || p != size_text.data() + size_text.size() || size < 1 || size > 200) {
          const gateway::AdminError e{Error{ErrorCode::kInvalidRequest, "pageSize must be a whole number from 1 to 200.", "pageSize", 0}, {}};
          co_await reply_error(res, request_id, e);
          co_return;
        }
      }
      auto page = admin.list(size, http::query_param(req.target(), "pageToken"));
      if (!page) {
        co_await reply_error(res, request_id, page.error());
      } else {
        co_await reply(res, request_id, 200, *page);
      }
    } else if (m == Method::kPost) {
      auto r = admin.create(body);
      if (!r) {
        co_await reply_error(res, request_id, r.error());
      } else {
        const std::string created = name_in(r->json);
        co_await reply_resource(res, request_id, *r, 201, created);
      }
    } else {
      co_await not_allowed(res, request_id, "GET, POST");
    }
    co_return;
  }
  if (rest == ":validate") {
    if (m != Method::kPost) {
      co_await not_allowed(res, request_id, "POST");
    } else {
      const std::string verdict = admin.validate(body);
      co_await reply(res, request_id, 200, verdict);
    }
    co_return;
  }
  if (rest.front() != '/') {
    const gateway::AdminError e{Error{ErrorCode::kNotFound, fmt::format("Unknown path '{}'.", path), {}, 0}, {}};
    co_await reply_error(res, request_id, e);
    co_return;
  }
  std::string name = http::percent_decode(rest.substr(1));
  if (name.ends_with(":evaluate")) {
    name.resize(name.size() - 9);
    if (m != Method::kPost) {
      co_await not_allowed(res, request_id, "POST");
      co_return;
    }
    auto r = admin.evaluate(name, body);
    if (!r) {
      co_await reply_error(res, request_id, r.error());
    } else {
      co_await reply(res, request_id, 200, *r);
    }
    co_return;
  }
  const std::string_view if_match = req.header("if-match");
  if (name.ends_with(":ramp")) {
    name.resize(name.size() - 5);
    if (m != Method::kPost) {
      co_await not_allowed(res, request_id, "POST");
      co_return;
    }
    auto r = admin.ramp(name, body, if_match);
    if (!r) {
      co_await reply_error(res, request_id, r.error());
    } else {
      co_await reply_resource(res, request_id, *r, 200, name);
    }
    co_return;
  }
  switch (m) {
    case Method::kGet: {
      auto r = admin.get(name);
      if (!r) {
        co_await reply_error(res, request_id, r.error());
      } else if (const auto none_match = req.header("if-none-match");
                 !none_match.empty() && gateway::parse_if_match(none_match) == r->version) {
        const std::string etag = fmt::format("\"{}\"", r->version);
        co_await reply(res, request_id, 304, "", etag);
      } else {
        co_await reply_resource(res, request_id, *r, 200, name);
      }
      break;
    }
    case Method::kPut:
    case Method::kPatch: {
      auto r = m == Method::kPut ? admin.replace(name, body, if_match) : admin.patch(name, body, if_match);
      if (!r) {
        co_await reply_error(res, request_id, r.error());
      } else {
        co_await reply_resource(res, request_id, *r, r->created ? 201 : 200, name);  // PUT may create
      }
      break;
    }
    case Method::kDelete: {
      auto r = admin.remove(name, if_match);
      if (!r) {
        co_await reply_error(res, request_id, r.error());
      } else {
        co_await reply(res, request_id, 204, "");
      }
      break;
    }
    default: co_await not_allowed(res, request_id, "GET, PUT, PATCH, DELETE");
  }
}

std::string admin_error_body(const Error& e) { return error_body(gateway::AdminError{e, {}}); }

}  // namespace sy::api
