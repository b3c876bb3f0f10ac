#include "gateway/router_admin.h"

#include <boost/json.hpp>
#include <fmt/format.h>
#define XXH_INLINE_ALL  // header-only xxHash: inlined, nothing to link
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <random>

#include "core/json_scan.h"
#include "routing/facts.h"

namespace sy::gateway {
namespace {

AdminError admin_error(ErrorCode code, std::string message) { return AdminError{Error{code, std::move(message), {}, 0}, {}}; }

AdminError from(Error e) { return AdminError{std::move(e), {}}; }

AdminError invalid(routing::Problems problems) {
  std::string message = problems.size() == 1 ? "The router is not valid: " : fmt::format("The router is not valid ({} problems): ", problems.size());
  for (size_t i = 0; i < problems.size() && i < 3; ++i) {
    const auto& p = problems[i];
    message += fmt::format("{}{}{}{}", i ? "; " : "", p.path, p.path.empty() ? "" : ": ", p.message.substr(0, p.message.find('\n')));
  }
  if (problems.size() > 3) message += "; ...";
  Error e{ErrorCode::kInvalidRequest, std::move(message), problems.empty() ? std::string() : problems[0].path, 0};
  return AdminError{std::move(e), std::move(problems)};
}

// The version an If-Match header names (0: none), or why it is not an etag.
AdminResult<int64_t> expected_version(std::string_view if_match) {
  if (auto v = parse_if_match(if_match)) return *v;
  return tl::unexpected(admin_error(ErrorCode::kInvalidRequest, fmt::format("If-Match '{}' is not an etag such as \"3\".", if_match)));
}

// The caller's etag is not the stored version.
AdminError stale(const store::RouterRecord& r, std::string_view if_match) {
  return admin_error(ErrorCode::kPreconditionFailed, fmt::format("Router '{}' is at version {} (etag \"{}\"), not {}: read it again and retry.",
                                                                 r.name, r.version, r.version, if_match));
}

routing::RouterMeta meta_of(const store::RouterRecord& r) {
  return {.version = r.version, .create_time_ms = r.create_time_ms, .update_time_ms = r.update_time_ms};
}

std::string random_name() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return fmt::format("router-{:08x}", static_cast<uint32_t>(rng()));
}

// Headers given as a JSON object in an evaluate request.
class JsonHeaders final : public routing::HeaderSource {
 public:
  explicit JsonHeaders(json::Field object) {
    if (object.kind != json::Kind::kObject) return;
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(object.raw, ec);
    if (ec || !v.is_object()) return;
    for (const auto& kv : v.get_object()) {
      if (const auto* s = kv.value().if_string()) pairs_.emplace_back(std::string(kv.key()), std::string(*s));
    }
  }
  std::string_view get(std::string_view name) const override {
    for (const auto& [k, v] : pairs_) {
      if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          })) {
        return v;
      }
    }
    return {};
  }
  size_t count() const override { return pairs_.size(); }
  std::pair<std::string_view, std::string_view> at(size_t i) const override { return {pairs_[i].first, pairs_[i].second}; }

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;
};

}  // namespace

std::string problems_json(const routing::Problems& problems) {
  std::string out = "[";
  for (size_t i = 0; i < problems.size(); ++i) {
    const auto& p = problems[i];
    if (i) out += ',';
    out += R"({"path":)";
    json::append_quoted(out, p.path);
    out += R"(,"message":)";
    json::append_quoted(out, p.message);
    if (p.line > 0) fmt::format_to(std::back_inserter(out), R"(,"line":{},"column":{})", p.line, p.column);
    out += '}';
  }
  return out + "]";
}

std::optional<int64_t> parse_if_match(std::string_view v) {
  if (v.empty() || v == "*") return 0;
  if (v.starts_with("W/")) v.remove_prefix(2);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || ptr != v.data() + v.size() || n <= 0) return std::nullopt;
  return n;
}

routing::ModelCheck RouterAdmin::model_check() const {
  auto snap = source_.current();
  return [snap](std::string_view id) { return snap->check_model(id); };
}

AdminResult<routing::RouterSpec> RouterAdmin::parse(std::string_view body, std::string_view name) const {
  auto spec = routing::parse_router(body, model_check(), name);
  if (!spec) return tl::unexpected(invalid(std::move(spec.error())));
  return std::move(*spec);
}

AdminResult<RouterResource> RouterAdmin::publish(const store::RouterRecord& record, routing::RouterSpec spec) {
  auto compiled = routing::CompiledRouter::compile(std::move(spec), meta_of(record));
  if (!compiled) return tl::unexpected(invalid(std::move(compiled.error())));
  const auto current = source_.current();
  source_.publish(current->with_routers(current->router_set()->with(*compiled)));
  return RouterResource{routing::to_json((*compiled)->spec(), &(*compiled)->meta()), record.version, false};
}

