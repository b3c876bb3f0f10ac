#include "cel/checker.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace sy::cel {
namespace {

// A static type: a value kind, or dyn (not known until run time); lists and maps carry their
// element, key and value types.
struct Type {
  std::optional<Kind> kind;       // nullopt: dyn
  std::shared_ptr<const Type> a;  // list element, map key
  std::shared_ptr<const Type> b;  // map value

  static Type of(Kind k) { return Type{k, nullptr, nullptr}; }
  static Type list(Type e) {
    return Type{Kind::kList, std::make_shared<const Type>(std::move(e)), nullptr};
  }
  static Type map(Type k, Type v) {
    return Type{Kind::kMap, std::make_shared<const Type>(std::move(k)),
                std::make_shared<const Type>(std::move(v))};
  }
  bool dyn() const { return !kind; }
  bool is(Kind k) const { return kind == k; }
  bool numeric() const { return is(Kind::kInt) || is(Kind::kUint) || is(Kind::kDouble); }
  Type elem() const { return a ? *a : Type{}; }
  Type value() const { return b ? *b : Type{}; }
  bool operator==(const Type& o) const {
    if (kind != o.kind) {
      return false;
    }
    if (is(Kind::kList)) {
      return elem() == o.elem();
    }
    if (is(Kind::kMap)) {
      return elem() == o.elem() && value() == o.value();
    }
    return true;
  }
  std::string name() const {
    if (dyn()) {
      return "dyn";
    }
    if (is(Kind::kList)) {
      return fmt::format("list({})", elem().name());
    }
    if (is(Kind::kMap)) {
      return fmt::format("map({}, {})", elem().name(), value().name());
    }
    return std::string(type_name(*kind));
  }
};

// The kinds a declaration or a literal may name directly.
constexpr Kind kScalarKinds[] = {Kind::kNull,      Kind::kBool,    Kind::kInt,   Kind::kUint,
                                 Kind::kDouble,    Kind::kString,  Kind::kBytes, Kind::kType,
                                 Kind::kTimestamp, Kind::kDuration};

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') {
    s.remove_prefix(1);
  }
  while (!s.empty() && s.back() == ' ') {
    s.remove_suffix(1);
  }
  return s;
}

Type parse_type(std::string_view s) {
  s = trim(s);
  for (const Kind k : kScalarKinds) {
    if (s == type_name(k)) {
      return Type::of(k);
    }
  }
  if (s == "timestamp") {
    return Type::of(Kind::kTimestamp);
  }
  if (s == "duration") {
    return Type::of(Kind::kDuration);
  }
  const auto inner = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (!s.starts_with(prefix) || !s.ends_with(")")) {
      return std::nullopt;
    }
    return s.substr(prefix.size(), s.size() - prefix.size() - 1);
  };
  if (auto e = inner("list(")) {
    return Type::list(parse_type(*e));
  }
  if (auto kv = inner("map(")) {
    int depth = 0;
    for (size_t i = 0; i < kv->size(); ++i) {
      const char c = (*kv)[i];
      if (c == '(') {
        ++depth;
      }
      if (c == ')') {
        --depth;
      }
      if (c == ',' && depth == 0) {
        return Type::map(parse_type(kv->substr(0, i)), parse_type(kv->substr(i + 1)));
      }
    }
  }
  return Type{};  // dyn, wrappers, messages: not modelled
}

bool comparable(const Type& x, const Type& y) {
  if (x.dyn() || y.dyn()) {
    return true;
  }
  if (x.numeric() && y.numeric()) {
    return true;
  }
  return x.kind == y.kind && (x.is(Kind::kString) || x.is(Kind::kBytes) || x.is(Kind::kBool) ||
                              x.is(Kind::kTimestamp) || x.is(Kind::kDuration));
}

