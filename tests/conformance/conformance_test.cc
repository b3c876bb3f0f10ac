// Runs the CEL conformance suite (data/conformance.jsonl) and the parser rejection list
// (data/parse_errors.jsonl), prints a per-file table and fails on any change against the
// committed baseline of known failures (known_failures.txt): a new failure, or a known
// failure that now passes (remove it from the list).
//
//   CEL_CONFORMANCE_VERBOSE=1   print every failing test with its result
//   CEL_CONFORMANCE_FILTER=str  only run tests whose id contains str
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "cel/cel.h"
#include "cel/json_value.h"

namespace sy::cel {
namespace {

const std::string kDir = SY_CEL_CONFORMANCE_DIR;

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  return out;
}

const Value* get(const Value& m, std::string_view k) { return m.find_string(k); }
std::string str(const Value& m, std::string_view k) {
  const Value* v = get(m, k);
  return v && v->kind() == Kind::kString ? std::string(v->str()) : "";
}
bool flag(const Value& m, std::string_view k) {
  const Value* v = get(m, k);
  return v && v->kind() == Kind::kBool && v->as_bool();
}

// Exact equality for expectations: kinds must match (no heterogeneous numbers), NaN == NaN.
bool strict_equal(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kDouble: {
      const double x = a.as_double();
      const double y = b.as_double();
      if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
      return x == y && std::signbit(x) == std::signbit(y);
    }
    case Kind::kList: {
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!strict_equal(a.items()[i], b.items()[i])) return false;
      }
      return true;
    }
    case Kind::kMap: {
      if (a.size() != b.size()) return false;
      for (const auto& [k, v] : a.entries()) {
        bool found = false;
        for (const auto& [k2, v2] : b.entries()) {
          if (strict_equal(k, k2)) {
            found = strict_equal(v, v2);
            break;
          }
        }
        if (!found) return false;
      }
      return true;
    }
    default: return equal(a, b);
  }
}

enum class Outcome { kPass, kFail, kSkip };

struct Counts {
  int pass = 0, fail = 0, skip = 0;
};

Outcome run_case(const Value& t, std::string& detail) {
  if (flag(t, "check_only")) return Outcome::kSkip;
  const std::string matcher = str(t, "result_matcher");
  if (matcher == "typed_result") return Outcome::kSkip;  // needs deduced types from a full checker
  Env env;
  env.container(str(t, "container"));
  env.options().check = !flag(t, "disable_check");
  env.options().parse.enable_macros = !flag(t, "disable_macros");
  if (const Value* te = get(t, "type_env")) {
    for (const auto& d : te->items()) {
      if (str(d, "kind") == "func") return Outcome::kSkip;
      env.declare(str(d, "name"), str(d, "type"));
    }
  }
  Activation act;
  if (const Value* b = get(t, "bindings")) {
    for (const auto& [name, typed] : b->entries()) {
      auto v = from_typed_value(typed);
      if (!v) {
        detail = "binding: " + v.error();
        return Outcome::kSkip;
      }
      act.bind(name.str(), *v);
    }
  }
  const Value* expected = get(t, "expected");
  if (expected == nullptr) return Outcome::kSkip;
  const std::string kind = str(*expected, "kind");
  std::optional<Value> want;
  if (kind == "value") {
    auto v = from_typed_value(*get(*expected, "value"));
    if (!v) {
      detail = "expected: " + v.error();
      return Outcome::kSkip;
    }
    want = *v;
  } else if (kind != "error") {
    return Outcome::kSkip;
  }
  auto program = compile(str(t, "expr"), env);
  if (!program) {
    detail = "compile error: " + program.error().to_string();
    return want ? Outcome::kFail : Outcome::kPass;
  }
  auto got = program->evaluate(act);
  if (!got) {
    detail = "eval error: " + got.error().message;
    return want ? Outcome::kFail : Outcome::kPass;
  }
  detail = "got " + to_typed_json(*got);
  if (!want) return Outcome::kFail;
  return strict_equal(*got, *want) ? Outcome::kPass : Outcome::kFail;
}

TEST(CelConformance, SuiteMatchesBaseline) {
  const auto lines = read_lines(kDir + "/data/conformance.jsonl");
  ASSERT_GT(lines.size(), 1000u) << "conformance data missing under " << kDir;
  std::set<std::string> known;
  for (const auto& l : read_lines(kDir + "/known_failures.txt")) known.insert(l);
  const char* filter = std::getenv("CEL_CONFORMANCE_FILTER");
  const bool verbose = std::getenv("CEL_CONFORMANCE_VERBOSE") != nullptr;
  std::map<std::string, Counts> table;
  std::vector<std::string> regressions;
  std::vector<std::string> fixed;
  std::vector<std::string> failures;
  for (const auto& line : lines) {
    auto t = parse_json(line, true);
    ASSERT_TRUE(t.has_value()) << t.error();
    const std::string id = str(*t, "id");
    if (filter && id.find(filter) == std::string::npos) continue;
    std::string detail;
    const Outcome o = run_case(*t, detail);
    Counts& c = table[str(*t, "file")];
    if (o == Outcome::kSkip) {
      ++c.skip;
      continue;
    }
    if (o == Outcome::kPass) {
      ++c.pass;
      if (known.count(id)) fixed.push_back(id);
      continue;
    }
    ++c.fail;
    failures.push_back(id);
    if (!known.count(id)) regressions.push_back(id + "  [" + str(*t, "expr") + "]  " + detail);
    if (verbose) std::printf("FAIL %s\n  expr: %s\n  %s\n", id.c_str(), str(*t, "expr").c_str(), detail.c_str());
  }
  Counts total;
  std::printf("\n%-16s %6s %6s %6s\n", "file", "pass", "fail", "skip");
  for (const auto& [file, c] : table) {
    std::printf("%-16s %6d %6d %6d\n", file.c_str(), c.pass, c.fail, c.skip);
    total.pass += c.pass;
    total.fail += c.fail;
    total.skip += c.skip;
  }
  std::printf("%-16s %6d %6d %6d\n\n", "total", total.pass, total.fail, total.skip);
  if (const char* out = std::getenv("CEL_CONFORMANCE_WRITE_BASELINE")) {
    std::ofstream f(out);
    for (const auto& id : failures) f << id << "\n";
  }
  if (filter) return;
  for (const auto& r : regressions) ADD_FAILURE() << "new failure: " << r;
  for (const auto& f : fixed) ADD_FAILURE() << "now passes, remove from known_failures.txt: " << f;
}

TEST(CelConformance, ParseErrorsAreRejected) {
  const auto lines = read_lines(kDir + "/data/parse_errors.jsonl");
  ASSERT_EQ(lines.size(), 96u);
  Env env;
  env.options().parse.max_depth = 32;  // the limits the suite was generated with
  env.options().parse.enable_optional_syntax = false;
  env.options().parse.enable_quoted_identifiers = false;
  int rejected = 0;
  for (const auto& line : lines) {
    auto t = parse_json(line, true);
    ASSERT_TRUE(t.has_value());
    const std::string expr = str(*t, "expr");
    auto p = compile(expr, env);
    if (!p) {
      ++rejected;
    } else {
      ADD_FAILURE() << "accepted: " << expr;
    }
  }
  std::printf("parse_errors: %d of %zu rejected\n", rejected, lines.size());
}

}  // namespace
}  // namespace sy::cel