AdminResult<std::vector<std::string>> RouterAdmin::seed(const std::vector<config::RouterSeed>& seeds) {
  std::lock_guard lock(write_mu_);
  std::vector<std::string> notes;
  for (const auto& s : seeds) {
    auto spec = routing::parse_router(s.json, model_check(), s.name);
    if (!spec) {
      AdminError e = invalid(std::move(spec.error()));
      e.error.message = fmt::format("routers.{} in the config file: {}", s.name, e.error.message);
      return tl::unexpected(std::move(e));
    }
    const std::string digest = fmt::format("{:016x}", XXH3_64bits(s.json.data(), s.json.size()));
    auto r = store_.seed(s.name, routing::to_json(*spec), digest);
    if (!r) return tl::unexpected(from(r.error()));
    if (r->second) notes.push_back(fmt::format("router '{}' seeded from the config file (version {})", s.name, r->first.version));
  }
  return notes;
}

AdminResult<std::vector<std::string>> RouterAdmin::load() {
  std::lock_guard lock(write_mu_);
  auto all = store_.all();
  if (!all) return tl::unexpected(from(all.error()));
  std::vector<std::shared_ptr<const routing::CompiledRouter>> routers;
  std::vector<std::string> notes;
  for (const auto& rec : *all) {
    auto spec = routing::parse_router(rec.spec, model_check(), rec.name);
    if (!spec) {
      notes.push_back(fmt::format("router '{}' (version {}) is not served: {}", rec.name, rec.version,
                                  invalid(std::move(spec.error())).error.message));
      continue;
    }
    auto compiled = routing::CompiledRouter::compile(std::move(*spec), meta_of(rec));
    if (compiled) routers.push_back(std::move(*compiled));
  }
  source_.publish(source_.current()->with_routers(std::make_shared<const routing::RouterSet>(std::move(routers))));
  return notes;
}

AdminResult<RouterResource> RouterAdmin::create(std::string_view body) {
  auto spec = parse(body, {});
  if (!spec) return tl::unexpected(std::move(spec.error()));
  std::lock_guard lock(write_mu_);
  if (spec->name.empty()) {
    const std::string from_display = routing::slug(spec->display_name);
    auto existing = store_.get(from_display);
    spec->name = !from_display.empty() && routing::valid_name(from_display) && existing && !*existing ? from_display : random_name();
  }
  auto rec = store_.create(spec->name, routing::to_json(*spec));
  if (!rec) {
    Error e = rec.error();
    if (e.code == ErrorCode::kConflict) {
      e.message = fmt::format("A router named '{}' already exists: change it with PUT or PATCH /router/v1/routers/{}, or "
                              "choose another name.",
                              spec->name, spec->name);
    }
    return tl::unexpected(from(std::move(e)));
  }
  auto out = publish(*rec, std::move(*spec));
  if (out) out->created = true;
  return out;
}

AdminResult<RouterResource> RouterAdmin::get(std::string_view name) const {
  auto rec = store_.get(name);
  if (!rec) return tl::unexpected(from(rec.error()));
  if (!*rec) return tl::unexpected(admin_error(ErrorCode::kNotFound, fmt::format("No router is named '{}'.", name)));
  auto spec = routing::parse_router((*rec)->spec, nullptr, name);
  if (!spec) return tl::unexpected(invalid(std::move(spec.error())));
  const auto meta = meta_of(**rec);
  return RouterResource{routing::to_json(*spec, &meta), (*rec)->version, false};
}

AdminResult<std::string> RouterAdmin::list(size_t page_size, std::string_view page_token) const {
  auto page = store_.list(page_size, page_token);
  if (!page) return tl::unexpected(from(page.error()));
  std::string out = R"({"routers":[)";
  for (size_t i = 0; i < page->records.size(); ++i) {
    const auto& rec = page->records[i];
    auto spec = routing::parse_router(rec.spec, nullptr, rec.name);
    if (!spec) continue;
    const auto meta = meta_of(rec);
    if (out.back() != '[') out += ',';
    out += routing::to_json(*spec, &meta);
  }
  out += ']';
  if (!page->next_after.empty()) {
    out += R"(,"nextPageToken":)";
    json::append_quoted(out, page->next_after);
  }
  return out + "}";
}

