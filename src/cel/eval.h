#pragma once
// Internal: the evaluation tree, the context it runs in, and the function registry.
//
//   EvalContext ctx{&activation, slots, limits};  // slots: Slot[plan.max_slots]
//   Value v = root->eval(ctx);          // never throws; CEL errors come back as error values
//   const auto* fns = find_overloads("size");

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cel/cel.h"
#include "cel/value.h"

namespace re2 {
class RE2;
}

namespace sy::cel {

__extension__ typedef __int128 Int128;  // nanosecond arithmetic on timestamps and durations

// Work units (Limits::max_work) charged per list or map element and per comprehension-body node.
constexpr int64_t kElementWork = 16;

// Work per pattern byte when a pattern that is not a literal is compiled during evaluation.
constexpr int64_t kRegexCompileWork = 64;
// Work per subject byte when matching `re`: scaled by the pattern's program size, because RE2
// falls back to stepping every state per byte when its DFA cache overflows on big patterns.
int64_t regex_work_per_byte(const re2::RE2& re);

// What handling `v` costs against Limits::max_work: its bytes or its (nested) elements.
inline int64_t work_of(const Value& v) {
  switch (v.kind()) {
    case Kind::kString:
    case Kind::kBytes:
      return static_cast<int64_t>(v.str().size());
    case Kind::kList:
    case Kind::kMap:
      return static_cast<int64_t>(v.weight()) * kElementWork;
    default:
      return 0;
  }
}

// A comprehension or bind variable. `ref` points at its current value: into the range being
// iterated (so a step copies nothing) or at `own`, for values computed on the spot.
struct Slot {
  Slot() = default;
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
  Value own;
  const Value* ref = &own;
};

constexpr uint32_t kNoOffset = UINT32_MAX;

struct EvalContext {
  const Activation* activation = nullptr;
  Slot* slots = nullptr;  // comprehension and bind variables, indexed by plan-time slot
  const Limits* limits = nullptr;
  int64_t iterations = 0;
  int64_t work = 0;      // units charged so far, see Limits::max_work
  bool aborted = false;  // a limit was exceeded: stop and report, do not absorb
  uint32_t error_at = kNoOffset;  // source offset of the node where the current error arose
  std::string abort_message;

  // Adds `units` of work. False once the total passes Limits::max_work: the evaluation is then
  // aborted and the caller returns Value::error(abort_message).
  bool charge(int64_t units) {
    work += units;
    return work <= limits->max_work || over_budget();
  }
  bool over_budget();  // records the abort; always false

  const Value& slot(int i) const { return *slots[i].ref; }
  void set_slot(int i, Value v) {
    slots[i].own = std::move(v);
    slots[i].ref = &slots[i].own;
  }
  // `v` must stay alive while the variable is in scope (an element of the range being iterated).
  void ref_slot(int i, const Value& v) { slots[i].ref = &v; }

  Value abort(std::string message) {
    if (!aborted) {
      aborted = true;
      abort_message = message;
    }
    return Value::error(std::move(message));
  }
};

class Node {
 public:
  explicit Node(uint32_t offset) : offset_(offset) {}
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  virtual Value eval(EvalContext& ctx) const = 0;
  // eval() that also records where an error arose: the innermost node whose value is an error
  // (see EvalContext::error_at); a node whose value is not an error forgets errors its
  // children produced and absorbed (`x.missing || true`). Parents evaluate children with run().
  Value run(EvalContext& ctx) const {
    const uint32_t before = ctx.error_at;
    Value v = eval(ctx);
    if (!v.is_error()) {
      ctx.error_at = before;
    } else if (ctx.error_at == kNoOffset) {
      ctx.error_at = offset_;
    }
    return v;
  }
  // The node's value without a copy when it already exists somewhere that outlives the caller's
  // use of it (a constant, an activation variable, a slot, a field of one of those); nullptr when
  // it must be computed (or is an error): then call eval(). Saves the reference-count traffic
  // of copying maps and lists just to look into them.
  virtual const Value* borrow(EvalContext&) const { return nullptr; }
  // Constant nodes expose their value so the planner can fold and pre-compile (regexes).
  virtual const Value* constant() const { return nullptr; }
  uint32_t offset() const { return offset_; }

 private:
  uint32_t offset_;
};
using NodePtr = std::unique_ptr<Node>;

// Kinds in an overload signature; kAnyKind matches every kind.
constexpr uint8_t kAnyKind = 255;

using Fn = Value (*)(const Value* args, EvalContext& ctx);

struct Overload {
  std::string_view name;
  bool receiver = false;  // called as args[0].name(args[1..])
  uint8_t arity = 0;
  uint8_t kinds[8] = {kAnyKind, kAnyKind, kAnyKind, kAnyKind, kAnyKind, kAnyKind, kAnyKind, kAnyKind};
  Fn fn = nullptr;

  bool matches(const Value* args) const {
    for (uint8_t i = 0; i < arity; ++i) {
      if (kinds[i] != kAnyKind && kinds[i] != static_cast<uint8_t>(args[i].kind())) return false;
    }
    return true;
  }
};

class Registry {
 public:
  void add(std::string_view name, bool receiver, std::initializer_list<uint8_t> kinds, Fn fn);
  // Overloads with this name, both call styles; empty when unknown.
  const std::vector<Overload>* find(std::string_view name) const;

 private:
  std::vector<std::pair<std::string_view, std::vector<Overload>>> by_name_;
};

const Registry& registry();

constexpr uint8_t k(Kind kind) { return static_cast<uint8_t>(kind); }

// Library registration, one per source file.
void register_stdlib(Registry& r);
void register_conversions(Registry& r);
void register_time(Registry& r);
void register_strings_ext(Registry& r);
void register_math_ext(Registry& r);
void register_misc_ext(Registry& r);  // optionals, base64

// Shared helpers.
Value no_overload(std::string_view fn, const Value* args, size_t n);
Value make_string(std::string s, EvalContext& ctx);
Value make_list(std::vector<Value> items, EvalContext& ctx);
// Aborts evaluation when v (counting nested elements) exceeds Limits::max_collection_size.
Value check_weight(Value v, EvalContext& ctx);
Value add_values(const Value& a, const Value& b, EvalContext& ctx);
Value index_value(const Value& container, const Value& key);
Value select_field(const Value& operand, std::string_view field, bool test_only);
bool checked_add(int64_t a, int64_t b, int64_t& out);
bool checked_mul(int64_t a, int64_t b, int64_t& out);
// Timestamps and durations: range-checked construction.
Value make_timestamp(Int128 total_nanos);
Value make_duration(Int128 total_nanos);
Int128 total_nanos(const Value& v);
std::string format_duration(const Value& v);
std::string format_timestamp(const Value& v);
Value parse_timestamp(std::string_view s);
Value parse_duration(std::string_view s);
std::string format_double(double d);

}  // namespace sy::cel