// The result of `x op y` for + - * / %, or nullopt when no overload exists.
std::optional<Type> arithmetic(std::string_view op, const Type& x, const Type& y) {
  if (x.dyn() || y.dyn()) {
    if (op == "_+_" && (x.is(Kind::kList) || y.is(Kind::kList))) {
      return x.dyn() ? y : x;
    }
    return Type{};
  }
  if (x.numeric() && x.kind == y.kind) {
    if (op == "_%_" && x.is(Kind::kDouble)) {
      return std::nullopt;
    }
    return x;
  }
  if (op == "_+_") {
    if (x.kind == y.kind && (x.is(Kind::kString) || x.is(Kind::kBytes) || x.is(Kind::kDuration))) {
      return x;
    }
    if (x.is(Kind::kList) && y.is(Kind::kList)) {
      return x == y ? x : Type::list(Type{});
    }
    if (x.is(Kind::kTimestamp) && y.is(Kind::kDuration)) {
      return x;
    }
    if (x.is(Kind::kDuration) && y.is(Kind::kTimestamp)) {
      return y;
    }
  }
  if (op == "_-_") {
    if (x.is(Kind::kTimestamp) && y.is(Kind::kTimestamp)) {
      return Type::of(Kind::kDuration);
    }
    if (x.is(Kind::kTimestamp) && y.is(Kind::kDuration)) {
      return x;
    }
    if (x.is(Kind::kDuration) && y.is(Kind::kDuration)) {
      return x;
    }
  }
  return std::nullopt;
}

class Checker {
 public:
  explicit Checker(const Env& env) {
    for (const auto& [name, type] : env.vars()) {
      declared_.emplace_back(name, parse_type(type));
    }
  }

  std::optional<PlanError> run(const Expr& root) {
    infer(root);
    return error_;
  }

 private:
  Type fail(uint32_t offset, std::string message) {
    if (!error_) {
      error_ = PlanError{offset, std::move(message)};
    }
    return Type{};
  }

  Type no_overload(const Expr& e, std::string_view fn, std::initializer_list<const Type*> args) {
    std::string list;
    for (const Type* t : args) {
      list += (list.empty() ? "" : ", ") + t->name();
    }
    return fail(e.offset,
                fmt::format("found no matching overload for '{}' applied to '({})'", fn, list));
  }

  const Type* lookup(std::string_view name) const {
    for (auto it = scope_.rbegin(); it != scope_.rend(); ++it) {
      if (it->first == name) {
        return &it->second;
      }
    }
    for (const auto& [n, t] : declared_) {
      if (n == name) {
        return &t;
      }
    }
    return nullptr;
  }

  // "a.b.c" for a chain of selects ending in an identifier; empty otherwise.
  static std::string qualified(const Expr& e) {
    if (e.kind == ExprKind::kIdent) {
      return e.name;
    }
    if (e.kind != ExprKind::kSelect || e.test_only || e.optional || !e.target) {
      return {};
    }
    std::string q = qualified(*e.target);
    return q.empty() ? q : q + "." + e.name;
  }

  Type infer(const Expr& e) {
    if (error_) {
      return Type{};
    }
    switch (e.kind) {
      case ExprKind::kConst:
        return constant(e.constant);
      case ExprKind::kIdent: {
        const Type* t = lookup(e.name);
        return t ? *t : Type{};
      }
      case ExprKind::kSelect:
        return select(e);
      case ExprKind::kCall:
        return call(e);
      case ExprKind::kList: {
        std::optional<Type> elem;
        for (const auto& a : e.args) {
          const Type t = infer(*a);
          elem = !elem ? t : (*elem == t ? *elem : Type{});
        }
        return Type::list(elem.value_or(Type{}));
      }
      case ExprKind::kMap: {
        std::optional<Type> k, v;
        for (const auto& m : e.entries) {
          const Type kt = m.key ? infer(*m.key) : Type{};
          const Type vt = infer(*m.value);
          k = !k ? kt : (*k == kt ? *k : Type{});
          v = !v ? vt : (*v == vt ? *v : Type{});
        }
        return Type::map(k.value_or(Type{}), v.value_or(Type{}));
      }
      case ExprKind::kStruct:
        for (const auto& m : e.entries) {
          infer(*m.value);
        }
        return Type{};
      case ExprKind::kComprehension:
        return comprehension(e);
    }
    return Type{};
  }

