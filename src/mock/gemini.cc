#include "mock/gemini.h"

#include <boost/asio/this_coro.hpp>
#include <fmt/format.h>

#include <array>
#include <chrono>
#include <optional>

#include "core/ids.h"
#include "core/json_scan.h"
#include "http/wire.h"
#include "mock/answer.h"
#include "mock/behaviour.h"
#include "mock/sleeper.h"
#include "mock/stream.h"

namespace sy::mock {
namespace {

using http::Request;
using http::Response;
using http::Task;

constexpr std::string_view kJson = "application/json; charset=UTF-8";

// google.rpc.Code names by HTTP status, as Google's JSON errors carry them.
std::string_view google_status(int status) {
  switch (status) {
    case 400: return "INVALID_ARGUMENT";
    case 401: return "UNAUTHENTICATED";
    case 403: return "PERMISSION_DENIED";
    case 404: return "NOT_FOUND";
    case 409: return "ABORTED";
    case 429: return "RESOURCE_EXHAUSTED";
    case 499: return "CANCELLED";
    case 500: return "INTERNAL";
    case 501: return "NOT_IMPLEMENTED";
    case 503: return "UNAVAILABLE";
    case 504: return "DEADLINE_EXCEEDED";
    default: return "UNKNOWN";
  }
}

std::string_view fault_message(int status) {
  switch (status) {
    case 400: return "Request contains an invalid argument.";
    case 401: return "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.";
    case 403: return "The caller does not have permission";
    case 404: return "Requested entity was not found.";
    case 429: return "Resource has been exhausted (e.g. check quota).";
    case 503: return "The model is overloaded. Please try again later.";
    case 504: return "Deadline expired before operation could complete.";
    default: return "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting";
  }
}

Task<void> send_error(Response& res, int status, std::string_view message, std::string_view details = {}) {
  const std::string body = gemini_error_json(status, message, details);
  co_await res.send(status, kJson, body);
}

// The decoded value of query parameter `name` in `target`, if present.
std::optional<std::string> query_param(std::string_view target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return http::percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

struct AuthError {
  int status = 0;
  std::string_view message;
  std::string_view details;
};

std::optional<AuthError> check_auth(Request& req, const MockOptions& options) {
  if (options.api_key.empty()) return std::nullopt;
  std::optional<std::string> key;
  if (const std::string_view h = req.header("x-goog-api-key"); !h.empty()) key = std::string(h);
  else key = query_param(req.target(), "key");
  if (key) {
    if (*key == options.api_key) return std::nullopt;
    return AuthError{400, "API key not valid. Please pass a valid API key.",
                     R"([{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}])"};
  }
  if (const std::string_view bearer = req.header("authorization"); !bearer.empty()) {
    if (bearer == "Bearer " + options.api_key) return std::nullopt;
    return AuthError{401, fault_message(401), {}};
  }
  return AuthError{403,
                   "Method doesn't allow unregistered callers (callers without established identity). Please use API "
                   "Key or other form of API consumer identity to call this API.",
                   {}};
}

std::string usage_json(const Answer& a, bool final) {
  const int candidates = a.text_tokens + a.tool_tokens();
  std::string out = fmt::format(R"({{"promptTokenCount":{})", a.prompt_tokens);
  if (final && candidates > 0) fmt::format_to(std::back_inserter(out), R"(,"candidatesTokenCount":{})", candidates);
  fmt::format_to(std::back_inserter(out), R"(,"totalTokenCount":{})",
                 a.prompt_tokens + (final ? candidates + a.reasoning_tokens : 0));
  if (a.cached_tokens > 0) fmt::format_to(std::back_inserter(out), R"(,"cachedContentTokenCount":{})", a.cached_tokens);
  if (final && a.reasoning_tokens > 0) fmt::format_to(std::back_inserter(out), R"(,"thoughtsTokenCount":{})", a.reasoning_tokens);
  out += '}';
  return out;
}

// One GenerateContentResponse: `parts` (a JSON list without brackets), the finish reason and
// the full usage when `final`.
struct Envelope {
  const Answer& answer;
  std::string model_version;  // JSON-quoted
  std::string response_id;

  std::string json(std::string_view parts, bool final) const {
    std::string out = R"({"candidates":[{"content":{"parts":[)";
    out += parts;
    out += R"(],"role":"model"})";
    if (final) out += answer.finish == Finish::kLength ? R"(,"finishReason":"MAX_TOKENS")" : R"(,"finishReason":"STOP")";
    out += R"(,"index":0}],"usageMetadata":)";
    out += usage_json(answer, final);
    out += R"(,"modelVersion":)";
    out += model_version;
    out += R"(,"responseId":")";
    out += response_id;
    out += "\"}";
    return out;
  }
};

void append_text_part(std::string& out, std::string_view text, bool thought, std::string_view signature = {}) {
  out += R"({"text":)";
  json::append_quoted(out, text);
  if (thought) out += R"(,"thought":true)";
  if (!signature.empty()) {
    out += R"(,"thoughtSignature":)";
    json::append_quoted(out, signature);
  }
  out += '}';
}

// The answer's last part: the function call or the text, signed when the model reasoned (as
// Gemini signs the part that follows its thoughts).
void append_main_part(std::string& out, const Answer& a, std::string_view text) {
  const std::string signature = a.reasoning_tokens > 0 ? a.signature() : std::string();
  if (!a.tool) return append_text_part(out, text, false, signature);
  out += R"({"functionCall":{"name":)";
  json::append_quoted(out, a.tool->name);
  out += R"(,"args":)";
  out += a.tool->arguments;
  out += '}';
  if (!signature.empty()) {
    out += R"(,"thoughtSignature":)";
    json::append_quoted(out, signature);
  }
  out += '}';
}

Task<void> generate(Request& req, Response& res, const std::string& model, bool stream, const MockOptions& options) {
  const Active active(*options.stats);
  static constexpr std::array<std::string_view, 1> kKeys{"contents"};
  std::array<json::Field, 1> f;
  const std::string& body = req.body();
  if (auto r = json::scan_object(body, kKeys, f); !r) {
    const std::string message = fmt::format("Invalid JSON payload received. {}", r.error().message);
    co_await send_error(res, 400, message);
    co_return;
  }
  if (f[0].kind != json::Kind::kArray) {
    co_await send_error(res, 400, "* GenerateContentRequest.contents: contents is not specified\n");
    co_return;
  }
  const auto prompt = read_prompt(Protocol::kGemini, body);
  if (!prompt) {
    co_await send_error(res, 400, prompt.error().message);
    co_return;
  }
  const Behaviour b = Behaviour::parse(model, &req).resolve(Protocol::kGemini);
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
    const std::string retry =
        fmt::format(R"([{{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"{}s"}}])", b.retry_after_s);
    const bool retry_info = b.status == 429 && b.retry_after_s >= 0;  // none on a random 429
    co_await send_error(res, b.status, fault_message(b.status), retry_info ? std::string_view(retry) : std::string_view());
    co_return;
  }
  char request_id[kRequestIdSize];
  new_request_id(request_id);
  Envelope envelope{a, {}, std::string(request_id + 4, 22)};
  json::append_quoted(envelope.model_version, model);
  std::string parts;

