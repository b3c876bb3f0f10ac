#include "mock/anthropic.h"

#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include <array>
#include <chrono>

#include "core/ids.h"
#include "core/json_scan.h"
#include "mock/answer.h"
#include "mock/behaviour.h"
#include "mock/sleeper.h"
#include "mock/stream.h"

namespace sy::mock {
namespace {

using http::Header;

std::string_view error_type(int status) {
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 529: return "overloaded_error";
    default: return "api_error";
  }
}

http::Task<void> send_error(http::Response& res, int status, std::string_view message, int retry_after = -1) {
  char request_id[kRequestIdSize];
  new_request_id(request_id);
  const std::string body = anthropic_error_json(status, message);
  const std::string retry = std::to_string(retry_after);
  const std::array<Header, 2> headers{Header{"request-id", std::string_view(request_id, kRequestIdSize)},
                                      Header{"retry-after", retry}};
  co_await res.send(status, "application/json", body, std::span<const Header>(headers.data(), retry_after >= 0 ? 2 : 1));
}

bool authorized(http::Request& req, const MockOptions& options) {
  return options.api_key.empty() || req.header("x-api-key") == options.api_key ||
         req.header("authorization") == "Bearer " + options.api_key;
}

struct Parsed {
  std::string model;
  bool stream = false;
  Prompt prompt;
};

// The request's fields, or the 400 message Anthropic gives for the first one missing.
Result<Parsed> parse(const std::string& body, bool needs_max_tokens) {
  static constexpr std::array<std::string_view, 4> kKeys{"model", "messages", "stream", "max_tokens"};
  std::array<json::Field, 4> f;
  if (auto r = json::scan_object(body, kKeys, f); !r) {
    return fail(ErrorCode::kInvalidRequest, fmt::format("The request body is not valid JSON: {}", r.error().message));
  }
  if (f[0].kind != json::Kind::kString) return fail(ErrorCode::kInvalidRequest, "model: Field required");
  if (f[1].kind != json::Kind::kArray) return fail(ErrorCode::kInvalidRequest, "messages: Field required");
  if (needs_max_tokens && f[3].kind != json::Kind::kNumber) return fail(ErrorCode::kInvalidRequest, "max_tokens: Field required");
  auto prompt = read_prompt(Protocol::kAnthropic, body);
  if (!prompt) return tl::unexpected(prompt.error());
  return Parsed{json::unescape(f[0].raw), f[2].kind == json::Kind::kTrue, *prompt};
}

std::string usage_json(const Answer& a, int output_tokens) {
  return fmt::format(R"({{"input_tokens":{},"cache_creation_input_tokens":0,"cache_read_input_tokens":{},"output_tokens":{}}})",
                     a.prompt_tokens - a.cached_tokens, a.cached_tokens, output_tokens);
}

std::string_view stop_reason(Finish f) {
  switch (f) {
    case Finish::kStop: return "end_turn";
    case Finish::kLength: return "max_tokens";
    case Finish::kToolUse: return "tool_use";
  }
  return "end_turn";
}

std::string message_json(const Answer& a, std::string_view id, std::string_view model, std::string_view text) {
  std::string out = R"({"id":)";
  json::append_quoted(out, id);
  out += R"(,"type":"message","role":"assistant","model":)";
  json::append_quoted(out, model);
  out += R"(,"content":[)";
  if (a.reasoning_tokens > 0) {
    out += R"({"type":"thinking","thinking":)";
    json::append_quoted(out, a.reasoning());
    out += R"(,"signature":)";
    json::append_quoted(out, a.signature());
    out += "},";
  }
  if (a.tool) {
    out += R"({"type":"tool_use","id":"toolu_)";
    out += id.substr(4);
    out += R"(","name":)";
    json::append_quoted(out, a.tool->name);
    out += R"(,"input":)";
    out += a.tool->arguments;
    out += '}';
  } else {
    out += R"({"type":"text","text":)";
    json::append_quoted(out, text);
    out += '}';
  }
  fmt::format_to(std::back_inserter(out), R"(],"stop_reason":"{}","stop_sequence":null,"usage":{}}})", stop_reason(a.finish),
                 usage_json(a, a.output_tokens()));
  return out;
}

void append_event(std::string& out, std::string_view name, std::string_view data) {
  fmt::format_to(std::back_inserter(out), "event: {}\ndata: {}\n\n", name, data);
}

// content_block_start of the answer's main block: text, or the tool_use with an empty input.
std::string main_block_start(const Answer& a, int index, std::string_view message_id) {
  std::string out = fmt::format(R"({{"type":"content_block_start","index":{},"content_block":)", index);
  if (a.tool) {
    fmt::format_to(std::back_inserter(out), R"({{"type":"tool_use","id":"toolu_{}","name":)", message_id.substr(4));
    json::append_quoted(out, a.tool->name);
    out += R"(,"input":{}}})";
  } else {
    out += R"({"type":"text","text":""}})";
  }
  return out;
}

}  // namespace

std::string anthropic_error_json(int status, std::string_view message) {
  std::string out = R"({"type":"error","error":{"type":)";
  json::append_quoted(out, error_type(status));
  out += R"(,"message":)";
  json::append_quoted(out, message);
  out += "}}";
  return out;
}

http::Task<void> anthropic_count_tokens(http::Request& req, http::Response& res, const MockOptions& options) {
  if (!authorized(req, options)) {
    co_await send_error(res, 401, "invalid x-api-key");
    co_return;
  }
  const auto p = parse(req.body(), false);
  if (!p) {
    co_await send_error(res, 400, p.error().message);
    co_return;
  }
  const std::string body = fmt::format(R"({{"input_tokens":{}}})", p->prompt.prompt_tokens);
  co_await res.send(200, "application/json", body);
}

