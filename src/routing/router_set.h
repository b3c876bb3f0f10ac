#pragma once
// Compiled routers and the routing decision.
//
//   auto router = CompiledRouter::compile(spec, meta);          // CEL compiled once per version
//   cel::Activation act;  bind_facts(**router, request, act, scratch);
//   Decision d = (*router)->select(act, sticky_key, command);   // route, variant, reason
//
// Variants are chosen by weighted rendezvous hashing of (router, route, variant, stickiness
// key): a user keeps the variant on every request, restart and replica, with no stored state,
// and re-weighting moves only the users it must (raising one weight only pulls users to it).

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "cel/cel.h"
#include "routing/router.h"

namespace sy::routing {

class CompiledRouter;

struct CompiledVariant {
  const Variant* spec = nullptr;
  uint64_t seed = 0;  // hash of (router, route, variant name): the variant's own hash stream
};

struct CompiledRoute {
  const Route* spec = nullptr;
  std::optional<cel::Program> condition;  // none for the default route
  std::vector<CompiledVariant> variants;
  double total_weight = 0;
  // Weighted rendezvous: the variant whose weight / -ln(hash(key)) is largest.
  const Variant& pick(std::string_view sticky_key) const;
  // By weight, at random (requests without a stickiness key).
  const Variant& pick_random() const;
};

// The request facts a router's conditions read; see bind_facts().
enum class Builtin : uint8_t { kUser, kModel, kStream, kMessages, kMessageCount, kLastUserMessage, kHeaders, kNow };

// One condition's result, kept so the reason can be written later (only when someone reads it).
struct ConditionOutcome {
  enum class Result : uint8_t { kFalse, kTrue, kError, kNotBool };
  uint16_t route = 0;  // index in routes()
  Result result = Result::kFalse;
  uint32_t error_at = UINT32_MAX;  // byte offset in the condition, for kError
  cel::Value error;                // the error value, for kError
};

struct Decision {
  const CompiledRouter* router = nullptr;
  const CompiledRoute* route = nullptr;
  const Variant* variant = nullptr;  // null when a slash command names a model directly
  std::string_view model_id;         // the model to call
  std::string_view route_name;
  std::string_view variant_name;
  bool sticky = false;               // chosen by the stickiness key (else at random)
  const SlashCommand* command = nullptr;
  // The conditions evaluated, in order (the last one true when a route matched).
  boost::container::small_vector<ConditionOutcome, 12> outcomes;
  // Which condition matched, or why each earlier one did not; then how the variant was chosen.
  std::string reason() const;
};

class CompiledRouter {
 public:
  static tl::expected<std::shared_ptr<const CompiledRouter>, Problems> compile(RouterSpec spec, RouterMeta meta);

  const RouterSpec& spec() const { return spec_; }
  const RouterMeta& meta() const { return meta_; }
  const std::string& name() const { return spec_.name; }
  std::span<const CompiledRoute> routes() const { return routes_; }
  const CompiledRoute& default_route() const { return default_; }

  // What the conditions read: built-ins, and every other name (metadata keys, headers
  // `x-switchyard-meta-<name>`, top-level body fields), each with its header name.
  const std::vector<Builtin>& builtins() const { return builtins_; }
  struct MetaVar {
    std::string name;
    std::string header;  // "x-switchyard-meta-<name>"
  };
  const std::vector<MetaVar>& meta_vars() const { return meta_vars_; }
  bool needs(Builtin b) const;

  // The route of that name ("default" for the default route), or null.
  const CompiledRoute* route_named(std::string_view name) const;
  // The slash command `text` starts with ("/code fix this" → /code), or null.
  const SlashCommand* command_of(std::string_view text) const;

  // Routes in order, first true condition wins, else the default route; then the variant.
  Decision select(const cel::Activation& facts, std::string_view sticky_key,
                  const SlashCommand* command = nullptr) const;

 private:
  CompiledRouter() = default;
  void index_variables(const cel::Program& p);
  CompiledRoute compile_route(const Route& r);

  RouterSpec spec_;
  RouterMeta meta_;
  std::vector<CompiledRoute> routes_;
  CompiledRoute default_;
  std::vector<Builtin> builtins_;
  std::vector<MetaVar> meta_vars_;
};

// Every router of one configuration version, by name.
class RouterSet {
 public:
  RouterSet() = default;
  explicit RouterSet(std::vector<std::shared_ptr<const CompiledRouter>> routers);
  const CompiledRouter* find(std::string_view name) const;
  const std::vector<std::shared_ptr<const CompiledRouter>>& all() const { return routers_; }
  // Copies with `router` added (or replacing the one of its name), or with `name` removed.
  std::shared_ptr<const RouterSet> with(std::shared_ptr<const CompiledRouter> router) const;
  std::shared_ptr<const RouterSet> without(std::string_view name) const;

 private:
  std::vector<std::shared_ptr<const CompiledRouter>> routers_;  // sorted by name
};

// The built-in a CEL name denotes, if any.
std::optional<Builtin> builtin_named(std::string_view name);

}  // namespace sy::routing