  if (!stream) {
    const std::string text = b.echo ? body : a.text();
    if (!co_await sleeper.sleep(req, b.gap * a.output_tokens())) co_return;
    if (a.reasoning_tokens > 0) {
      append_text_part(parts, a.reasoning(), true);
      parts += ',';
    }
    append_main_part(parts, a, text);
    std::string out = envelope.json(parts, true);
    if (b.garble >= 0) out.resize(out.size() / 2);  // cut-off JSON
    co_await res.send(200, kJson, out);
    co_return;
  }

  // Deltas: one chunk per thought token, then per text token (or the whole function call); the
  // last carries the finish reason and the usage. Without alt=sse Google streams one JSON array.
  const bool sse = query_param(req.target(), "alt") == "sse";
  if (!co_await res.begin_stream(200, sse ? "text/event-stream" : kJson)) co_return;
  bool first = true;
  auto frame = [&](std::string& out, std::string_view chunk) {
    out += sse ? "data: " : (first ? "[" : ",\r\n");
    out += chunk;
    if (sse) out += "\r\n\r\n";
    first = false;
  };
  const int r = a.reasoning_tokens;
  const int count = r + (a.tool ? 1 : a.text_tokens);
  auto emit = [&](int i, std::string& out) {
    parts.clear();
    if (i < r) append_text_part(parts, a.reasoning_token(i), true);
    else if (i < count - 1) append_text_part(parts, a.text_token(i - r), false);
    else append_main_part(parts, a, a.tool ? std::string() : a.text_token(i - r));
    frame(out, envelope.json(parts, i >= r && i == count - 1));
  };
  auto garble = [&](std::string& out) {  // a text part cut off inside its string
    frame(out, R"({"candidates":[{"content":{"parts":[{"text":"trunc)");
  };
  if (!co_await write_deltas(req, res, sleeper, b, count, emit, garble)) co_return;
  std::string event;
  if (count == r) {  // no text after the thoughts: an empty closing part
    parts.clear();
    append_main_part(parts, a, "");
    frame(event, envelope.json(parts, true));
  }
  if (!sse) event += first ? "[]" : "]";
  if (!event.empty() && !co_await res.write(event)) co_return;
  co_await res.end_stream();
}

Task<void> count_tokens(Request& req, Response& res) {
  const std::string& body = req.body();
  if (auto r = json::validate(body); !r) {
    const std::string message = fmt::format("Invalid JSON payload received. {}", r.error().message);
    co_await send_error(res, 400, message);
    co_return;
  }
  const auto prompt = read_prompt(Protocol::kGemini, body);
  if (!prompt) {
    co_await send_error(res, 400, prompt.error().message);
    co_return;
  }
  const std::string out = fmt::format(R"({{"totalTokens":{},"promptTokensDetails":[{{"modality":"TEXT","tokenCount":{}}}]}})",
                                      prompt->prompt_tokens, prompt->prompt_tokens);
  co_await res.send(200, kJson, out);
}

}  // namespace