  static Type constant(const Value& v) {
    for (const Kind k : kScalarKinds) {
      if (v.kind() == k) {
        return Type::of(k);
      }
    }
    return Type{};
  }

  Type select(const Expr& e) {
    if (const std::string q = qualified(e); !q.empty()) {
      if (const Type* t = lookup(q)) {
        return *t;  // a declared dotted name
      }
    }
    const Type operand = infer(*e.target);
    if (error_) {
      return Type{};
    }
    if (e.optional) {
      return Type{};
    }
    Type field;
    if (operand.is(Kind::kMap)) {
      const Type key = operand.elem();
      if (!key.dyn() && !key.is(Kind::kString)) {
        return fail(e.offset, fmt::format("type '{}' has no field '{}' (its keys are not strings)",
                                          operand.name(), e.name));
      }
      field = operand.value();
    } else if (!operand.dyn() && !operand.is(Kind::kNull)) {
      return fail(e.offset, fmt::format("type '{}' has no field '{}'", operand.name(), e.name));
    }
    return e.test_only ? Type::of(Kind::kBool) : field;
  }

  Type call(const Expr& e) {
    std::vector<Type> args;
    args.reserve(e.args.size());
    const Type receiver = e.target ? infer(*e.target) : Type{};
    for (const auto& a : e.args) {
      args.push_back(infer(*a));
    }
    if (error_) {
      return Type{};
    }
    const std::string& fn = e.name;
    const size_t n = args.size();
    const auto boolish = [](const Type& t) {
      return t.dyn() || t.is(Kind::kBool);
    };

    if ((fn == "_&&_" || fn == "_||_") && n == 2) {
      if (!boolish(args[0]) || !boolish(args[1])) {
        return no_overload(e, fn, {&args[0], &args[1]});
      }
      return Type::of(Kind::kBool);
    }
    if (fn == "!_" && n == 1) {
      if (!boolish(args[0])) {
        return no_overload(e, fn, {&args[0]});
      }
      return Type::of(Kind::kBool);
    }
    if (fn == "-_" && n == 1) {
      const Type& x = args[0];
      if (!x.dyn() && !x.is(Kind::kInt) && !x.is(Kind::kDouble) && !x.is(Kind::kDuration)) {
        return no_overload(e, fn, {&x});
      }
      return x;
    }
    if (fn == "_?_:_" && n == 3) {
      if (!boolish(args[0])) {
        return no_overload(e, fn, {&args[0], &args[1], &args[2]});
      }
      return args[1] == args[2] ? args[1] : Type{};
    }
    if ((fn == "_==_" || fn == "_!=_") && n == 2) {
      return Type::of(Kind::kBool);
    }
    if ((fn == "_<_" || fn == "_<=_" || fn == "_>_" || fn == "_>=_") && n == 2) {
      if (!comparable(args[0], args[1])) {
        return no_overload(e, fn, {&args[0], &args[1]});
      }
      return Type::of(Kind::kBool);
    }
    if ((fn == "_+_" || fn == "_-_" || fn == "_*_" || fn == "_/_" || fn == "_%_") && n == 2) {
      auto r = arithmetic(fn, args[0], args[1]);
      if (!r) {
        return no_overload(e, fn, {&args[0], &args[1]});
      }
      return *r;
    }
    if (fn == "@in" && n == 2) {
      const Type& c = args[1];
      if (!c.dyn() && !c.is(Kind::kList) && !c.is(Kind::kMap)) {
        return no_overload(e, "@in", {&args[0], &c});
      }
      return Type::of(Kind::kBool);
    }
    if ((fn == "_[_]") && n == 2) {
      const Type& c = args[0];
      const Type& i = args[1];
      if (c.is(Kind::kList)) {
        if (!i.dyn() && !i.numeric()) {
          return no_overload(e, fn, {&c, &i});
        }
        return c.elem();
      }
      if (c.is(Kind::kMap)) {
        return c.value();
      }
      if (!c.dyn()) {
        return no_overload(e, fn, {&c, &i});
      }
      return Type{};
    }
    // Standard functions, as a receiver call or a global one.
    const Type* subject = e.target ? &receiver : (n > 0 ? &args[0] : nullptr);
    const size_t extra = e.target ? n : (n > 0 ? n - 1 : 0);
    if (fn == "size" && subject != nullptr && extra == 0) {
      const Type& x = *subject;
      if (!x.dyn() && !x.is(Kind::kString) && !x.is(Kind::kBytes) && !x.is(Kind::kList) &&
          !x.is(Kind::kMap)) {
        return no_overload(e, fn, {&x});
      }
      return Type::of(Kind::kInt);
    }
    if ((fn == "contains" || fn == "startsWith" || fn == "endsWith" || fn == "matches") &&
        subject != nullptr && extra == 1) {
      const Type& x = *subject;
      const Type& y = args.back();
      const bool ok = (x.dyn() || x.is(Kind::kString)) && (y.dyn() || y.is(Kind::kString));
      if (!ok) {
        return no_overload(e, fn, {&x, &y});
      }
      return Type::of(Kind::kBool);
    }
    if (!e.target && n == 1) {
      static constexpr std::pair<std::string_view, Kind> kConversions[] = {
          {"int", Kind::kInt},
          {"uint", Kind::kUint},
          {"double", Kind::kDouble},
          {"string", Kind::kString},
          {"bytes", Kind::kBytes},
          {"bool", Kind::kBool},
          {"timestamp", Kind::kTimestamp},
          {"duration", Kind::kDuration},
          {"type", Kind::kType}};
      for (const auto& [name, t] : kConversions) {
        if (fn == name) {
          return Type::of(t);
        }
      }
    }
    return Type{};  // functions the checker does not model: decided at run time
  }

