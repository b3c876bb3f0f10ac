// Golden files of the translators: every JSON file under testdata/ is one test case, named
// after its path ("request/openai-to-anthropic/tools-and-results.json" →
// Golden/GoldenTest.request_openai_to_anthropic_tools_and_results). The first folder says
// what the case translates:
//
//   request/   {"from": "openai"|"anthropic", "to": "openai"|"anthropic"|"gemini",
//               "options": {"model", "model_label", "default_max_tokens", "reasoning_model"},
//               "input": {request}, "expected": {request}
//               | "expected_error": {"status": 400, "param": "...", "message_contains": "..."}}
//   response/  {"from": provider protocol, "to": "openai"|"anthropic",
//               "options": {"model", "request_id", "cost", "json_tool"},
//               "input": {answer}, "expected": {answer}}
//   stream/    {"from": ..., "to": ..., "options": {"model", "request_id", "include_usage",
//               "cost", "json_tool"}, "done": true,
//               "input": [{"event": "message_start", "data": {...}} | {"data": "[DONE]"}, ...],
//               "expected": [{"event": "...", "data": ...}, ...]}
//   error/     {"status": 429, "body": {...} | "raw text", "expected": {"type", "message" | "message_contains"}}
//
// Outputs are compared as JSON values (Boost.JSON), `created` ignored; a failure names the
// path of the first difference. "json_tool": true applies json_tool_to_text to the answer, as
// the gateway does when the request went to Anthropic with a JSON response format. A stream's
// "cost" is set on its finish event, as the gateway does.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "core/error.h"
#include "translate/translate.h"

#ifndef SY_TRANSLATE_TESTDATA
#error "SY_TRANSLATE_TESTDATA must name the testdata folder"
#endif

