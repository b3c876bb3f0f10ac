// libFuzzer target for the CEL engine: the input is an expression's source. Each input is
// compiled twice (unchecked, and checked against declarations inside a container), evaluated
// over a fixed request-metadata activation, and its result rendered as the tool would. Any
// crash, sanitizer report, hang (-timeout) or leak is a finding; CEL errors are not.
//
//   tests/fuzz/run.sh 60                                   # build, seed, run for 60 s
//   build/fuzz/tests/fuzz/cel_fuzz build/fuzz/corpus -dict=tests/fuzz/cel.dict
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cel/cel.h"

namespace {

using sy::cel::Activation;
using sy::cel::Env;
using sy::cel::Value;

// Request metadata as a routing rule sees it. The JSON text outlives every evaluation: the
// activation's strings view it.
constexpr std::string_view kVars = R"({
  "language": "es",
  "plan": "free",
  "tokens": 1200,
  "temperature": 0.7,
  "stream": true,
  "model": "gpt-4o-mini",
  "user": "test-42",
  "nothing": null,
  "headers": {"x-region": "eu-west-1", "content-type": "application/json", "x-tier": "gold"},
  "metadata": {"team": "search", "cost_center": 42, "tags": ["a", "b"]},
  "messages": [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Reply in JSON please \u00e9"},
    {"role": "assistant", "content": "{}"},
    {"role": "user", "content": "hola"}
  ]
})";

const Activation& activation() {
  static const Activation a = [] {
    auto act = Activation::from_json(kVars);
    if (!act) {
      __builtin_trap();
    }
    act->bind("n", Value::uinteger(7))
        .bind("ratio", Value::dbl(-0.0))
        .bind("raw", Value::bytes_view(std::string_view("\x00\xff\xc3\xa9", 4)))
        .bind("now", Value::timestamp(1'700'000'000, 123))
        .bind("timeout", Value::duration(90, 500'000'000))
        .bind("sy.routing.region", Value::string_view("eu"))
        .bind("maybe", Value::optional_of(Value::string_view("x")))
        .bind("none", Value::optional_none());
    return *act;
  }();
  return a;
}

Env checked_env() {
  Env env;
  env.container("sy.routing");
  for (const char* name : {"language", "plan", "model", "user"}) {
    env.declare(name, "string");
  }
  env.declare("tokens", "int")
      .declare("n", "uint")
      .declare("temperature", "double")
      .declare("stream", "bool")
      .declare("headers", "map(string, string)")
      .declare("metadata", "map(string, dyn)")
      .declare("messages", "list(map(string, string))")
      .declare("now", "google.protobuf.Timestamp")
      .declare("sy.routing.region", "string")
      .declare("timeout", "google.protobuf.Duration");
  return env;
}

void run(std::string_view source, const Env& env) {
  auto program = sy::cel::compile(source, env);
  if (!program) {
    // The caret snippet must render for any position, including ones inside multi-byte text.
    volatile size_t sink = program.error().to_string().size();
    (void)sink;
    return;
  }
  auto v = program->evaluate(activation());
  if (!v) {
    return;
  }
  volatile size_t sink = sy::cel::to_typed_json(*v).size() + sy::cel::debug_string(*v).size();
  (void)sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Env unchecked;
  static const Env checked = checked_env();
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  run(source, unchecked);
  run(source, checked);
  return 0;
}
