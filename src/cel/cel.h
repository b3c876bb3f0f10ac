#pragma once
// CEL: compile once, evaluate many times, from many threads.
//
//   sy::cel::Env env;                                   // all standard and extension libraries
//   auto program = sy::cel::compile("language == 'es' && size(messages) > 2", env);
//   auto act = sy::cel::Activation::from_json(R"({"language":"es","messages":[1,2,3]})");
//   auto v = program->evaluate(*act);                   // tl::expected<Value, EvalError>
//
// A compile error carries line, column and a caret snippet ready for a dashboard. During
// evaluation CEL errors are values (so `a || b` can absorb an error in `a`); only a final error
// value or an exceeded limit surfaces as an EvalError.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include "cel/parser.h"
#include "cel/value.h"

namespace sy::cel {

struct Limits {
  int64_t max_iterations = 100'000;          // comprehension steps per evaluation, all loops together
  size_t max_collection_size = 100'000;      // elements in a list or map built during evaluation,
                                             // nested elements included
  size_t max_string_bytes = 1 << 20;         // bytes in one string or bytes value built during evaluation
  int64_t max_work = 100'000'000;  // work units per evaluation, about one per byte handled:
                                   // functions and operators cost the bytes of their string
                                   // arguments and results plus 16 per list or map element;
                                   // each comprehension step costs 16 per node of its body.
                                   // Bounds the time of any rule (tens of milliseconds).
};

struct Options {
  ParseOptions parse;  // source length, nesting depth, syntax switches
  Limits limits;
  bool check = true;   // with declarations: reject references to undeclared variables at compile time
};

// What a program may reference: variables (optionally declared with a type name such as
// "string", "list(int)", "map(string, dyn)") and the container used to resolve names.
class Env {
 public:
  Env() = default;
  explicit Env(Options options) : options_(std::move(options)) {}

  Env& declare(std::string name, std::string type = "dyn") {
    vars_.emplace_back(std::move(name), std::move(type));
    return *this;
  }
  Env& container(std::string c) {
    container_ = std::move(c);
    return *this;
  }
  const Options& options() const { return options_; }
  Options& options() { return options_; }
  const std::string& container() const { return container_; }
  const std::vector<std::pair<std::string, std::string>>& vars() const { return vars_; }

 private:
  Options options_;
  std::string container_;
  std::vector<std::pair<std::string, std::string>> vars_;
};

struct CompileError {
  int line = 0;      // 1-based
  int column = 0;    // 1-based, in code points
  std::string message;
  std::string snippet;  // " | source line\n | ....^"
  std::string to_string() const;  // "1:14: unexpected ')'\n | ...\n | ...^"
};

struct EvalError {
  std::string message;
  int line = 0;         // 1-based, where the error arose (0: not known, e.g. a limit)
  int column = 0;       // 1-based, in code points
  std::string snippet;  // " | source line\n | ....^"
  std::string to_string() const;  // "1:9: no such key: x\n | ...\n | ...^", or the message alone
};

// Variables for one evaluation. Names and values may borrow text (see Value).
class Activation {
 public:
  Activation() = default;
  // Builds from a JSON object's top-level fields. String values without escapes, and keys,
  // are views into `json`, which must outlive the activation and every value read from it.
  // Integral numbers become int, others double.
  static tl::expected<Activation, EvalError> from_json(std::string_view json);

  void reserve(size_t n) { vars_.reserve(n); }
  Activation& bind(std::string_view name, Value v) {
    vars_.emplace_back(std::string(name), std::move(v));
    return *this;
  }
  const Value* find(std::string_view name) const {
    for (const auto& [n, v] : vars_) {
      if (same_text(n, name)) {
        return &v;
      }
    }
    return nullptr;
  }
  // find() that tries position `hint` first and updates it: a reference that keeps its hint
  // finds variables of activations built alike (one per request) in one comparison.
  const Value* find(std::string_view name, size_t& hint) const {
    if (hint < vars_.size() && same_text(vars_[hint].first, name)) {
      return &vars_[hint].second;
    }
    for (size_t i = 0; i < vars_.size(); ++i) {
      if (same_text(vars_[i].first, name)) {
        hint = i;
        return &vars_[i].second;
      }
    }
    return nullptr;
  }

 private:
  std::vector<std::pair<std::string, Value>> vars_;
};

class Node;
struct ProgramState;

// An immutable compiled expression; evaluate() is safe to call concurrently.
class Program {
 public:
  tl::expected<Value, EvalError> evaluate(const Activation& activation) const;
  // The same without building an EvalError: an error comes back as an error value (message in
  // str()) and `error_at`, if given, gets the byte offset where it arose (UINT32_MAX if not
  // known). For callers that expect errors often and render few of them (routing conditions).
  Value evaluate_value(const Activation& activation, uint32_t* error_at = nullptr) const;
  // The EvalError (line, column, snippet) for what evaluate_value() returned.
  EvalError error_of(const Value& error, uint32_t error_at) const;
  const std::string& source() const;
  // The names the program may look up in an activation (free variables, and the dotted
  // prefixes a qualified name could resolve to), sorted: bind only these.
  const std::vector<std::string>& variables() const;

 private:
  friend tl::expected<Program, CompileError> compile(std::string_view source, const Env& env);
  std::shared_ptr<const ProgramState> state_;
};

tl::expected<Program, CompileError> compile(std::string_view source, const Env& env = Env());

// A JSON rendering of a value in the conformance data's typed form:
// {"type":"int","value":"5"}, {"type":"list","value":[...]}, ...
std::string to_typed_json(const Value& v);
// Parses a typed JSON value (as above) into a Value that owns its text.
tl::expected<Value, std::string> from_typed_json(std::string_view json);

}  // namespace sy::cel
