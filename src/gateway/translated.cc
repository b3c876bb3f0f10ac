// Requests whose provider speaks another protocol than the client: the body is read into the
// canonical model and written in the provider's dialect; the answer (whole or streamed) and
// its errors come back in the client's.
#include <fmt/format.h>

#include "gateway/attempt.h"
#include "gateway/cost.h"
#include "gateway/meter.h"
#include "http/sse.h"
#include "translate/translate.h"

namespace sy::gateway {
namespace {

// What the target model cannot take, before it costs a round trip: images for a model without
// vision, tools for a model without tool use (catalog capabilities; unknown models pass).
std::optional<Error> unsupported(const translate::ChatRequest& req, const catalog::Model* model) {
  if (model == nullptr || model->capabilities == 0) return std::nullopt;
  if (!req.tools.empty() && (model->capabilities & catalog::kTools) == 0) {
    return Error::invalid(fmt::format("The model '{}' does not support tools; remove 'tools' or choose a model that "
                                      "has them.",
                                      model->id),
                          "tools");
  }
  if ((model->capabilities & catalog::kVision) == 0) {
    for (const auto& m : req.messages) {
      for (const auto& p : m.parts) {
        if (p.kind == translate::PartKind::kImage) {
          return Error::invalid(fmt::format("The model '{}' does not accept images; remove the image parts or "
                                            "choose a model with vision.",
                                            model->id),
                                "messages");
        }
      }
    }
  }
  return std::nullopt;
}

// A router's autoCache for an Anthropic model: breakpoints on the last system part and the last
// tool, unless the client placed its own.
void add_cache_breakpoints(translate::ChatRequest& req) {
  constexpr std::string_view kEphemeral = R"({"type":"ephemeral"})";
  auto has = [](const auto& items) {
    for (const auto& i : items) {
      if (!i.cache_control.empty()) return true;
    }
    return false;
  };
  if (has(req.system) || has(req.tools)) return;
  for (const auto& m : req.messages) {
    if (has(m.parts)) return;
  }
  if (!req.system.empty()) req.system.back().cache_control = kEphemeral;
  if (!req.tools.empty()) req.tools.back().cache_control = kEphemeral;
}

}  // namespace

Result<std::string> Gateway::translate_request(std::string_view body, const ClientDialect& dialect,
                                               const Target& target, bool auto_cache, translate::ChatRequest& out,
                                               std::string_view continue_from) {
  const std::string_view label = target.model_id;
  auto req = dialect.protocol() == "anthropic" ? translate::read_anthropic_request(body, label)
                                               : translate::read_openai_request(body, label);
  if (!req) return tl::unexpected(req.error());
  if (auto e = unsupported(*req, target.model)) return tl::unexpected(std::move(*e));
  if (auto_cache) add_cache_breakpoints(*req);
  const std::string_view protocol = target.provider->protocol();
  if (!continue_from.empty()) translate::add_continuation(*req, continue_from, protocol);
  const catalog::Model* m = target.model;
  const std::string upstream = translate::decoded(translate::contents(target.upstream_quoted));
  const translate::WriteOptions options{
      .model = upstream,
      .model_label = label,
      // Anthropic requires max_tokens: the model's own limit, at most 8192, when the client set none.
      .default_max_tokens = m != nullptr && m->max_output_tokens > 0 ? std::min<int64_t>(m->max_output_tokens, 8192) : 4096,
      .reasoning_model = m != nullptr && (m->capabilities & catalog::kReasoning) != 0,
  };
  auto written = protocol == "anthropic" ? translate::write_anthropic_request(*req, options)
                 : protocol == "gemini"  ? translate::write_gemini_request(*req, options)
                                         : translate::write_openai_request(*req, options);
  out = std::move(*req);
  return written;
}

http::Task<Result<bool>> Gateway::relay_translated(Call& call, Attempt& a, http::Response& res,
                                                   std::span<http::Header> headers, size_t n, bool resume) {
  http::Request& req = call.req;
  http::Exchange& upstream = *a.upstream;
  const ClientDialect& dialect = call.dialect;
  RequestContext& ctx = call.ctx;
  const Target& target = a.target;
  const translate::ChatRequest& canonical = a.canonical;
  std::string_view read_before = a.first_token;
  const std::string_view provider_protocol = target.provider->protocol();
  const bool json_tool = translate::uses_json_tool(canonical, provider_protocol);
  const int status = upstream.status();
  const std::string_view content_type = upstream.header("content-type");

  if (canonical.stream && status == 200 && content_type.starts_with("text/event-stream")) {
    if (!co_await res.begin_stream(200, "text/event-stream; charset=utf-8", headers.first(n))) co_return true;
    auto decoder = translate::make_stream_decoder(provider_protocol);
    const std::string model = translate::decoded(translate::contents(target.upstream_quoted));
    auto encoder = translate::make_stream_encoder(
        dialect.protocol(), {.model = model, .request_id = ctx.request_id, .include_usage = canonical.include_usage});
    http::SseParser parser;
    std::vector<translate::StreamEvent> events;
    std::string out;
    std::string cost;
    bool token_seen = false;
    Result<bool> decoded = true;
    // With resumeStreams (not through a JSON tool), what the client has been sent.
    std::optional<StreamProgress> progress;
    if (resume && !json_tool) progress.emplace();
    Error broke;
    for (;;) {
      const auto chunk = co_await next_piece(call, res, upstream, read_before, progress ? &broke : nullptr);
      if (!chunk) {
        if (!progress || req.client_gone()) co_return true;
        auto r = co_await resume_stream(call, res, *progress, std::move(broke));
        co_return r;
      }
      if (chunk->empty()) break;
      out.clear();
      auto fed = parser.feed(*chunk, [&](const http::SseEvent& ev) {
        if (!decoded) return;
        events.clear();
        decoded = decoder->decode(ev.event, ev.data, events);
        for (auto& e : events) {
          if (json_tool) translate::json_tool_to_text(e);
          if (!token_seen && carries_token(e)) {
            token_seen = true;
            call.first_token();
          }
          if (e.type == translate::StreamEvent::Type::kFinish) {
            const double usd = call.used(a, e.usage);
            if (target.model != nullptr) {
              cost = format_cost(usd);
              e.cost = cost;
            }
          }
          if (progress) progress->see(e);
          encoder->encode(e, out);
        }
      });
      if (!fed || !decoded) {
        Error e = !fed ? fed.error() : decoded.error();
        if (progress) {
          if (!out.empty() && !co_await res.write(out)) co_return true;
          auto r = co_await resume_stream(call, res, *progress, std::move(e));
          co_return r;
        }
        out += call.stream_error(e, "stream_malformed");
        co_await res.write(out);
        co_await res.end_stream();
        co_return true;
      }
      call.sent(out);
      if (!out.empty() && !co_await res.write(out)) co_return true;
    }
    if (!decoder->done()) {
      Error e{ErrorCode::kUpstreamError, "the provider ended the stream before its last event", {}, 0};
      if (progress) {
        auto r = co_await resume_stream(call, res, *progress, std::move(e));
        co_return r;
      }
      const std::string event = call.stream_error(e, "stream_incomplete");
      co_await res.write(event);
    }
    co_await res.end_stream();
    co_return true;
  }

  Result<std::string> answer = std::string();
  if (a.whole) {
    answer = std::move(*a.whole);
  } else {
    auto r = co_await upstream.read_body();
    answer = std::move(r);
  }
  if (!answer) {
    Error e = answer.error();
    e.message = fmt::format("provider '{}' failed while answering: {}", ctx.provider, e.message);
    co_return tl::unexpected(std::move(e));
  }
  if (status != 200) {  // the provider's error, in the client's dialect, with the provider's status
    const translate::UpstreamError up = translate::read_error(status, *answer);
    const Error e{code_for_status(status), up.message, {}, status};
    const std::string body = dialect.error_body(e);
    co_await res.send(status, "application/json", body, headers.first(n));
    co_return true;
  }
  auto parsed = provider_protocol == "anthropic" ? translate::read_anthropic_response(*answer)
                : provider_protocol == "gemini"  ? translate::read_gemini_response(*answer)
                                                 : translate::read_openai_response(*answer);
  if (!parsed) {
    Error e = parsed.error();
    e.message = fmt::format("provider '{}': {}", ctx.provider, e.message);
    co_return tl::unexpected(std::move(e));
  }
  if (json_tool) translate::json_tool_to_text(*parsed);
  std::string cost;
  if (parsed->usage.present) {
    const double usd = call.used(a, parsed->usage);
    if (target.model != nullptr) {
      cost = format_cost(usd);
      headers[n++] = {"x-switchyard-cost-usd", cost};
    }
  }
  call.first_token();
  const std::string model = parsed->model.empty() ? translate::decoded(translate::contents(target.upstream_quoted))
                                                  : translate::decoded(parsed->model);
  const translate::ResponseOptions options{.model = model, .request_id = ctx.request_id, .cost = cost};
  const std::string body = dialect.protocol() == "anthropic" ? translate::write_anthropic_response(*parsed, options)
                                                             : translate::write_openai_response(*parsed, options);
  co_await res.send(200, "application/json", body, headers.first(n));
  co_return true;
}

}  // namespace sy::gateway
