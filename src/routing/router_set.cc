#include "routing/router_set.h"

#include <fmt/format.h>
#define XXH_INLINE_ALL  // header-only xxHash: inlined, nothing to link
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

namespace sy::routing {
namespace {

constexpr std::array<std::pair<std::string_view, Builtin>, 8> kBuiltins{{
    {"user", Builtin::kUser},
    {"model", Builtin::kModel},
    {"stream", Builtin::kStream},
    {"messages", Builtin::kMessages},
    {"message_count", Builtin::kMessageCount},
    {"last_user_message", Builtin::kLastUserMessage},
    {"headers", Builtin::kHeaders},
    {"now", Builtin::kNow},
}};

uint64_t variant_seed(std::string_view router, std::string_view route, std::string_view variant) {
  std::string key;
  key.reserve(router.size() + route.size() + variant.size() + 2);
  key.append(router).append(1, '\0').append(route).append(1, '\0').append(variant);
  return XXH3_64bits(key.data(), key.size());
}

// A uniform double in (0, 1) from 64 hash bits.
double unit(uint64_t h) { return (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53; }

uint64_t random_bits() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng();
}

}  // namespace

std::optional<Builtin> builtin_named(std::string_view name) {
  for (const auto& [n, b] : kBuiltins) {
    if (n == name) return b;
  }
  return std::nullopt;
}

const Variant& CompiledRoute::pick(std::string_view sticky_key) const {
  const CompiledVariant* best = &variants.front();
  double best_score = -1;
  for (const auto& v : variants) {
    if (v.spec->weight <= 0) continue;
    const double u = unit(XXH3_64bits_withSeed(sticky_key.data(), sticky_key.size(), v.seed));
    const double score = v.spec->weight / -std::log(u);
    if (score > best_score) {
      best_score = score;
      best = &v;
    }
  }
  return *best->spec;
}

const Variant& CompiledRoute::pick_random() const {
  double x = unit(random_bits()) * total_weight;
  for (const auto& v : variants) {
    if (v.spec->weight <= 0) continue;
    if (x < v.spec->weight) return *v.spec;
    x -= v.spec->weight;
  }
  for (auto it = variants.rbegin(); it != variants.rend(); ++it) {
    if (it->spec->weight > 0) return *it->spec;
  }
  return *variants.front().spec;
}

tl::expected<std::shared_ptr<const CompiledRouter>, Problems> CompiledRouter::compile(RouterSpec spec,
                                                                                      RouterMeta meta) {
  std::shared_ptr<CompiledRouter> r(new CompiledRouter());
  r->spec_ = std::move(spec);
  r->meta_ = meta;
  Problems problems;
  for (size_t i = 0; i < r->spec_.routes.size(); ++i) {
    CompiledRoute cr = r->compile_route(r->spec_.routes[i]);
    auto program = cel::compile(r->spec_.routes[i].condition);
    if (!program) {
      problems.push_back({fmt::format("routes[{}].condition.cel_expression", i), program.error().to_string(),
                          program.error().line, program.error().column});
      continue;
    }
    r->index_variables(*program);
    cr.condition = std::move(*program);
    r->routes_.push_back(std::move(cr));
  }
  if (r->spec_.default_route.variants.empty()) problems.push_back({"defaultRoute.variants", "at least one variant is required"});
  for (const auto& route : r->routes_) {
    if (route.variants.empty()) problems.push_back({"routes", fmt::format("route '{}' has no variants", route.spec->name)});
  }
  r->default_ = r->compile_route(r->spec_.default_route);
  if (!problems.empty()) return tl::unexpected(std::move(problems));
  if (r->spec_.stickiness_key != "user" && !builtin_named(r->spec_.stickiness_key)) {
    // The stickiness key is read like a condition's variable.
    if (std::none_of(r->meta_vars_.begin(), r->meta_vars_.end(),
                     [&](const MetaVar& m) { return m.name == r->spec_.stickiness_key; })) {
      r->meta_vars_.push_back({r->spec_.stickiness_key, "x-switchyard-meta-" + r->spec_.stickiness_key});
    }
  } else if (!r->needs(Builtin::kUser)) {
    r->builtins_.push_back(Builtin::kUser);
  }
  if (!r->spec_.slash_commands.empty() && !r->needs(Builtin::kLastUserMessage)) {
    r->builtins_.push_back(Builtin::kLastUserMessage);
  }
  return std::shared_ptr<const CompiledRouter>(std::move(r));
}

CompiledRoute CompiledRouter::compile_route(const Route& route) {
  CompiledRoute cr;
  cr.spec = &route;
  for (const auto& v : route.variants) {
    cr.variants.push_back({&v, variant_seed(spec_.name, route.name, v.name)});
    if (v.weight > 0) cr.total_weight += v.weight;
  }
  return cr;
}

void CompiledRouter::index_variables(const cel::Program& p) {
  for (const auto& name : p.variables()) {
    if (name.find('.') != std::string::npos) continue;  // a field path of a shorter name
    if (auto b = builtin_named(name)) {
      if (!needs(*b)) builtins_.push_back(*b);
    } else if (std::none_of(meta_vars_.begin(), meta_vars_.end(), [&](const MetaVar& m) { return m.name == name; })) {
      meta_vars_.push_back({name, "x-switchyard-meta-" + name});
    }
  }
}

bool CompiledRouter::needs(Builtin b) const { return std::find(builtins_.begin(), builtins_.end(), b) != builtins_.end(); }

const CompiledRoute* CompiledRouter::route_named(std::string_view name) const {
  if (name == "default") return &default_;
  for (const auto& r : routes_) {
    if (r.spec->name == name) return &r;
  }
  return nullptr;
}

const SlashCommand* CompiledRouter::command_of(std::string_view text) const {
  const size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos || text[start] != '/') return nullptr;
  text.remove_prefix(start);
  for (const auto& c : spec_.slash_commands) {
    if (text.starts_with(c.command) &&
        (text.size() == c.command.size() || std::string_view(" \t\r\n").find(text[c.command.size()]) != std::string_view::npos)) {
      return &c;
    }
  }
  return nullptr;
}

