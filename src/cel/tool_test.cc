#include "cel/tool.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sy::cel {
namespace {

struct Run {
  int status;
  std::string out;
  std::string err;
};

Run run(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  const int status = run_tool(static_cast<int>(argv.size()), argv.data());
  Run r{status, testing::internal::GetCapturedStdout(), testing::internal::GetCapturedStderr()};
  return r;
}

TEST(Tool, EvalPrintsTypedJson) {
  auto r = run({"cel", "eval", "language == 'es'", "--vars", R"({"language":"es"})"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "{\"type\":\"bool\",\"value\":true}\n");
  r = run({"cel", "eval", "tokens * 2", "--vars", R"({"tokens":21})"});
  EXPECT_EQ(r.out, "{\"type\":\"int\",\"value\":\"42\"}\n");
}

TEST(Tool, ErrorsHavePositionsAndStatus) {
  auto r = run({"cel", "eval", "language == ", "--vars", "{}"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("1:13:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("^"), std::string::npos);
  r = run({"cel", "eval", "missing > 1"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("unknown variable"), std::string::npos);
  r = run({"cel", "frobnicate"});
  EXPECT_EQ(r.status, 2);
}

TEST(Tool, SixtyFourBitIntegersPrintAsStringsWithTheirType) {
  auto r = run(
      {"cel", "eval", "[9223372036854775807, -9223372036854775808, 18446744073709551615u, 1.5]"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            R"({"type":"list","value":[{"type":"int","value":"9223372036854775807"},)"
            R"({"type":"int","value":"-9223372036854775808"},)"
            R"({"type":"uint","value":"18446744073709551615"},{"type":"double","value":1.5}]})"
            "\n");
}

TEST(Tool, VarsFile) {
  const std::string path = testing::TempDir() + "cel_tool_vars.json";
  {
    std::ofstream out(path);
    out << R"({"headers": {"x-region": "eu-west-1"}, "messages": [{"role": "user"}]})";
  }
  auto r = run({"cel", "eval", "headers['x-region'].startsWith('eu-') && size(messages) == 1",
                "--vars-file", path});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "{\"type\":\"bool\",\"value\":true}\n");
  std::remove(path.c_str());
  r = run({"cel", "eval", "true", "--vars-file", path});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("cannot read"), std::string::npos);
}

TEST(Tool, BadVariablesAndEvaluationErrors) {
  auto r = run({"cel", "eval", "x", "--vars", "{\"x\": "});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("variables"), std::string::npos) << r.err;
  r = run({"cel", "eval", "x", "--vars", "[1]"});
  EXPECT_EQ(r.status, 2);
  r = run({"cel", "eval", "tokens / 0", "--vars", R"({"tokens": 1})"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("division by zero"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST(Tool, MultiLineErrorPosition) {
  auto r = run({"cel", "check", "language == 'es' &&\n  plan in ['free',, 'trial']"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("2:19:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" |   plan in ['free',, 'trial']\n | ..................^"),
            std::string::npos)
      << r.err;
}

TEST(Tool, Check) {
  EXPECT_EQ(run({"cel", "check", "plan in ['free', 'trial']"}).status, 0);
  EXPECT_EQ(run({"cel", "check", "plan in ["}).status, 1);
}

TEST(Tool, DeclarationsTurnOnTheTypeChecker) {
  auto r = run({"cel", "check", "plan > 5"});
  EXPECT_EQ(r.status, 0);  // nothing declared: a run-time matter
  r = run({"cel", "check", "plan > 5", "--declare", "plan:string"});
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("1:6: found no matching overload for '_>_' applied to '(string, int)'"), std::string::npos) << r.err;
  r = run({"cel", "check", "pln == 'free'", "--declare", "plan:string"});
  EXPECT_NE(r.err.find("undeclared reference to 'pln'"), std::string::npos) << r.err;
  r = run({"cel", "eval", "headers['x'] == 'y'", "--declare", "headers:map(string, string)", "--vars", R"({"headers":{"x":"y"}})"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(run({"cel", "check", "x", "--declare", "x"}).status, 2);
}

}  // namespace
}  // namespace sy::cel