AdminResult<RouterResource> RouterAdmin::replace(std::string_view name, std::string_view body, std::string_view if_match) {
  const auto expected = expected_version(if_match);
  if (!expected) return tl::unexpected(std::move(expected.error()));
  auto spec = parse(body, name);
  if (!spec) return tl::unexpected(std::move(spec.error()));
  std::lock_guard lock(write_mu_);
  auto existing = store_.get(name);
  if (!existing) return tl::unexpected(from(existing.error()));
  if (!*existing) {
    if (*expected != 0) {
      return tl::unexpected(admin_error(ErrorCode::kPreconditionFailed,
                                        fmt::format("No router is named '{}', so If-Match {} cannot hold.", name, if_match)));
    }
    auto rec = store_.create(name, routing::to_json(*spec));
    if (!rec) return tl::unexpected(from(rec.error()));
    auto out = publish(*rec, std::move(*spec));
    if (out) out->created = true;
    return out;
  }
  if (*expected != 0 && *expected != (*existing)->version) return tl::unexpected(stale(**existing, if_match));
  auto rec = store_.update(name, routing::to_json(*spec), (*existing)->version);
  if (!rec) return tl::unexpected(from(rec.error()));
  return publish(*rec, std::move(*spec));
}

AdminResult<store::RouterRecord> RouterAdmin::to_update(std::string_view name, std::string_view if_match) {
  const auto expected = expected_version(if_match);
  if (!expected) return tl::unexpected(std::move(expected.error()));
  auto existing = store_.get(name);
  if (!existing) return tl::unexpected(from(existing.error()));
  if (!*existing) return tl::unexpected(admin_error(ErrorCode::kNotFound, fmt::format("No router is named '{}'.", name)));
  if (*expected != 0 && *expected != (*existing)->version) return tl::unexpected(stale(**existing, if_match));
  return std::move(**existing);
}

AdminResult<RouterResource> RouterAdmin::patch(std::string_view name, std::string_view patch, std::string_view if_match) {
  std::lock_guard lock(write_mu_);
  auto existing = to_update(name, if_match);
  if (!existing) return tl::unexpected(std::move(existing.error()));
  auto merged = routing::merge_patch(existing->spec, patch);
  if (!merged) return tl::unexpected(admin_error(ErrorCode::kInvalidRequest, merged.error()));
  auto spec = parse(*merged, name);
  if (!spec) return tl::unexpected(std::move(spec.error()));
  auto rec = store_.update(name, routing::to_json(*spec), existing->version);
  if (!rec) return tl::unexpected(from(rec.error()));
  return publish(*rec, std::move(*spec));
}

AdminResult<RouterResource> RouterAdmin::ramp(std::string_view name, std::string_view body, std::string_view if_match) {
  static constexpr std::array<std::string_view, 2> kKeys{"route", "variant"};
  std::array<json::Field, 2> f;
  if (!json::scan_object(body, kKeys, f) || f[1].kind != json::Kind::kString ||
      (f[0].present() && f[0].kind != json::Kind::kString)) {
    return tl::unexpected(admin_error(ErrorCode::kInvalidRequest,
                                      R"(Send {"route": "<route name, default when absent>", "variant": "<variant name>"}.)"));
  }
  const std::string route = f[0].present() ? json::unescape(f[0].raw) : std::string("default");
  const std::string variant = json::unescape(f[1].raw);
  std::lock_guard lock(write_mu_);
  auto existing = to_update(name, if_match);
  if (!existing) return tl::unexpected(std::move(existing.error()));
  auto spec = parse(existing->spec, name);
  if (!spec) return tl::unexpected(std::move(spec.error()));
  routing::Route* r = route == "default" ? &spec->default_route : nullptr;
  std::string routes = "'default'";
  for (auto& candidate : spec->routes) {
    if (candidate.name == route) r = &candidate;
    routes += fmt::format(", '{}'", candidate.name);
  }
  if (r == nullptr) {
    return tl::unexpected(admin_error(ErrorCode::kNotFound,
                                      fmt::format("Router '{}' has no route '{}' (routes: {}).", name, route, routes)));
  }
  const auto winner = std::find_if(r->variants.begin(), r->variants.end(), [&](const auto& v) { return v.name == variant; });
  if (winner == r->variants.end()) {
    std::string names;
    for (const auto& v : r->variants) names += fmt::format("{}'{}'", names.empty() ? "" : ", ", v.name);
    return tl::unexpected(admin_error(
        ErrorCode::kNotFound, fmt::format("Route '{}' has no variant '{}' (variants: {}).", route, variant, names)));
  }
  for (auto& v : r->variants) v.weight = &v == &*winner ? 100 : 0;
  auto rec = store_.update(name, routing::to_json(*spec), existing->version);
  if (!rec) return tl::unexpected(from(rec.error()));
  return publish(*rec, std::move(*spec));
}