http::Task<void> anthropic_messages(http::Request& req, http::Response& res, const MockOptions& options) {
  if (!authorized(req, options)) {
    co_await send_error(res, 401, "invalid x-api-key");
    co_return;
  }
  const std::string& body = req.body();
  const auto p = parse(body, true);
  if (!p) {
    co_await send_error(res, 400, p.error().message);
    co_return;
  }
  const std::string& model = p->model;
  const Behaviour b = Behaviour::parse(model, &req).resolve(Protocol::kAnthropic);
  const Answer a = plan_answer(b, p->prompt, b.seed.value_or(p->prompt.text_hash));
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
    switch (b.status) {
      case 429: co_await send_error(res, 429, "Number of request tokens has exceeded your per-minute rate limit", b.retry_after_s); break;
      case 529: co_await send_error(res, 529, "Overloaded"); break;
      case 400: co_await send_error(res, 400, "Invalid request (injected by the mock)."); break;
      case 401: co_await send_error(res, 401, "invalid x-api-key"); break;
      default: co_await send_error(res, b.status, "Internal server error"); break;
    }
    co_return;
  }
  char request_id[kRequestIdSize];
  new_request_id(request_id);
  const std::string message_id = fmt::format("msg_{}", std::string_view(request_id + 4, 22));
  const std::array<Header, 1> headers{Header{"request-id", std::string_view(request_id, kRequestIdSize)}};

  if (!p->stream) {
    const std::string text = b.echo ? body : a.text();
    if (!co_await sleeper.sleep(req, b.gap * a.output_tokens())) co_return;
    std::string out = message_json(a, message_id, model, text);
    if (b.garble >= 0) out.resize(out.size() / 2);  // cut-off JSON
    co_await res.send(200, "application/json", out, headers);
    co_return;
  }

  if (!co_await res.begin_stream(200, "text/event-stream; charset=utf-8", headers)) co_return;
  // Blocks: thinking (when reasoning) at 0, then the text or tool_use block.
  const int r = a.reasoning_tokens;
  const int main_index = r > 0 ? 1 : 0;
  std::string event;
  std::string data = R"({"type":"message_start","message":{"id":)";
  json::append_quoted(data, message_id);
  data += R"(,"type":"message","role":"assistant","model":)";
  json::append_quoted(data, model);
  data += R"(,"content":[],"stop_reason":null,"stop_sequence":null,"usage":)";
  data += usage_json(a, 1);
  data += "}}";
  append_event(event, "message_start", data);
  if (r > 0) {
    append_event(event, "content_block_start",
                 R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})");
  } else {
    append_event(event, "content_block_start", main_block_start(a, 0, message_id));
  }
  append_event(event, "ping", R"({"type": "ping"})");
  if (!co_await res.write(event)) co_return;

  // The thinking block ends with its signature; the main block opens after it.
  auto switch_blocks = [&](std::string& out) {
    data.assign(R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":)");
    json::append_quoted(data, a.signature());
    data += "}}";
    append_event(out, "content_block_delta", data);
    append_event(out, "content_block_stop", R"({"type":"content_block_stop","index":0})");
    append_event(out, "content_block_start", main_block_start(a, main_index, message_id));
  };
  const std::vector<std::string_view> pieces = a.tool ? fragments(a.tool->arguments) : std::vector<std::string_view>{};
  const int count = r + (a.tool ? 1 + static_cast<int>(pieces.size()) : a.text_tokens);
  auto emit = [&](int i, std::string& out) {
    if (r > 0 && i == r) switch_blocks(out);
    if (i < r) {
      data.assign(R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":)");
      json::append_quoted(data, a.reasoning_token(i));
    } else if (!a.tool) {
      data = fmt::format(R"({{"type":"content_block_delta","index":{},"delta":{{"type":"text_delta","text":)", main_index);
      json::append_quoted(data, a.text_token(i - r));
    } else {  // an empty fragment first, as Anthropic sends
      data = fmt::format(R"({{"type":"content_block_delta","index":{},"delta":{{"type":"input_json_delta","partial_json":)", main_index);
      json::append_quoted(data, i == r ? std::string_view() : pieces[static_cast<size_t>(i - r - 1)]);
    }
    data += "}}";
    append_event(out, "content_block_delta", data);
  };
  auto garble = [&](std::string& out) {  // a text delta cut off inside its string
    fmt::format_to(std::back_inserter(out), "event: content_block_delta\ndata: "
                   R"({{"type":"content_block_delta","index":{},"delta":{{"type":"text_delta","text":"trunc)" "\n\n",
                   main_index);
  };
  if (!co_await write_deltas(req, res, sleeper, b, count, emit, garble)) co_return;
  event.clear();
  if (r > 0 && count == r) switch_blocks(event);  // an empty main block
  append_event(event, "content_block_stop", fmt::format(R"({{"type":"content_block_stop","index":{}}})", main_index));
  append_event(event, "message_delta",
               fmt::format(R"({{"type":"message_delta","delta":{{"stop_reason":"{}","stop_sequence":null}},"usage":{{"output_tokens":{}}}}})",
                           stop_reason(a.finish), a.output_tokens()));
  append_event(event, "message_stop", R"({"type":"message_stop"})");
  if (!co_await res.write(event)) co_return;
  co_await res.end_stream();
}

}  // namespace sy::mock