Decision CompiledRouter::select(const cel::Activation& facts, std::string_view sticky_key,
                                const SlashCommand* command) const {
  Decision d;
  d.router = this;
  d.command = command;
  if (command != nullptr && !command->model_id.empty()) {
    d.route = &default_;
    d.route_name = "command";
    d.model_id = command->model_id;
    d.variant_name = command->model_id;
    return d;
  }
  if (command != nullptr) {
    d.route = route_named(command->route);
    if (d.route == nullptr) d.route = &default_;
  } else {
    using Result = ConditionOutcome::Result;
    for (size_t i = 0; i < routes_.size(); ++i) {
      const CompiledRoute& r = routes_[i];
      ConditionOutcome& o = d.outcomes.emplace_back();
      o.route = static_cast<uint16_t>(i);
      cel::Value v = r.condition->evaluate_value(facts, &o.error_at);
      if (v.is_bool()) {
        o.result = v.as_bool() ? Result::kTrue : Result::kFalse;
      } else if (v.is_error()) {
        o.result = Result::kError;
        o.error = std::move(v);
      } else {
        o.result = Result::kNotBool;
      }
      if (o.result == Result::kTrue) {
        d.route = &r;
        break;
      }
    }
    if (d.route == nullptr) d.route = &default_;
  }
  d.route_name = d.route->spec->name;
  if (d.route->variants.size() == 1) {
    d.variant = d.route->variants.front().spec;
    d.sticky = true;
  } else if (!sticky_key.empty()) {
    d.variant = &d.route->pick(sticky_key);
    d.sticky = true;
  } else {
    d.variant = &d.route->pick_random();
  }
  d.model_id = d.variant->model_id;
  d.variant_name = d.variant->name;
  return d;
}

std::string Decision::reason() const {
  std::string out;
  auto it = std::back_inserter(out);
  if (command != nullptr) {
    if (!command->model_id.empty()) return fmt::format("slash command '{}' names model '{}'", command->command, command->model_id);
    fmt::format_to(it, "slash command '{}' names route '{}'", command->command, command->route);
  } else {
    using Result = ConditionOutcome::Result;
    bool matched = false;
    for (const ConditionOutcome& o : outcomes) {
      const CompiledRoute& r = router->routes()[o.route];
      if (!out.empty()) out += "; ";
      fmt::format_to(it, "routes[{}] '{}'", o.route, r.spec->name);
      switch (o.result) {
        case Result::kTrue:
          fmt::format_to(it, " matched: {}", r.condition->source());
          matched = true;
          break;
        case Result::kFalse: out += ": false"; break;
        case Result::kNotBool: out += ": not a bool (counts as false)"; break;
        case Result::kError: {
          const cel::EvalError e = r.condition->error_of(o.error, o.error_at);
          if (e.line > 0) {
            fmt::format_to(it, ": error at {}:{}: {} (counts as false)", e.line, e.column, e.message);
          } else {
            fmt::format_to(it, ": error: {} (counts as false)", e.message);
          }
          break;
        }
      }
    }
    if (!matched) out += outcomes.empty() ? "no routes: defaultRoute" : "; no condition matched: defaultRoute";
  }
  if (route != nullptr && route->variants.size() > 1 && variant != nullptr) {
    fmt::format_to(it, "; variant '{}' (weight {} of {}) ", variant->name, variant->weight, route->total_weight);
    if (sticky) {
      fmt::format_to(it, "by {}", router->spec().stickiness_key);
    } else {
      fmt::format_to(it, "at random: no {}", router->spec().stickiness_key);
    }
  }
  return out;
}

RouterSet::RouterSet(std::vector<std::shared_ptr<const CompiledRouter>> routers) : routers_(std::move(routers)) {
  std::sort(routers_.begin(), routers_.end(), [](const auto& a, const auto& b) { return a->name() < b->name(); });
}

const CompiledRouter* RouterSet::find(std::string_view name) const {
  auto it = std::lower_bound(routers_.begin(), routers_.end(), name,
                             [](const auto& r, std::string_view n) { return r->name() < n; });
  return it != routers_.end() && (*it)->name() == name ? it->get() : nullptr;
}

std::shared_ptr<const RouterSet> RouterSet::with(std::shared_ptr<const CompiledRouter> router) const {
  std::vector<std::shared_ptr<const CompiledRouter>> next;
  for (const auto& r : routers_) {
    if (r->name() != router->name()) next.push_back(r);
  }
  next.push_back(std::move(router));
  return std::make_shared<const RouterSet>(std::move(next));
}

std::shared_ptr<const RouterSet> RouterSet::without(std::string_view name) const {
  std::vector<std::shared_ptr<const CompiledRouter>> next;
  for (const auto& r : routers_) {
    if (r->name() != name) next.push_back(r);
  }
  return std::make_shared<const RouterSet>(std::move(next));
}

}  // namespace sy::routing
