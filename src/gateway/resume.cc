// resumeStreams: a stream that breaks after tokens reached the client is continued by the
// plan's next model, into the same client stream. The continuation is asked for with the
// client's request and the text so far as the assistant's turn (translate_request), and its
// events are renumbered to follow the client's open text block.

#include "gateway/attempt.h"
#include "gateway/cost.h"
#include "http/sse.h"
#include "translate/translate.h"

namespace sy::gateway {

void Gateway::StreamProgress::see(const translate::StreamEvent& e) {
  using T = translate::StreamEvent::Type;
  switch (e.type) {
    case T::kStart:
      if (!e.id.empty()) id.assign(e.id);
      break;
    case T::kBlockStart:
      if (e.block == translate::PartKind::kText) {
        open_text = e.index;
      } else {
        resumable = false;
      }
      next_index = std::max(next_index, e.index + 1);
      break;
    case T::kTextDelta: text.append(e.text); break;
    case T::kThinkingDelta:
    case T::kSignatureDelta:
    case T::kToolInputDelta: resumable = false; break;
    case T::kBlockStop:
      if (e.index == open_text) open_text = -1;
      break;
    case T::kFinish:
    case T::kError: finished = true; break;
  }
}

http::Task<Result<bool>> Gateway::resume_stream(Call& call, http::Response& res, StreamProgress& progress, Error broke) {
  using T = translate::StreamEvent::Type;
  RequestContext& ctx = call.ctx;
  std::string edited;  // the client's body with the router's edits, when it has any
  if (call.rewritten) {
    for (std::string_view part : call.edits.parts()) edited += part;
  }
  while (progress.can_resume() && !call.req.client_gone()) {
    Error error;
    std::unique_ptr<Attempt> a = next_attempt(call, error);
    if (!a || a->estimate) break;
    auto written = translate_request(call.rewritten ? std::string_view(edited) : call.body, call.dialect, a->target,
                                     false, a->canonical, progress.text);
    if (!written) {  // this model cannot take the request: the next one
      call.record_skipped(a->target.model_id, a->target.provider->name(), error_code_name(written.error().code),
                          a->started);
      continue;
    }
    a->translated = std::move(*written);
    a->parts.assign(1, a->translated);
    a->translating = true;
    a->read_ahead = true;
    call.req.on_disconnect(a->upstream.get());
    co_await reach_first_token(call, *a);
    if (a->outcome != Attempt::Outcome::kAnswered || a->status != 200 || a->whole) {
      call.record(*a, a->error_class.empty() ? "resume_failed" : a->error_class);
      call.req.on_disconnect(nullptr);
      continue;
    }
    call.record(*a, "resumed", true);

    // The continuation, in the client's protocol, numbered after what the client has.
    const std::string model = translate::decoded(translate::contents(a->target.upstream_quoted));
    auto decoder = translate::make_stream_decoder(a->target.provider->protocol());
    auto encoder = translate::make_stream_encoder(
        call.dialect.protocol(),
        {.model = model, .request_id = ctx.request_id, .include_usage = a->canonical.include_usage});
    std::string out;
    translate::StreamEvent start{.type = T::kStart};
    start.id = progress.id;
    encoder->encode(start, out);  // the encoder learns the stream's id; the client has its start
    out.clear();
    const bool block_open = progress.open_text >= 0;
    const int offset = block_open ? progress.open_text : progress.next_index;
    http::SseParser parser;
    std::vector<translate::StreamEvent> events;
    std::string cost;
    Result<bool> decoded = true;
    std::string_view read_before = a->first_token;
    bool broke_again = false;
    for (;;) {
      const auto chunk = co_await next_piece(call, res, *a->upstream, read_before, &broke);
      if (!chunk) {
        if (call.req.client_gone()) co_return true;
        broke_again = true;
        break;
      }
      if (chunk->empty()) break;
      out.clear();
      auto fed = parser.feed(*chunk, [&](const http::SseEvent& ev) {
        if (!decoded) return;
        events.clear();
        decoded = decoder->decode(ev.event, ev.data, events);
        for (auto& e : events) {
          if (e.type == T::kStart) continue;
          if (e.type == T::kBlockStart && block_open && e.index == 0 && e.block == translate::PartKind::kText) continue;
          if (e.type != T::kFinish && e.type != T::kError) e.index += offset;
          if (e.type == T::kFinish) {  // the continuation's own usage and cost
            const double usd = call.used(*a, e.usage);
            if (a->target.model != nullptr) {
              cost = format_cost(usd);
              e.cost = cost;
            }
          }
          progress.see(e);
          encoder->encode(e, out);
        }
      });
      if (!fed || !decoded) {
        broke = !fed ? fed.error() : decoded.error();
        broke_again = true;
      }
      call.sent(out);
      if (!out.empty() && !co_await res.write(out)) co_return true;
      if (broke_again) break;
    }
    call.req.on_disconnect(nullptr);
    if (!broke_again && decoder->done()) {
      co_await res.end_stream();
      co_return true;
    }
    if (!broke_again) broke = Error{ErrorCode::kUpstreamError, "the provider ended the stream before its last event", {}, 0};
  }
  if (!call.req.client_gone()) {
    const std::string event = call.stream_error(broke, broke.code == ErrorCode::kUpstreamUnreachable ? "stream_broke" : "stream_malformed");
    co_await res.write(event);
    co_await res.end_stream();
  }
  co_return true;
}

}  // namespace sy::gateway