  Type comprehension(const Expr& e) {
    const Type range = infer(*e.target);
    if (error_) {
      return Type{};
    }
    Type first, second;
    if (e.macro == Macro::kBind) {
      first = range;
    } else if (e.macro == Macro::kOptMap || e.macro == Macro::kOptFlatMap) {
      first = Type{};
    } else if (range.is(Kind::kList)) {
      first = e.iter_var2.empty() ? range.elem() : Type::of(Kind::kInt);
      second = range.elem();
    } else if (range.is(Kind::kMap)) {
      first = range.elem();
      second = range.value();
    } else if (!range.dyn()) {
      return fail(e.offset,
                  fmt::format("expression of type '{}' cannot be the range of a comprehension "
                              "(a list or a map is needed)",
                              range.name()));
    }
    const size_t depth = scope_.size();
    scope_.emplace_back(e.iter_var, first);
    if (!e.iter_var2.empty()) {
      scope_.emplace_back(e.iter_var2, second);
    }
    std::vector<Type> bodies;
    for (const auto& a : e.args) {
      bodies.push_back(infer(*a));
    }
    scope_.resize(depth);
    if (error_) {
      return Type{};
    }
    const Type last = bodies.empty() ? Type{} : bodies.back();
    switch (e.macro) {
      case Macro::kAll:
      case Macro::kExists:
      case Macro::kExistsOne:
        if (!last.dyn() && !last.is(Kind::kBool)) {
          return fail(e.args.back()->offset,
                      fmt::format("the predicate must be a bool, not '{}'", last.name()));
        }
        return Type::of(Kind::kBool);
      case Macro::kMap:
      case Macro::kTransformList:
        return Type::list(last);
      case Macro::kFilter:
        return range.is(Kind::kList) ? range : Type::list(Type{});
      case Macro::kBind:
        return last;
      default:
        return Type{};
    }
  }

  std::vector<std::pair<std::string, Type>> declared_;
  std::vector<std::pair<std::string, Type>> scope_;
  std::optional<PlanError> error_;
};

}  // namespace

std::optional<PlanError> check_types(const Expr& root, const Env& env) {
  return Checker(env).run(root);
}

std::string normalize_type_name(std::string_view name) {
  return parse_type(name).name();
}

}  // namespace sy::cel