namespace sy::translate {
namespace {

namespace fs = std::filesystem;
namespace bj = boost::json;

const fs::path kRoot{SY_TRANSLATE_TESTDATA};

std::vector<std::string> fixture_files() {
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(kRoot, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".json") {
      files.push_back(it->path().lexically_relative(kRoot).generic_string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string test_name(const std::string& file) {
  std::string name;
  std::string_view stem = file;
  if (stem.ends_with(".json")) stem.remove_suffix(5);
  for (char c : stem) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    name += alnum ? c : '_';
  }
  return name;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// ---- JSON comparison ---------------------------------------------------------------------

std::string show(const bj::value& v) {
  std::string s = bj::serialize(v);
  if (s.size() > 400) s = s.substr(0, 400) + "…";
  return s;
}

bool is_number(const bj::value& v) { return v.is_int64() || v.is_uint64() || v.is_double(); }

double number(const bj::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

std::string kind_name(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::null: return "null";
    case bj::kind::bool_: return "a boolean";
    case bj::kind::int64:
    case bj::kind::uint64:
    case bj::kind::double_: return "a number";
    case bj::kind::string: return "a string";
    case bj::kind::array: return "an array";
    case bj::kind::object: return "an object";
  }
  return "?";
}

// The JSON object or array a string holds (as OpenAI's tool call `arguments` do); null if none.
bj::value json_in_string(std::string_view s) {
  if (s.empty() || (s.front() != '{' && s.front() != '[')) return nullptr;
  boost::system::error_code ec;
  bj::value v = bj::parse(s, ec);
  return ec ? bj::value(nullptr) : v;
}

// The first difference between `expected` and `actual`, "" when they are equal. Key order
// does not matter; numbers compare by value (1 == 1.0); strings holding a JSON object or array
// compare as the JSON they hold (spacing and escapes aside).
std::string first_difference(const bj::value& expected, const bj::value& actual, const std::string& path) {
  if (is_number(expected) && is_number(actual)) {
    if (number(expected) == number(actual)) return {};
    return path + ": expected " + show(expected) + ", actual " + show(actual);
  }
  if (expected.kind() != actual.kind()) {
    return path + ": expected " + kind_name(expected) + " " + show(expected) + ", actual " + kind_name(actual) + " " +
           show(actual);
  }
  if (expected.is_object()) {
    const bj::object& e = expected.get_object();
    const bj::object& a = actual.get_object();
    for (const auto& [key, value] : e) {
      const std::string at = path + "." + std::string(key);
      const bj::value* other = a.if_contains(key);
      if (other == nullptr) return at + ": expected " + show(value) + ", actual: missing";
      if (std::string d = first_difference(value, *other, at); !d.empty()) return d;
    }
    for (const auto& [key, value] : a) {
      if (!e.contains(key)) return path + "." + std::string(key) + ": not expected, actual " + show(value);
    }
    return {};
  }
  if (expected.is_array()) {
    const bj::array& e = expected.get_array();
    const bj::array& a = actual.get_array();
    for (size_t i = 0; i < std::min(e.size(), a.size()); ++i) {
      if (std::string d = first_difference(e[i], a[i], path + "[" + std::to_string(i) + "]"); !d.empty()) return d;
    }
    if (e.size() > a.size()) {
      return path + ": expected " + std::to_string(e.size()) + " elements, actual " + std::to_string(a.size()) +
             "; first missing: " + show(e[a.size()]);
    }
    if (a.size() > e.size()) {
      return path + ": expected " + std::to_string(e.size()) + " elements, actual " + std::to_string(a.size()) +
             "; first extra: " + show(a[e.size()]);
    }
    return {};
  }
  if (expected == actual) return {};
  if (expected.is_string()) {  // JSON text in a string (an OpenAI `arguments`): compared as JSON
    const bj::value e = json_in_string(expected.get_string());
    const bj::value a = json_in_string(actual.get_string());
    if (!e.is_null() && !a.is_null()) return first_difference(e, a, path + "(as JSON)");
  }
  return path + ": expected " + show(expected) + ", actual " + show(actual);
}

// Readable JSON for failure messages: one member or element a line.
void pretty(std::string& out, const bj::value& v, int indent = 0) {
  const std::string pad(static_cast<size_t>(indent + 2), ' ');
  const std::string close(static_cast<size_t>(indent), ' ');
  if (v.is_object() && !v.get_object().empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& [key, value] : v.get_object()) {
      if (!first) out += ",\n";
      first = false;
      out += pad + bj::serialize(bj::value(key)) + ": ";
      pretty(out, value, indent + 2);
    }
    out += "\n" + close + "}";
  } else if (v.is_array() && !v.get_array().empty()) {
    out += "[\n";
    bool first = true;
    for (const auto& e : v.get_array()) {
      if (!first) out += ",\n";
      first = false;
      out += pad;
      pretty(out, e, indent + 2);
    }
    out += "\n" + close + "]";
  } else {
    out += bj::serialize(v);
  }
}

std::string pretty(const bj::value& v) {
  std::string out;
  pretty(out, v);
  return out;
}

// Removes the volatile `created` member of an answer, of each stream event's data, of each
// element of an array.
void drop_volatile(bj::value& v) {
  if (v.is_array()) {
    for (auto& e : v.get_array()) drop_volatile(e);
    return;
  }
  if (!v.is_object()) return;
  bj::object& o = v.get_object();
  o.erase("created");
  if (bj::value* data = o.if_contains("data"); data != nullptr && data->is_object()) data->get_object().erase("created");
}

// ---- fixture fields ----------------------------------------------------------------------

std::string str(const bj::object& o, std::string_view key, std::string_view fallback = {}) {
  const bj::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string(fallback);
}

int64_t integer(const bj::object& o, std::string_view key, int64_t fallback) {
  const bj::value* v = o.if_contains(key);
  return v != nullptr && v->is_int64() ? v->get_int64() : fallback;
}

bool boolean(const bj::object& o, std::string_view key, bool fallback = false) {
  const bj::value* v = o.if_contains(key);
  return v != nullptr && v->is_bool() ? v->get_bool() : fallback;
}

const bj::object& object_at(const bj::object& o, std::string_view key) {
  static const bj::object kEmpty;
  const bj::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? v->get_object() : kEmpty;
}

// Whether `text` parses as JSON into `out`; the failure explains itself.
::testing::AssertionResult parse_json(std::string_view what, std::string_view text, bj::value& out) {
  boost::system::error_code ec;
  out = bj::parse(text, ec);
  if (ec) return ::testing::AssertionFailure() << what << " is not valid JSON (" << ec.message() << "):\n" << text;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult same_json(const bj::value& expected, bj::value actual, std::string_view what) {
  drop_volatile(actual);
  bj::value e = expected;
  drop_volatile(e);
  const std::string d = first_difference(e, actual, "$");
  if (d.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << " differs at " << d << "\n--- actual " << what << ":\n" << pretty(actual);
}

// ---- the four kinds of case --------------------------------------------------------------

::testing::AssertionResult expected_error(const bj::object& want, const Error& got) {
  const int64_t status = integer(want, "status", 400);
  auto fail = [&]() {
    return ::testing::AssertionFailure() << "error: status " << http_status(got.code) << ", param '" << got.param
                                         << "', message: " << got.message << "\n";
  };
  if (http_status(got.code) != status) return fail() << "expected status " << status;
  if (const bj::value* param = want.if_contains("param"); param != nullptr && param->is_string() && got.param != param->get_string()) {
    return fail() << "expected param '" << param->get_string().c_str() << "'";
  }
  const std::string contains = str(want, "message_contains");
  if (!contains.empty() && got.message.find(contains) == std::string::npos) {
    return fail() << "expected the message to contain: " << contains;
  }
  return ::testing::AssertionSuccess();
}

void run_request(const bj::object& fx) {
  const std::string from = str(fx, "from");
  const std::string to = str(fx, "to");
  const bj::object& o = object_at(fx, "options");
  const std::string model = str(o, "model", "model");
  const std::string label = str(o, "model_label", model);
  const WriteOptions options{.model = model,
                             .model_label = label,
                             .default_max_tokens = integer(o, "default_max_tokens", 4096),
                             .reasoning_model = boolean(o, "reasoning_model")};
  ASSERT_TRUE(fx.contains("input")) << "the fixture has no input";
  const std::string body = bj::serialize(fx.at("input"));
  ASSERT_TRUE(from == "openai" || from == "anthropic") << "request 'from' must be openai or anthropic: " << from;
  ASSERT_TRUE(to == "openai" || to == "anthropic" || to == "gemini") << "request 'to' must be openai, anthropic or gemini: " << to;

  Result<std::string> out = [&]() -> Result<std::string> {
    auto req = from == "openai" ? read_openai_request(body, label) : read_anthropic_request(body, label);
    if (!req) return tl::unexpected(req.error());
    if (to == "openai") return write_openai_request(*req, options);
    if (to == "anthropic") return write_anthropic_request(*req, options);
    return write_gemini_request(*req, options);
  }();

  if (const bj::value* want = fx.if_contains("expected_error")) {
    ASSERT_FALSE(out) << "expected an error, got the request:\n" << *out;
    EXPECT_TRUE(expected_error(want->as_object(), out.error()));
    return;
  }
  ASSERT_TRUE(out) << "translation failed: " << out.error().message << " (param '" << out.error().param << "')";
  bj::value actual;
  ASSERT_TRUE(parse_json("the written request", *out, actual));
  ASSERT_TRUE(fx.contains("expected")) << "the fixture has neither expected nor expected_error";
  EXPECT_TRUE(same_json(fx.at("expected"), actual, "request"));
}

void run_response(const bj::object& fx) {
  const std::string from = str(fx, "from");
  const std::string to = str(fx, "to");
  const bj::object& o = object_at(fx, "options");
  const std::string model = str(o, "model", "model");
  const std::string request_id = str(o, "request_id", "req");
  const std::string cost = str(o, "cost");
  const std::string body = fx.at("input").is_string() ? std::string(fx.at("input").get_string()) : bj::serialize(fx.at("input"));
  ASSERT_TRUE(from == "openai" || from == "anthropic" || from == "gemini") << "response 'from': " << from;
  ASSERT_TRUE(to == "openai" || to == "anthropic") << "response 'to': " << to;

  Result<ChatResponse> res = from == "openai"      ? read_openai_response(body)
                             : from == "anthropic" ? read_anthropic_response(body)
                                                   : read_gemini_response(body);
  if (const bj::value* want = fx.if_contains("expected_error")) {
    ASSERT_FALSE(res) << "expected the answer to be refused";
    EXPECT_TRUE(expected_error(want->as_object(), res.error()));
    return;
  }
  ASSERT_TRUE(res) << "reading the answer failed: " << res.error().message;
  if (boolean(o, "json_tool")) json_tool_to_text(*res);
  const ResponseOptions options{.model = model, .request_id = request_id, .cost = cost};
  const std::string out = to == "openai" ? write_openai_response(*res, options) : write_anthropic_response(*res, options);
  bj::value actual;
  ASSERT_TRUE(parse_json("the written answer", out, actual));
  EXPECT_TRUE(same_json(fx.at("expected"), actual, "response"));
}

// SSE text → [{"event": name (when given), "data": JSON value or the text "[DONE]"}].
::testing::AssertionResult parse_sse(std::string_view sse, bj::array& events) {
  while (!sse.empty()) {
    const size_t end = sse.find("\n\n");
    if (end == std::string_view::npos) return ::testing::AssertionFailure() << "an SSE event does not end with a blank line: " << sse;
    std::string_view block = sse.substr(0, end);
    sse.remove_prefix(end + 2);
    bj::object e;
    std::string data;
    while (!block.empty()) {
      const size_t nl = block.find('\n');
      std::string_view line = block.substr(0, nl);
      block = nl == std::string_view::npos ? std::string_view() : block.substr(nl + 1);
      if (line.starts_with("event: ")) {
        e["event"] = line.substr(7);
      } else if (line.starts_with("data: ")) {
        if (!data.empty()) data += '\n';
        data += line.substr(6);
      } else {
        return ::testing::AssertionFailure() << "unexpected SSE line: " << line;
      }
    }
    if (data == "[DONE]") {
      e["data"] = "[DONE]";
    } else {
      bj::value v;
      if (auto r = parse_json("an SSE event's data", data, v); !r) return r;
      e["data"] = std::move(v);
    }
    events.push_back(std::move(e));
  }
  return ::testing::AssertionSuccess();
}

void run_stream(const bj::object& fx) {
  const std::string from = str(fx, "from");
  const std::string to = str(fx, "to");
  const bj::object& o = object_at(fx, "options");
  const std::string model = str(o, "model", "model");
  const std::string request_id = str(o, "request_id", "req");
  const std::string cost = str(o, "cost");
  const bool json_tool = boolean(o, "json_tool");
  ASSERT_TRUE(from == "openai" || from == "anthropic" || from == "gemini") << "stream 'from': " << from;
  ASSERT_TRUE(to == "openai" || to == "anthropic") << "stream 'to': " << to;
  auto dec = make_stream_decoder(from);
  auto enc = make_stream_encoder(to, {.model = model, .request_id = request_id, .include_usage = boolean(o, "include_usage")});
  std::string out;
  std::vector<StreamEvent> events;
  const bj::array& input = fx.at("input").as_array();
  for (size_t i = 0; i < input.size(); ++i) {
    const bj::object& in = input[i].as_object();
    const std::string event = str(in, "event");
    const bj::value& d = in.at("data");
    const std::string data = d.is_string() ? std::string(d.get_string()) : bj::serialize(d);
    events.clear();
    auto r = dec->decode(event, data, events);
    ASSERT_TRUE(r) << "input[" << i << "] failed to decode: " << r.error().message;
    for (StreamEvent& e : events) {
      if (json_tool) json_tool_to_text(e);
      if (e.type == StreamEvent::Type::kFinish) e.cost = cost;
      enc->encode(e, out);
    }
  }
  EXPECT_EQ(dec->done(), boolean(fx, "done", true)) << "whether the decoder saw the stream's end";
  bj::array actual;
  ASSERT_TRUE(parse_sse(out, actual)) << "\nthe encoder wrote:\n" << out;
  EXPECT_TRUE(same_json(fx.at("expected"), bj::value(std::move(actual)), "stream"));
}

void run_error(const bj::object& fx) {
  const bj::value& b = fx.at("body");
  const std::string body = b.is_string() ? std::string(b.get_string()) : bj::serialize(b);
  const UpstreamError e = read_error(static_cast<int>(integer(fx, "status", 500)), body);
  const bj::object& want = fx.at("expected").as_object();
  EXPECT_EQ(e.status, integer(fx, "status", 500));
  if (want.contains("type")) {
    EXPECT_EQ(e.type, str(want, "type"));
  }
  if (want.contains("message")) {
    EXPECT_EQ(e.message, str(want, "message"));
  }
  if (want.contains("message_contains")) {
    EXPECT_NE(e.message.find(str(want, "message_contains")), std::string::npos) << e.message;
  }
}

class GoldenTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, Translates) {
  const std::string& file = GetParam();
  const std::string text = read_file(kRoot / file);
  bj::value fixture;
  ASSERT_TRUE(parse_json(file, text, fixture));
  ASSERT_TRUE(fixture.is_object()) << file << " must hold a JSON object";
  const bj::object& fx = fixture.get_object();
  const std::string kind = file.substr(0, file.find('/'));
  SCOPED_TRACE(file);
  if (kind == "request") {
    run_request(fx);
  } else if (kind == "response") {
    run_response(fx);
  } else if (kind == "stream") {
    run_stream(fx);
  } else if (kind == "error") {
    run_error(fx);
  } else {
    FAIL() << file << ": the first folder must be request, response, stream or error";
  }
}

INSTANTIATE_TEST_SUITE_P(Golden, GoldenTest, ::testing::ValuesIn(fixture_files()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return test_name(p.param); });

// The suite itself: a missing testdata folder must not pass as "no cases".
TEST(GoldenFiles, Present) { EXPECT_GE(fixture_files().size(), 40u) << "fixtures under " << kRoot; }

}  // namespace
}  // namespace sy::translate