bool is_gemini(std::string_view path) {
  return path.starts_with("/v1beta/") || (path.starts_with("/v1/models/") && path.find(':') != std::string_view::npos);
}

std::string gemini_error_json(int status, std::string_view message, std::string_view details) {
  std::string out = fmt::format(R"({{"error":{{"code":{},"message":)", status);
  json::append_quoted(out, message);
  fmt::format_to(std::back_inserter(out), R"(,"status":"{}")", google_status(status));
  if (!details.empty()) {
    out += R"(,"details":)";
    out += details;
  }
  out += "}}";
  return out;
}

Task<void> gemini(Request& req, Response& res, const MockOptions& options) {
  if (const auto denied = check_auth(req, options)) {
    co_await send_error(res, denied->status, denied->message, denied->details);
    co_return;
  }
  std::string_view rest = req.path();
  rest.remove_prefix(rest.starts_with("/v1beta/") ? 8 : 4);
  const size_t colon = rest.rfind(':');
  if (!rest.starts_with("models/") || colon == std::string_view::npos || req.method() != http::Method::kPost) {
    const std::string message = fmt::format("Method not found: {} {}", req.method_name(), req.path());
    co_await send_error(res, 404, message);
    co_return;
  }
  const std::string_view method = rest.substr(colon + 1);
  const std::string model = http::percent_decode(rest.substr(7, colon - 7));
  if (method == "generateContent" || method == "streamGenerateContent") {
    co_await generate(req, res, model, method == "streamGenerateContent", options);
  } else if (method == "countTokens") {
    co_await count_tokens(req, res);
  } else {
    const std::string message = fmt::format("Method not found: {}", method);
    co_await send_error(res, 404, message);
  }
}

}  // namespace sy::mock
