#include "mock/openai.h"

#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <ctime>

#include "core/ids.h"
#include "core/json_scan.h"
#include "mock/answer.h"
#include "mock/behaviour.h"
#include "mock/sleeper.h"
#include "mock/stream.h"

namespace sy::mock {
namespace {

using http::Header;
using http::Request;
using http::Response;
using http::Task;

std::string_view finish_reason(Finish f) {
  switch (f) {
    case Finish::kStop: return "stop";
    case Finish::kLength: return "length";
    case Finish::kToolUse: return "tool_calls";
  }
  return "stop";
}

void append_usage(std::string& out, const Answer& a) {
  fmt::format_to(std::back_inserter(out),
                 R"("usage":{{"prompt_tokens":{},"completion_tokens":{},"total_tokens":{},)"
                 R"("prompt_tokens_details":{{"cached_tokens":{},"audio_tokens":0}},)"
                 R"("completion_tokens_details":{{"reasoning_tokens":{},"audio_tokens":0,)"
                 R"("accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}})",
                 a.prompt_tokens, a.output_tokens(), a.prompt_tokens + a.output_tokens(), a.cached_tokens,
                 a.reasoning_tokens);
}

// {"id":"call_…","type":"function","function":{"name":…,"arguments":"<json>"}}, with "index":0
// first in a stream's opening delta (whose arguments are "").
void append_tool_call(std::string& out, bool streamed, std::string_view id, const ToolCall& call,
                      std::string_view arguments) {
  out += streamed ? R"({"index":0,"id":)" : R"({"id":)";
  json::append_quoted(out, id);
  out += R"(,"type":"function","function":{"name":)";
  json::append_quoted(out, call.name);
  out += R"(,"arguments":)";
  json::append_quoted(out, arguments);
  out += "}}";
}

}  // namespace

std::string openai_error_json(std::string_view message, std::string_view type, std::string_view param,
                              std::string_view code) {
  std::string out = "{\"error\":{\"message\":";
  json::append_quoted(out, message);
  out += ",\"type\":";
  json::append_quoted(out, type);
  out += ",\"param\":";
  if (param.empty()) out += "null";
  else json::append_quoted(out, param);
  out += ",\"code\":";
  if (code.empty()) out += "null";
  else json::append_quoted(out, code);
  out += "}}";
  return out;
}

Task<void> openai_error(Response& res, int status, std::string_view message, std::string_view type,
                        std::string_view param, std::string_view code, int retry_after) {
  char request_id[kRequestIdSize];
  new_request_id(request_id);
  const std::string body = openai_error_json(message, type, param, code);
  const std::string retry = std::to_string(retry_after);
  const std::array<Header, 2> headers{Header{"x-request-id", std::string_view(request_id, kRequestIdSize)},
                                      Header{"retry-after", retry}};
  co_await res.send(status, "application/json", body, std::span<const Header>(headers.data(), retry_after >= 0 ? 2 : 1));
}

Task<void> openai_fault(Response& res, const Behaviour& b) {
  switch (b.status) {
    case 400: co_await openai_error(res, 400, "Invalid request (injected by the mock).", "invalid_request_error", {}, {}); break;
    case 401: co_await openai_error(res, 401, "Incorrect API key provided.", "invalid_request_error", {}, "invalid_api_key"); break;
    case 429: co_await openai_error(res, 429, "Rate limit reached for requests. Please try again later.", "requests", {}, "rate_limit_exceeded", b.retry_after_s); break;
    case 503: co_await openai_error(res, 503, "The engine is currently overloaded, please try again later.", "server_error", {}, {}); break;
    default: co_await openai_error(res, b.status, "The server had an error while processing your request. Sorry about that!", "server_error", {}, {}); break;
  }
}

