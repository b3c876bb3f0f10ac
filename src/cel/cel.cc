#include "cel/cel.h"

#include <cstddef>
#include <memory>
#include <new>

#include <fmt/format.h>

#include "cel/eval.h"
#include "cel/checker.h"
#include "cel/planner.h"

namespace sy::cel {

struct ProgramState {
  std::string source;
  PlanState plan;
  NodePtr root;
  Limits limits;
};

namespace {

CompileError make_error(std::string_view src, uint32_t offset, std::string message) {
  CompileError e;
  e.message = std::move(message);
  if (offset > src.size()) offset = static_cast<uint32_t>(src.size());
  size_t line_start = 0;
  int line = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (src[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  int column = 1;
  for (size_t i = line_start; i < offset; ++i) column += (static_cast<unsigned char>(src[i]) & 0xC0) != 0x80;
  size_t line_end = src.find('\n', line_start);
  if (line_end == std::string_view::npos) line_end = src.size();
  e.line = line;
  e.column = column;
  std::string_view text = src.substr(line_start, line_end - line_start);
  if (text.size() > 200) text = text.substr(0, 200);
  e.snippet = fmt::format(" | {}\n | {}^", text, std::string(static_cast<size_t>(column - 1), '.'));
  return e;
}

// Slots on the stack for programs with few variables; only the ones in use are constructed.
class InlineSlots {
 public:
  static constexpr int kCapacity = 8;
  explicit InlineSlots(int n) : n_(n) {
    for (int i = 0; i < n_; ++i) {
      new (&storage_[i * sizeof(Slot)]) Slot();
    }
  }
  ~InlineSlots() {
    for (int i = 0; i < n_; ++i) {
      data()[i].~Slot();
    }
  }
  InlineSlots(const InlineSlots&) = delete;
  InlineSlots& operator=(const InlineSlots&) = delete;
  Slot* data() { return std::launder(reinterpret_cast<Slot*>(storage_)); }

 private:
  alignas(Slot) std::byte storage_[kCapacity * sizeof(Slot)];
  int n_;
};

}  // namespace

std::string EvalError::to_string() const {
  if (line == 0) return message;
  return fmt::format("{}:{}: {}\n{}", line, column, message, snippet);
}

std::string CompileError::to_string() const {
  return fmt::format("{}:{}: {}\n{}", line, column, message, snippet);
}

tl::expected<Program, CompileError> compile(std::string_view source, const Env& env) {
  auto ast = parse(source, env.options().parse);
  if (!ast) return tl::unexpected(make_error(source, ast.error().offset, ast.error().message));
  if (env.options().check && !env.vars().empty()) {
    if (auto bad = check_types(*ast->root, env)) return tl::unexpected(make_error(source, bad->offset, bad->message));
  }
  auto state = std::make_shared<ProgramState>();
  state->source = std::string(source);
  state->limits = env.options().limits;
  Planner planner(env, state->plan);
  auto root = planner.plan(*ast->root);
  if (!root) return tl::unexpected(make_error(source, root.error().offset, root.error().message));
  state->root = std::move(*root);
  Program p;
  p.state_ = std::move(state);
  return p;
}

const std::string& Program::source() const { return state_->source; }

const std::vector<std::string>& Program::variables() const { return state_->plan.variables; }

namespace {

// Runs the program's tree; the caller reads ctx.aborted and ctx.error_at.
[[gnu::always_inline]] inline Value run(const ProgramState& state, const Activation& activation, EvalContext& ctx) {
  ctx.activation = &activation;
  ctx.limits = &state.limits;
  const int slots = state.plan.max_slots;
  if (slots == 0) return state.root->run(ctx);
  if (slots <= InlineSlots::kCapacity) {
    InlineSlots inline_slots(slots);
    ctx.slots = inline_slots.data();
    return state.root->run(ctx);
  }
  auto heap_slots = std::make_unique<Slot[]>(static_cast<size_t>(slots));
  ctx.slots = heap_slots.get();
  return state.root->run(ctx);
}

}  // namespace

Value Program::evaluate_value(const Activation& activation, uint32_t* error_at) const {
  EvalContext ctx;
  Value v = run(*state_, activation, ctx);
  if (error_at != nullptr) *error_at = ctx.aborted ? kNoOffset : ctx.error_at;
  if (ctx.aborted) return Value::error(std::move(ctx.abort_message));
  return v;
}

EvalError Program::error_of(const Value& error, uint32_t error_at) const {
  EvalError e{std::string(error.str())};
  if (error_at != kNoOffset) {
    const CompileError where = make_error(state_->source, error_at, {});
    e.line = where.line;
    e.column = where.column;
    e.snippet = where.snippet;
  }
  return e;
}

tl::expected<Value, EvalError> Program::evaluate(const Activation& activation) const {
  EvalContext ctx;
  Value v = run(*state_, activation, ctx);
  if (ctx.aborted) [[unlikely]] {
    return tl::unexpected(EvalError{ctx.abort_message});
  }
  if (v.is_error()) [[unlikely]] {
    return tl::unexpected(error_of(v, ctx.error_at));
  }
  return tl::expected<Value, EvalError>(std::move(v));
}

}  // namespace sy::cel
