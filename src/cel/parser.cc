#include "cel/parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "cel/lexer.h"

namespace sy::cel {
namespace {

constexpr std::string_view kAccumulator = "__result__";

struct Failure {
  ParseError error;
};

class Parser {
 public:
  Parser(std::string_view src, const ParseOptions& o) : lexer_(src), options_(o) { advance(); }

  tl::expected<ExprPtr, ParseError> run() {
    ExprPtr root = expr();
    if (failed_) return tl::unexpected(error_);
    if (tok_.kind != Tok::kEof) {
      fail_at(tok_.offset, "unexpected " + describe(tok_));
      return tl::unexpected(error_);
    }
    return root;
  }

 private:
  // --- plumbing -------------------------------------------------------------------------------
  void advance() {
    if (failed_) return;
    tok_ = lexer_.next();
    if (tok_.kind == Tok::kError) fail_at(tok_.offset, tok_.text);
  }
  void fail_at(uint32_t off, std::string msg) {
    if (failed_) return;
    failed_ = true;
    error_ = ParseError{off, std::move(msg)};
    tok_.kind = Tok::kEof;
  }
  static std::string describe(const Token& t) {
    switch (t.kind) {
      case Tok::kEof: return "end of input";
      case Tok::kIdent: return fmt::format("'{}'", t.text);
      case Tok::kInt:
      case Tok::kUint:
      case Tok::kDouble: return "number";
      case Tok::kString: return "string";
      case Tok::kBytes: return "bytes";
      default: return "token";
    }
  }
  bool expect(Tok k, std::string_view what) {
    if (tok_.kind != k) {
      fail_at(tok_.offset, fmt::format("expected {} but found {}", what, describe(tok_)));
      return false;
    }
    advance();
    return true;
  }
  ExprPtr node(ExprKind k, uint32_t off) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->offset = off;
    return e;
  }
  // Computes the node's depth from its finished children; deep trees are rejected here so that
  // later recursive passes (planner, evaluator, destructor) stay within the limit.
  ExprPtr done(ExprPtr e) {
    if (!e) return e;
    int d = 0;
    auto see = [&](const ExprPtr& c) {
      if (c) d = std::max(d, depth_of(*c));
    };
    see(e->target);
    for (const auto& a : e->args) see(a);
    for (const auto& m : e->entries) {
      see(m.key);
      see(m.value);
    }
    e->depth = d + 1;
    if (e->depth > options_.max_depth) {
      fail_at(e->offset, fmt::format("expression nesting exceeds the limit of {}", options_.max_depth));
    }
    return e;
  }
  static int depth_of(const Expr& e) { return e.depth; }
  ExprPtr call(std::string fn, uint32_t off, std::vector<ExprPtr> args, ExprPtr target = nullptr) {
    auto e = node(ExprKind::kCall, off);
    e->name = std::move(fn);
    e->args = std::move(args);
    e->target = std::move(target);
    return done(std::move(e));
  }
  ExprPtr binary(std::string fn, uint32_t off, ExprPtr a, ExprPtr b) {
    std::vector<ExprPtr> args;
    args.push_back(std::move(a));
    args.push_back(std::move(b));
    return call(std::move(fn), off, std::move(args));
  }
  struct Recursion {
    explicit Recursion(Parser& p) : p_(p) {
      if (++p_.recursion_ > p_.options_.max_depth) {
        p_.fail_at(p_.tok_.offset,
                   fmt::format("expression recursion exceeds the limit of {}", p_.options_.max_depth));
      }
    }
    ~Recursion() { --p_.recursion_; }
    Recursion(const Recursion&) = delete;
    Recursion& operator=(const Recursion&) = delete;
    Parser& p_;
  };

  // --- grammar --------------------------------------------------------------------------------
  ExprPtr expr() {
    Recursion r(*this);
    if (failed_) return nullptr;
    ExprPtr cond = logical(true);
    if (tok_.kind != Tok::kQuestion || failed_) return cond;
    const uint32_t off = tok_.offset;
    advance();
    ExprPtr then = logical(true);
    if (!expect(Tok::kColon, "':'")) return nullptr;
    ExprPtr other = expr();
    std::vector<ExprPtr> args;
    args.push_back(std::move(cond));
    args.push_back(std::move(then));
    args.push_back(std::move(other));
    return call("_?_:_", off, std::move(args));
  }