AdminResult<bool> RouterAdmin::remove(std::string_view name, std::string_view if_match) {
  const auto expected = expected_version(if_match);
  if (!expected) return tl::unexpected(std::move(expected.error()));
  std::lock_guard lock(write_mu_);
  auto removed = store_.remove(name, *expected);
  if (!removed) return tl::unexpected(from(removed.error()));
  if (!*removed) return tl::unexpected(admin_error(ErrorCode::kNotFound, fmt::format("No router is named '{}'.", name)));
  const auto current = source_.current();
  source_.publish(current->with_routers(current->router_set()->without(name)));
  return true;
}

std::string RouterAdmin::validate(std::string_view body) const {
  auto spec = routing::parse_router(body, model_check());
  if (spec) return R"({"valid":true,"problems":[]})";
  return R"({"valid":false,"problems":)" + problems_json(spec.error()) + "}";
}

AdminResult<std::string> RouterAdmin::evaluate(std::string_view name, std::string_view body) const {
  const auto snap = source_.current();
  const routing::CompiledRouter* r = snap->routers().find(name);
  if (r == nullptr) return tl::unexpected(admin_error(ErrorCode::kNotFound, fmt::format("No router is named '{}'.", name)));
  static constexpr std::array<std::string_view, 6> kKeys{"model", "stream", "messages", "metadata", "user", "headers"};
  std::array<json::Field, kKeys.size()> f;
  if (auto ok = json::scan_object(body.empty() ? std::string_view("{}") : body, kKeys, f); !ok) {
    return tl::unexpected(admin_error(ErrorCode::kInvalidRequest,
                                      fmt::format("The body is not valid JSON: {}. Send {{\"metadata\": {{...}}, \"user\": \"u-1\"}}.",
                                                  ok.error().message)));
  }
  if (f[3].present() && f[3].kind != json::Kind::kObject) {
    return tl::unexpected(admin_error(ErrorCode::kInvalidRequest, "'metadata' must be an object of keys the conditions read."));
  }
  const std::string model = f[0].kind == json::Kind::kString ? json::unescape(f[0].raw) : "switchyard/" + r->name();
  const JsonHeaders headers(f[5]);
  const routing::RequestView view{.body = body.empty() ? std::string_view("{}") : body, .model = model,
                                  .stream = f[1].kind == json::Kind::kTrue, .messages = f[2], .metadata = f[3],
                                  .user = f[4], .headers = &headers};
  routing::FactScratch facts;
  cel::Activation activation;
  routing::bind_facts(*r, view, activation, facts);
  const routing::SlashCommand* command = facts.last_user.found ? r->command_of(facts.last_user.text) : nullptr;
  const routing::Decision d = r->select(activation, facts.sticky_key, command);

  std::string out = R"({"router":)";
  json::append_quoted(out, r->name());
  fmt::format_to(std::back_inserter(out), R"(,"version":{},"route":)", r->meta().version);
  json::append_quoted(out, d.route_name);
  out += R"(,"variant":)";
  json::append_quoted(out, d.variant_name);
  out += R"(,"modelId":)";
  json::append_quoted(out, d.model_id);
  fmt::format_to(std::back_inserter(out), R"(,"sticky":{},"stickinessKey":)", d.sticky ? "true" : "false");
  json::append_quoted(out, r->spec().stickiness_key);
  out += R"(,"stickinessValue":)";
  if (facts.sticky_key.empty()) {
    out += "null";
  } else {
    json::append_quoted(out, facts.sticky_key);
  }
  out += R"(,"slashCommand":)";
  if (command != nullptr) {
    json::append_quoted(out, command->command);
  } else {
    out += "null";
  }
  out += R"(,"reason":)";
  json::append_quoted(out, d.reason());
  // Every condition's own result, not only those select() needed.
  out += R"(,"conditions":[)";
  for (size_t i = 0; i < r->routes().size(); ++i) {
    const auto& route = r->routes()[i];
    const auto v = route.condition->evaluate(activation);
    if (i) out += ',';
    out += R"({"route":)";
    json::append_quoted(out, route.spec->name);
    out += R"(,"expression":)";
    json::append_quoted(out, route.condition->source());
    out += R"(,"result":)";
    if (!v) {
      out += R"("error","error":)";
      json::append_quoted(out, v.error().to_string());
    } else if (v->is_bool()) {
      out += v->as_bool() ? "true" : "false";
    } else {
      out += R"("not a bool")";
    }
    out += '}';
  }
  out += "]}";
  return out;
}

}  // namespace sy::gateway