Task<void> openai_chat(Request& req, Response& res) {
  static constexpr std::array<std::string_view, 5> kKeys{"model", "messages", "stream", "stream_options", "seed"};
  std::array<json::Field, 5> f;
  const std::string& body = req.body();
  if (auto r = json::scan_object(body, kKeys, f); !r) {
    const std::string message = fmt::format("We could not parse the JSON body of your request. ({})", r.error().message);
    co_await openai_error(res, 400, message, "invalid_request_error", {}, {});
    co_return;
  }
  if (f[0].kind != json::Kind::kString) {
    co_await openai_error(res, 400, "you must provide a model parameter", "invalid_request_error", {}, {});
    co_return;
  }
  if (f[1].kind != json::Kind::kArray) {
    co_await openai_error(res, 400, "Missing required parameter: 'messages'.", "invalid_request_error", "messages", "missing_required_parameter");
    co_return;
  }
  const auto prompt = read_prompt(Protocol::kOpenAi, body);
  if (!prompt) {
    co_await openai_error(res, 400, prompt.error().message, "invalid_request_error", {}, {});
    co_return;
  }
  const std::string model = json::unescape(f[0].raw);
  Behaviour b = Behaviour::parse(model, &req);
  if (!b.seed && f[4].kind == json::Kind::kNumber) b.seed = static_cast<uint64_t>(std::strtoull(std::string(f[4].raw).c_str(), nullptr, 10));
  b = b.resolve(Protocol::kOpenAi);
  const bool stream = f[2].kind == json::Kind::kTrue;
  bool include_usage = false;
  if (f[3].kind == json::Kind::kObject) {
    static constexpr std::array<std::string_view, 1> kUsage{"include_usage"};
    std::array<json::Field, 1> u;
    if (json::scan_object(f[3].raw, kUsage, u)) include_usage = u[0].kind == json::Kind::kTrue;
  }
  const Answer a = plan_answer(b, *prompt, b.seed.value_or(prompt->text_hash));

  Sleeper sleeper(co_await boost::asio::this_coro::executor);
  if (b.hang) {
    co_await sleeper.sleep(req, std::chrono::hours(1));
    co_return;
  }
  if (!co_await sleeper.sleep(req, b.ttft)) co_return;
  if (b.drop) {  // a reset before any byte of the answer
    res.abort();
    co_return;
  }
  if (b.status != 200) {
    co_await openai_fault(res, b);
    co_return;
  }
  char request_id[kRequestIdSize];
  new_request_id(request_id);
  const std::string processing_ms = std::to_string(b.ttft.count());
  const std::array<Header, 3> headers{Header{"x-request-id", std::string_view(request_id, kRequestIdSize)},
                                      Header{"openai-version", "2020-10-01"},
                                      Header{"openai-processing-ms", processing_ms}};
  const auto created = static_cast<long>(std::time(nullptr));
  const std::string_view unique(request_id + 4, 22);
  const std::string chat_id = fmt::format("chatcmpl-{}", unique);
  const std::string call_id = fmt::format("call_{}", unique);

  if (!stream) {
    const std::string text = b.echo ? body : a.text();
    if (!co_await sleeper.sleep(req, b.gap * a.output_tokens())) co_return;
    std::string out;
    out.reserve(text.size() + 800);
    fmt::format_to(std::back_inserter(out), R"({{"id":"{}","object":"chat.completion","created":{},"model":)", chat_id, created);
    json::append_quoted(out, model);
    out += R"(,"choices":[{"index":0,"message":{"role":"assistant","content":)";
    if (a.tool) {
      out += R"(null,"tool_calls":[)";
      append_tool_call(out, false, call_id, *a.tool, a.tool->arguments);
      out += ']';
    } else {
      json::append_quoted(out, text);
    }
    if (a.reasoning_tokens > 0) {
      out += R"(,"reasoning_content":)";
      json::append_quoted(out, a.reasoning());
    }
    fmt::format_to(std::back_inserter(out), R"(,"refusal":null,"annotations":[]}},"logprobs":null,"finish_reason":"{}"}}],)",
                   finish_reason(a.finish));
    append_usage(out, a);
    out += R"(,"service_tier":"default","system_fingerprint":"fp_mock"})";
    if (b.garble >= 0) out.resize(out.size() / 2);  // cut-off JSON
    co_await res.send(200, "application/json", out, headers);
    co_return;
  }

  if (!co_await res.begin_stream(200, "text/event-stream; charset=utf-8", headers)) co_return;
  std::string prefix;
  fmt::format_to(std::back_inserter(prefix), R"(data: {{"id":"{}","object":"chat.completion.chunk","created":{},"model":)", chat_id, created);
  json::append_quoted(prefix, model);
  prefix += R"(,"service_tier":"default","system_fingerprint":"fp_mock","choices":[)";
  const std::string_view usage_null = include_usage ? R"(,"usage":null)" : "";
  auto chunk = [&](std::string& out, std::string_view delta_json, std::string_view finish) {
    out += prefix;
    out += R"({"index":0,"delta":)";
    out += delta_json;
    out += R"(,"logprobs":null,"finish_reason":)";
    out += finish;
    out += "}]";
    out += usage_null;
    out += "}\n\n";
  };
  std::string event;
  chunk(event, a.tool ? R"({"role":"assistant","content":null,"refusal":null})" : R"({"role":"assistant","content":"","refusal":null})", "null");
  if (!co_await res.write(event)) co_return;

  // Deltas: reasoning, then the text or the tool call (its opening delta, then fragments of
  // its arguments).
  const std::vector<std::string_view> pieces = a.tool ? fragments(a.tool->arguments) : std::vector<std::string_view>{};
  const int r = a.reasoning_tokens;
  const int count = r + (a.tool ? 1 + static_cast<int>(pieces.size()) : a.text_tokens);
  std::string delta;
  auto emit = [&](int i, std::string& out) {
    if (i < r) {
      delta.assign(R"({"reasoning_content":)");
      json::append_quoted(delta, a.reasoning_token(i));
      delta += '}';
    } else if (!a.tool) {
      delta.assign(R"({"content":)");
      json::append_quoted(delta, a.text_token(i - r));
      delta += '}';
    } else if (i == r) {
      delta.assign(R"({"tool_calls":[)");
      append_tool_call(delta, true, call_id, *a.tool, "");
      delta += "]}";
    } else {
      delta.assign(R"({"tool_calls":[{"index":0,"function":{"arguments":)");
      json::append_quoted(delta, pieces[static_cast<size_t>(i - r - 1)]);
      delta += "}}]}";
    }
    chunk(out, delta, "null");
  };
  auto garble = [&](std::string& out) {  // a content delta cut off inside its string
    out += prefix;
    out += R"({"index":0,"delta":{"content":"trunc)" "\n\n";
  };
  if (!co_await write_deltas(req, res, sleeper, b, count, emit, garble)) co_return;
  event.clear();
  const std::string finish = fmt::format("\"{}\"", finish_reason(a.finish));
  chunk(event, "{}", finish);
  if (include_usage) {  // the usage chunk follows in the same write
    event += prefix;
    event += "],";
    append_usage(event, a);
    event += "}\n\n";
  }
  event += "data: [DONE]\n\n";
  if (!co_await res.write(event)) co_return;
  co_await res.end_stream();
}

}  // namespace sy::mock