  ExprPtr logical(bool is_or) {
    ExprPtr lhs = is_or ? logical(false) : relation();
    const Tok op = is_or ? Tok::kOr : Tok::kAnd;
    while (tok_.kind == op && !failed_) {
      const uint32_t off = tok_.offset;
      advance();
      ExprPtr rhs = is_or ? logical(false) : relation();
      lhs = binary(is_or ? "_||_" : "_&&_", off, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  ExprPtr relation() {
    ExprPtr lhs = addition();
    for (;;) {
      const char* fn = nullptr;
      switch (tok_.kind) {
        case Tok::kEq: fn = "_==_"; break;
        case Tok::kNe: fn = "_!=_"; break;
        case Tok::kLt: fn = "_<_"; break;
        case Tok::kLe: fn = "_<=_"; break;
        case Tok::kGt: fn = "_>_"; break;
        case Tok::kGe: fn = "_>=_"; break;
        case Tok::kIn: fn = "@in"; break;
        default: return lhs;
      }
      if (failed_) return lhs;
      const uint32_t off = tok_.offset;
      advance();
      lhs = binary(fn, off, std::move(lhs), addition());
    }
  }

  ExprPtr addition() {
    ExprPtr lhs = multiplication();
    while ((tok_.kind == Tok::kPlus || tok_.kind == Tok::kMinus) && !failed_) {
      const char* fn = tok_.kind == Tok::kPlus ? "_+_" : "_-_";
      const uint32_t off = tok_.offset;
      advance();
      lhs = binary(fn, off, std::move(lhs), multiplication());
    }
    return lhs;
  }

  ExprPtr multiplication() {
    ExprPtr lhs = unary();
    while ((tok_.kind == Tok::kStar || tok_.kind == Tok::kSlash || tok_.kind == Tok::kPercent) && !failed_) {
      const char* fn = tok_.kind == Tok::kStar ? "_*_" : tok_.kind == Tok::kSlash ? "_/_" : "_%_";
      const uint32_t off = tok_.offset;
      advance();
      lhs = binary(fn, off, std::move(lhs), unary());
    }
    return lhs;
  }

  ExprPtr unary() {
    if (tok_.kind == Tok::kNot || tok_.kind == Tok::kMinus) {
      const Tok op = tok_.kind;
      std::vector<uint32_t> offsets;
      while (tok_.kind == op && !failed_) {
        offsets.push_back(tok_.offset);
        advance();
      }
      if (op == Tok::kMinus && (tok_.kind == Tok::kInt || tok_.kind == Tok::kDouble)) {
        negate_literal_ = true;  // one minus belongs to the literal: -9223372036854775808
        offsets.pop_back();
      }
      ExprPtr e = member();
      while (!offsets.empty()) {
        std::vector<ExprPtr> args;
        args.push_back(std::move(e));
        e = call(op == Tok::kNot ? "!_" : "-_", offsets.back(), std::move(args));
        offsets.pop_back();
      }
      return e;
    }
    return member();
  }

  std::optional<std::string> field_name() {
    if (tok_.kind == Tok::kIdent) {
      std::string n = tok_.text;
      advance();
      return n;
    }
    if (tok_.kind == Tok::kQuotedIdent) {
      if (!options_.enable_quoted_identifiers) {
        fail_at(tok_.offset, "unsupported syntax: '`'");
        return std::nullopt;
      }
      std::string n = tok_.text;
      advance();
      return n;
    }
    fail_at(tok_.offset, "expected a field name but found " + describe(tok_));
    return std::nullopt;
  }

  ExprPtr member() {
    ExprPtr e = primary();
    while (!failed_) {
      if (tok_.kind == Tok::kDot) {
        const uint32_t off = tok_.offset;
        advance();
        bool opt = false;
        if (tok_.kind == Tok::kQuestion) {
          if (!options_.enable_optional_syntax) {
            fail_at(tok_.offset, "unsupported syntax '.?'");
            return nullptr;
          }
          opt = true;
          advance();
        }
        const bool quoted = tok_.kind == Tok::kQuotedIdent;
        auto name = field_name();
        if (!name) return nullptr;
        if (tok_.kind == Tok::kLParen && !opt) {
          if (quoted) {
            fail_at(tok_.offset, "a quoted identifier cannot name a function");
            return nullptr;
          }
          auto args = call_args();
          e = method(std::move(e), std::move(*name), off, std::move(args));
          continue;
        }
        auto s = node(ExprKind::kSelect, off);
        s->target = std::move(e);
        s->name = std::move(*name);
        s->optional = opt;
        e = done(std::move(s));
      } else if (tok_.kind == Tok::kLBracket) {
        const uint32_t off = tok_.offset;
        advance();
        bool opt = false;
        if (tok_.kind == Tok::kQuestion) {
          if (!options_.enable_optional_syntax) {
            fail_at(tok_.offset, "unsupported syntax '[?'");
            return nullptr;
          }
          opt = true;
          advance();
        }
        ExprPtr index = expr();
        if (!expect(Tok::kRBracket, "']'")) return nullptr;
        e = binary(opt ? "_[?_]" : "_[_]", off, std::move(e), std::move(index));
      } else if (tok_.kind == Tok::kLBrace && is_qualified_name(*e)) {
        e = struct_literal(std::move(e));
      } else {
        return e;
      }
    }
    return e;
  }

  static bool is_qualified_name(const Expr& e) {
    if (e.kind == ExprKind::kIdent) return true;
    return e.kind == ExprKind::kSelect && !e.optional && !e.test_only && e.target &&
           is_qualified_name(*e.target);
  }
  static std::string qualified_name(const Expr& e) {
    if (e.kind == ExprKind::kIdent) return (e.absolute ? "." : "") + e.name;
    return qualified_name(*e.target) + "." + e.name;
  }

  ExprPtr struct_literal(ExprPtr type) {
    Recursion r(*this);
    auto s = node(ExprKind::kStruct, tok_.offset);
    s->name = qualified_name(*type);
    advance();  // '{'
    while (tok_.kind != Tok::kRBrace && !failed_) {
      MapEntry m;
      if (tok_.kind == Tok::kQuestion) {
        if (!options_.enable_optional_syntax) {
          fail_at(tok_.offset, "unsupported syntax '?'");
          return nullptr;
        }
        m.optional = true;
        advance();
      }
      auto name = field_name();
      if (!name) return nullptr;
      m.field = std::move(*name);
      if (!expect(Tok::kColon, "':'")) return nullptr;
      m.value = expr();
      s->entries.push_back(std::move(m));
      if (tok_.kind != Tok::kComma) break;
      advance();
    }
    if (!expect(Tok::kRBrace, "'}'")) return nullptr;
    return done(std::move(s));
  }

  std::vector<ExprPtr> call_args() {
    Recursion r(*this);
    std::vector<ExprPtr> args;
    advance();  // '('
    if (tok_.kind != Tok::kRParen) {
      for (;;) {
        args.push_back(expr());
        if (failed_ || tok_.kind != Tok::kComma) break;
        advance();
      }
    }
    expect(Tok::kRParen, "')'");
    return args;
  }

  ExprPtr primary() {
    Recursion r(*this);
    if (failed_) return nullptr;
    const uint32_t off = tok_.offset;
    const bool negate = negate_literal_;
    negate_literal_ = false;
    switch (tok_.kind) {
      case Tok::kInt: {
        const uint64_t u = tok_.u;
        const bool overflow = tok_.overflow;
        advance();
        if (overflow || u > (negate ? 9223372036854775808ULL : 9223372036854775807ULL)) {
          fail_at(off, "invalid int literal");
          return nullptr;
        }
        const int64_t v = negate ? static_cast<int64_t>(0 - u) : static_cast<int64_t>(u);
        return constant(Value::integer(v), off);
      }
      case Tok::kUint: {
        const Token t = tok_;
        advance();
        if (t.overflow) {
          fail_at(off, "invalid uint literal");
          return nullptr;
        }
        if (negate) {
          auto lit = constant(Value::uinteger(t.u), off);
          std::vector<ExprPtr> args;
          args.push_back(std::move(lit));
          return call("-_", off, std::move(args));
        }
        return constant(Value::uinteger(t.u), off);
      }
      case Tok::kDouble: {
        const double d = tok_.d;
        advance();
        return constant(Value::dbl(negate ? -d : d), off);
      }
      case Tok::kString: {
        auto e = constant(Value::string(tok_.text), off);
        advance();
        return e;
      }
      case Tok::kBytes: {
        auto e = constant(Value::bytes(tok_.text), off);
        advance();
        return e;
      }
      case Tok::kTrue: advance(); return constant(Value::boolean(true), off);
      case Tok::kFalse: advance(); return constant(Value::boolean(false), off);
      case Tok::kNull: advance(); return constant(Value::null(), off);
      case Tok::kLParen: {
        advance();
        ExprPtr e = expr();
        expect(Tok::kRParen, "')'");
        return e;
      }
      case Tok::kLBracket: return list_literal();
      case Tok::kLBrace: return map_literal();
      case Tok::kDot:
      case Tok::kIdent: return identifier();
      default:
        fail_at(off, "unexpected " + describe(tok_));
        return nullptr;
    }
  }

  ExprPtr constant(Value v, uint32_t off) {
    auto e = node(ExprKind::kConst, off);
    e->constant = std::move(v);
    return done(std::move(e));
  }

  ExprPtr identifier() {
    const uint32_t off = tok_.offset;
    bool absolute = false;
    if (tok_.kind == Tok::kDot) {
      absolute = true;
      advance();
      if (tok_.kind != Tok::kIdent) {
        fail_at(tok_.offset, "expected an identifier after '.'");
        return nullptr;
      }
    }
    std::string name = tok_.text;
    if (is_reserved_word(name)) {
      fail_at(tok_.offset, fmt::format("reserved identifier: {}", name));
      return nullptr;
    }
    advance();
    if (tok_.kind == Tok::kLParen) {
      auto args = call_args();
      if (failed_) return nullptr;
      if (options_.enable_macros && !absolute && name == "has" && args.size() == 1) {
        ExprPtr& a = args[0];
        if (a->kind != ExprKind::kSelect || a->optional) {
          fail_at(off, "invalid argument to has() macro");
          return nullptr;
        }
        a->test_only = true;
        return std::move(a);
      }
      return call((absolute ? "." : "") + name, off, std::move(args));
    }
    auto e = node(ExprKind::kIdent, off);
    e->name = std::move(name);
    e->absolute = absolute;
    return done(std::move(e));
  }

  ExprPtr list_literal() {
    auto e = node(ExprKind::kList, tok_.offset);
    advance();
    while (tok_.kind != Tok::kRBracket && !failed_) {
      bool opt = false;
      if (tok_.kind == Tok::kQuestion) {
        if (!options_.enable_optional_syntax) {
          fail_at(tok_.offset, "unsupported syntax '?'");
          return nullptr;
        }
        opt = true;
        advance();
      }
      e->args.push_back(expr());
      e->optional_elements.push_back(opt);
      if (tok_.kind != Tok::kComma) break;
      advance();
    }
    if (!expect(Tok::kRBracket, "']'")) return nullptr;
    return done(std::move(e));
  }

  ExprPtr map_literal() {
    auto e = node(ExprKind::kMap, tok_.offset);
    advance();
    while (tok_.kind != Tok::kRBrace && !failed_) {
      MapEntry m;
      if (tok_.kind == Tok::kQuestion) {
        if (!options_.enable_optional_syntax) {
          fail_at(tok_.offset, "unsupported syntax '?'");
          return nullptr;
        }
        m.optional = true;
        advance();
      }
      m.key = expr();
      if (!expect(Tok::kColon, "':'")) return nullptr;
      m.value = expr();
      e->entries.push_back(std::move(m));
      if (tok_.kind != Tok::kComma) break;
      advance();
    }
    if (!expect(Tok::kRBrace, "'}'")) return nullptr;
    return done(std::move(e));
  }

  // --- macros ---------------------------------------------------------------------------------
  bool simple_name(const ExprPtr& e, std::string& out) {
    // cel.iterVar(i, j) / cel.accuVar(i, j): the generated names used by block_ext output.
    if (e->kind == ExprKind::kCall && e->target && e->target->kind == ExprKind::kIdent &&
        e->target->name == "cel" && (e->name == "iterVar" || e->name == "accuVar") && e->args.size() == 2 &&
        e->args[0]->kind == ExprKind::kConst && e->args[1]->kind == ExprKind::kConst &&
        e->args[0]->constant.kind() == Kind::kInt && e->args[1]->constant.kind() == Kind::kInt) {
      out = fmt::format("{}:{}:{}", e->name == "iterVar" ? "@it" : "@ac", e->args[0]->constant.as_int(),
                        e->args[1]->constant.as_int());
      return true;
    }
    if (e->kind != ExprKind::kIdent || e->absolute) {
      fail_at(e->offset, "argument must be a simple name");
      return false;
    }
    if (e->name == kAccumulator) {
      fail_at(e->offset, "iteration variable overwrites accumulator variable");
      return false;
    }
    out = e->name;
    return true;
  }

  ExprPtr method(ExprPtr target, std::string name, uint32_t off, std::vector<ExprPtr> args) {
    if (failed_) return nullptr;
    if (!options_.enable_macros) return call(std::move(name), off, std::move(args), std::move(target));
    const size_t n = args.size();
    Macro m = Macro::kNone;
    bool two_var = false;
    if (name == "all" || name == "exists" || name == "exists_one" || name == "existsOne") {
      if (n == 2 || n == 3) {
        m = name == "all" ? Macro::kAll : name == "exists" ? Macro::kExists : Macro::kExistsOne;
        two_var = n == 3;
      }
    } else if (name == "map" && (n == 2 || n == 3)) {
      m = Macro::kMap;
    } else if (name == "filter" && n == 2) {
      m = Macro::kFilter;
    } else if ((name == "transformList" || name == "transformMap" || name == "transformMapEntry") &&
               (n == 3 || n == 4)) {
      m = name == "transformList" ? Macro::kTransformList
          : name == "transformMap" ? Macro::kTransformMap : Macro::kTransformMapEntry;
      two_var = true;
    } else if ((name == "optMap" || name == "optFlatMap") && n == 2) {
      m = name == "optMap" ? Macro::kOptMap : Macro::kOptFlatMap;
    } else if (name == "bind" && n == 3 && target->kind == ExprKind::kIdent && target->name == "cel" &&
               !target->absolute) {
      m = Macro::kBind;
    }
    if (m == Macro::kNone) return call(std::move(name), off, std::move(args), std::move(target));
    auto c = node(ExprKind::kComprehension, off);
    c->macro = m;
    c->name = std::move(name);
    if (!simple_name(args[0], c->iter_var)) return nullptr;
    size_t first_body = 1;
    if (two_var) {
      if (!simple_name(args[1], c->iter_var2)) return nullptr;
      if (c->iter_var2 == c->iter_var) {
        fail_at(args[1]->offset, "duplicate iteration variable name");
        return nullptr;
      }
      first_body = 2;
    }
    if (m == Macro::kBind) {
      c->target = std::move(args[1]);
      first_body = 2;
    } else {
      c->target = std::move(target);
    }
    for (size_t i = first_body; i < n; ++i) c->args.push_back(std::move(args[i]));
    return done(std::move(c));
  }

  Lexer lexer_;
  const ParseOptions& options_;
  Token tok_;
  bool failed_ = false;
  bool negate_literal_ = false;
  int recursion_ = 0;
  ParseError error_;
};

}  // namespace

tl::expected<Ast, ParseError> parse(std::string_view source, const ParseOptions& options) {
  if (source.size() > options.max_source_bytes) {
    return tl::unexpected(ParseError{0, fmt::format("expression is {} bytes, above the limit of {}",
                                                    source.size(), options.max_source_bytes)});
  }
  Parser p(source, options);
  auto root = p.run();
  if (!root) return tl::unexpected(root.error());
  Ast ast;
  ast.root = std::move(*root);
  ast.source = std::string(source);
  return ast;
}

}  // namespace sy::cel
