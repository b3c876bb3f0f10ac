// `switchyard routers list | get | apply | delete | evaluate` and `switchyard admin-key`:
// the routers API of a running gateway, from a shell.
#include "cli/routers.h"

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "cli/admin_key.h"
#include "config/config.h"
#include "core/json_scan.h"
#include "http/fetch.h"
#include "http/wire.h"
#include "store/store.h"

namespace sy::cli {
namespace {

namespace bj = boost::json;

struct Target {
  http::Url url;
  std::string admin_key;
};

void print_pretty(const bj::value& v, std::string& out, int indent = 0) {
  const std::string pad(static_cast<size_t>(indent) + 2, ' ');
  const std::string close(static_cast<size_t>(indent), ' ');
  if (const auto* o = v.if_object(); o != nullptr && !o->empty()) {
    out += "{\n";
    size_t i = 0;
    for (const auto& kv : *o) {
      out += pad + bj::serialize(bj::value(kv.key())) + ": ";
      print_pretty(kv.value(), out, indent + 2);
      out += ++i < o->size() ? ",\n" : "\n";
    }
    out += close + "}";
  } else if (const auto* a = v.if_array(); a != nullptr && !a->empty()) {
    out += "[\n";
    for (size_t i = 0; i < a->size(); ++i) {
      out += pad;
      print_pretty((*a)[i], out, indent + 2);
      out += i + 1 < a->size() ? ",\n" : "\n";
    }
    out += close + "]";
  } else {
    out += bj::serialize(v);
  }
}

std::string pretty(std::string_view json) {
  boost::system::error_code ec;
  const bj::value v = bj::parse(json, ec);
  if (ec) return std::string(json);
  std::string out;
  print_pretty(v, out);
  return out;
}

// The error a gateway answered with, problems included, on stderr.
void report_error(const http::FetchResult& r) {
  boost::system::error_code ec;
  const bj::value v = bj::parse(r.body, ec);
  const bj::object* err = nullptr;
  if (!ec && v.is_object()) {
    if (const auto* e = v.as_object().if_contains("error")) err = e->if_object();
  }
  if (err == nullptr) {
    std::fprintf(stderr, "switchyard: HTTP %d: %s\n", r.status, r.body.c_str());
    return;
  }
  const auto* msg = err->if_contains("message");
  std::fprintf(stderr, "switchyard: HTTP %d: %s\n", r.status,
               msg != nullptr && msg->is_string() ? std::string(msg->as_string()).c_str() : "error");
  if (const auto* details = err->if_contains("details"); details != nullptr && details->is_array()) {
    for (const auto& d : details->as_array()) {
      if (!d.is_object()) continue;
      const auto& o = d.as_object();
      const auto* path = o.if_contains("path");
      const auto* m = o.if_contains("message");
      std::fprintf(stderr, "  %s: %s\n", path != nullptr && path->is_string() ? std::string(path->as_string()).c_str() : "",
                   m != nullptr && m->is_string() ? std::string(m->as_string()).c_str() : "");
    }
  }
}

// One request to the gateway's routers API. The answer when its status is one of `ok`; else
// the failure (unreachable gateway, or the gateway's error with its problems) is on stderr.
std::optional<http::FetchResult> call(const Target& t, std::string_view method, std::string path, std::string_view body,
                                      std::initializer_list<int> ok) {
  const std::string auth = "Bearer " + t.admin_key;
  std::array<http::Header, 2> headers{http::Header{"authorization", auth}, http::Header{"content-type", "application/json"}};
  const std::array<std::string_view, 1> parts{body};
  const std::string target = t.url.path + path;
  auto r = http::fetch(t.url, {method, target, headers, body.empty() ? std::span<const std::string_view>() : parts});
  if (!r) {
    std::fprintf(stderr,
                 "switchyard: cannot reach the gateway at %s: %s (is `switchyard serve` running? --url or SWITCHYARD_URL "
                 "names another)\n",
                 t.url.origin().c_str(), r.error().message.c_str());
    return std::nullopt;
  }
  if (std::find(ok.begin(), ok.end(), r->status) == ok.end()) {
    report_error(*r);
    return std::nullopt;
  }
  return std::move(*r);
}

std::string read_file(const std::string& path) {
  if (path == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "k=v": v as JSON when it is a number, true, false or null, else as a string.
std::string meta_json(const std::vector<std::string>& pairs) {
  std::string out = "{";
  for (const auto& p : pairs) {
    const size_t eq = p.find('=');
    if (out.size() > 1) out += ',';
    json::append_quoted(out, p.substr(0, eq));
    out += ':';
    const std::string v = eq == std::string::npos ? std::string() : p.substr(eq + 1);
    boost::system::error_code ec;
    const bj::value parsed = bj::parse(v, ec);
    if (!ec && (parsed.is_number() || parsed.is_bool() || parsed.is_null())) {
      out += v;
    } else {
      json::append_quoted(out, v);
    }
  }
  return out + "}";
}

struct Flags {
  std::optional<std::string> config;
  std::string url;
  std::string admin_key;
  std::string name;
  std::string file;
  std::vector<std::string> meta;
  std::string user;
  std::string message;
  size_t page_size = 100;
};

// Where the gateway is and the key to use: flags, then environment, then the config file
// (listen address, admin_key) and the database's stored key.
Result<Target> resolve_target(const Flags& f, bool need_key) {
  auto cfg = config::load({.path = f.config}, config::process_env());
  Target t;
  std::string url = f.url;
  if (url.empty()) {
    if (const char* e = std::getenv("SWITCHYARD_URL")) url = e;  // NOLINT(concurrency-mt-unsafe)
  }
  if (url.empty()) {
    const std::string host = !cfg || cfg->host == "0.0.0.0" || cfg->host == "::" ? "127.0.0.1" : cfg->host;
    url = fmt::format("http://{}:{}", host.find(':') != std::string::npos ? "[" + host + "]" : host, cfg ? cfg->port : 8080);
  }
  auto parsed = http::Url::parse(url);
  if (!parsed) return tl::unexpected(parsed.error());
  t.url = *parsed;
  t.admin_key = f.admin_key;
  if (t.admin_key.empty() && cfg) t.admin_key = cfg->admin_key;  // includes SWITCHYARD_ADMIN_KEY
  if (t.admin_key.empty() && need_key && cfg) {
    if (cfg->database == ":memory:" || !std::filesystem::exists(cfg->database)) {
      return fail(ErrorCode::kNotFound, fmt::format("no admin key: pass --admin-key, set SWITCHYARD_ADMIN_KEY, or run this "
                                                    "where the gateway keeps its database ({} is not there)",
                                                    cfg->database));
    }
    auto store = store::open_sqlite(cfg->database);
    if (!store) return tl::unexpected(store.error());
    auto key = stored_admin_key(**store, /*create=*/false);
    if (!key) return tl::unexpected(key.error());
    t.admin_key = *key;
  }
  return t;
}

int list(const Target& t, const Flags& f) {
  std::string token;
  std::printf("%-32s %8s %7s %9s  %s\n", "NAME", "VERSION", "ROUTES", "VARIANTS", "UPDATED");
  do {
    std::string path = fmt::format("/router/v1/routers?pageSize={}", f.page_size);
    if (!token.empty()) path += "&pageToken=" + token;
    auto r = call(t, "GET", path, {}, {200});
    if (!r) return 1;
    const bj::value v = bj::parse(r->body);
    for (const auto& router : v.at("routers").as_array()) {
      const auto& o = router.as_object();
      size_t variants = o.at("defaultRoute").at("variants").as_array().size();
      for (const auto& route : o.at("routes").as_array()) variants += route.at("route").at("variants").as_array().size();
      std::printf("%-32s %8lld %7zu %9zu  %s\n", std::string(o.at("name").as_string()).c_str(),
                  static_cast<long long>(o.at("version").as_int64()), o.at("routes").as_array().size() + 1, variants,
                  std::string(o.at("updateTime").as_string()).c_str());
    }
    const auto* next = v.as_object().if_contains("nextPageToken");
    token = next != nullptr && next->is_string() ? std::string(next->as_string()) : std::string();
  } while (!token.empty());
  return 0;
}

int get(const Target& t, const Flags& f) {
  auto r = call(t, "GET", "/router/v1/routers/" + http::percent_encode(f.name), {}, {200});
  if (!r) return 1;
  std::printf("%s\n", pretty(r->body).c_str());
  return 0;
}

int apply(const Target& t, const Flags& f) {
  std::string text = read_file(f.file);
  if (text.empty()) {
    std::fprintf(stderr, "switchyard: cannot read '%s' (or it is empty)\n", f.file.c_str());
    return 2;
  }
  std::string body = text;
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || text[first] != '{') {  // not JSON: YAML
    auto j = config::yaml_to_json(text, f.file);
    if (!j) {
      std::fprintf(stderr, "switchyard: %s\n", j.error().message.c_str());
      return 2;
    }
    body = *j;
  }
  std::string name = f.name;
  if (name.empty()) {
    constexpr std::array<std::string_view, 1> kName{"name"};
    std::array<json::Field, 1> field;
    if (json::scan_object(body, kName, field) && field[0].kind == json::Kind::kString) name = json::unescape(field[0].raw);
  } else {
    // --name wins over the document's own name.
    boost::system::error_code ec;
    bj::value doc = bj::parse(body, ec);
    if (!ec && doc.is_object()) {
      doc.as_object()["name"] = name;
      body = bj::serialize(doc);
    }
  }
  if (name.empty()) {
    std::fprintf(stderr, "switchyard: %s names no router: add \"name\" to it or pass --name\n", f.file.c_str());
    return 2;
  }
  auto r = call(t, "PUT", "/router/v1/routers/" + http::percent_encode(name), body, {200, 201});
  if (!r) return 1;
  const bj::value v = bj::parse(r->body);
  std::printf("router '%s' %s (version %lld)\n", name.c_str(), r->status == 201 ? "created" : "updated",
              static_cast<long long>(v.at("version").as_int64()));
  return 0;
}

int remove(const Target& t, const Flags& f) {
  auto r = call(t, "DELETE", "/router/v1/routers/" + http::percent_encode(f.name), {}, {204});
  if (!r) return 1;
  std::printf("router '%s' deleted\n", f.name.c_str());
  return 0;
}

int evaluate(const Target& t, const Flags& f) {
  std::string body = R"({"metadata":)" + meta_json(f.meta);
  if (!f.user.empty()) {
    body += R"(,"user":)";
    json::append_quoted(body, f.user);
  }
  body += R"(,"messages":[{"role":"user","content":)";
  json::append_quoted(body, f.message);
  body += "}]}";
  auto r = call(t, "POST", "/router/v1/routers/" + http::percent_encode(f.name) + ":evaluate", body, {200});
  if (!r) return 1;
  const bj::value v = bj::parse(r->body);
  const auto& o = v.as_object();
  auto text = [&](std::string_view k) {
    const auto* x = o.if_contains(k);
    return x != nullptr && x->is_string() ? std::string(x->as_string()) : std::string("-");
  };
  std::printf("router:  %s (version %lld)\nroute:   %s\nvariant: %s\nmodel:   %s\nsticky:  %s\nreason:  %s\n",
              text("router").c_str(), static_cast<long long>(o.at("version").as_int64()), text("route").c_str(),
              text("variant").c_str(), text("modelId").c_str(), o.at("sticky").as_bool() ? "yes" : "no (no stickiness key: random by weight)",
              text("reason").c_str());
  return 0;
}

// CLI11 binds options to variables that outlive parsing.
Flags flags;

}  // namespace

void add_routers_subcommands(CLI::App& app) {
  auto* r = app.add_subcommand("routers", "manage the routers of a running gateway (see docs/routers.md)");
  r->require_subcommand(1);
  auto common = [](CLI::App* c) {
    c->add_option("--url", flags.url, "gateway base URL (default: $SWITCHYARD_URL, else the config's listen address)");
    c->add_option("--admin-key", flags.admin_key,
                  "admin key (default: $SWITCHYARD_ADMIN_KEY, the config's admin_key, or the one serve stored)");
    c->add_option("-c,--config", flags.config, "config file (default: $SWITCHYARD_CONFIG or ./switchyard.yaml)");
  };
  auto* l = r->add_subcommand("list", "list routers");
  common(l);
  auto* g = r->add_subcommand("get", "print a router");
  g->add_option("name", flags.name, "router name")->required();
  common(g);
  auto* a = r->add_subcommand("apply", "create or replace a router from a JSON or YAML file");
  a->add_option("-f,--file", flags.file, "the router document ('-' reads stdin)")->required();
  a->add_option("--name", flags.name, "router name (default: the document's \"name\")");
  common(a);
  auto* d = r->add_subcommand("delete", "delete a router");
  d->add_option("name", flags.name, "router name")->required();
  common(d);
  auto* e = r->add_subcommand("evaluate", "which route and variant a request would get, and why");
  e->add_option("name", flags.name, "router name")->required();
  e->add_option("--meta", flags.meta, "metadata key=value (repeatable)");
  e->add_option("--user", flags.user, "the user (stickiness key)");
  e->add_option("--message", flags.message, "the last user message (for slash commands and message conditions)");
  common(e);
  auto* k = app.add_subcommand("admin-key", "print the admin key the gateway generated and stored in its database");
  k->add_option("-c,--config", flags.config, "config file (default: $SWITCHYARD_CONFIG or ./switchyard.yaml)");
}

int run_routers_subcommand(CLI::App& app) {
  if (app.got_subcommand("admin-key")) {
    auto cfg = config::load({.path = flags.config}, config::process_env());
    if (!cfg) {
      std::fprintf(stderr, "switchyard: %s\n", cfg.error().message.c_str());
      return 2;
    }
    if (!cfg->admin_key.empty()) {
      std::printf("%s\n", cfg->admin_key.c_str());
      return 0;
    }
    if (cfg->database == ":memory:" || !std::filesystem::exists(cfg->database)) {
      std::fprintf(stderr, "switchyard: no admin key is stored: %s does not exist (start `switchyard serve` here once, or "
                           "set SWITCHYARD_ADMIN_KEY)\n",
                   cfg->database.c_str());
      return 1;
    }
    auto store = store::open_sqlite(cfg->database);
    if (!store) {
      std::fprintf(stderr, "switchyard: %s\n", store.error().message.c_str());
      return 1;
    }
    auto key = stored_admin_key(**store, /*create=*/false);
    if (!key) {
      std::fprintf(stderr, "switchyard: %s\n", key.error().message.c_str());
      return 1;
    }
    std::printf("%s\n", key->c_str());
    return 0;
  }
  CLI::App* r = app.get_subcommand("routers");
  if (!r->parsed()) return -1;
  auto target = resolve_target(flags, /*need_key=*/true);
  if (!target) {
    std::fprintf(stderr, "switchyard: %s\n", target.error().message.c_str());
    return 2;
  }
  if (r->got_subcommand("list")) return list(*target, flags);
  if (r->got_subcommand("get")) return get(*target, flags);
  if (r->got_subcommand("apply")) return apply(*target, flags);
  if (r->got_subcommand("delete")) return remove(*target, flags);
  if (r->got_subcommand("evaluate")) return evaluate(*target, flags);
  return 2;
}

}  // namespace sy::cli
