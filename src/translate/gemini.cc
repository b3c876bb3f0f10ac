// Gemini's answers → canonical: a GenerateContentResponse (generateContent), and the stream of
// them that streamGenerateContent?alt=sse sends as SSE `data:` events. The request writer is in
// gemini_request.cc.
//
// Gemini sends whole parts (text pieces, thoughts, complete function calls) and no block
// structure, so the decoder opens and closes the canonical blocks itself. A function call may
// come without an id: it gets "call_<responseId>_<n>", unique across the turns of a conversation.
#include <deque>

#include <fmt/format.h>

#include "translate/internal.h"

namespace sy::translate {
namespace {

struct GeminiPart {
  enum class Kind { kText, kThought, kCall, kOther };
  Kind kind = Kind::kOther;
  std::string_view text;       // kText, kThought: escaped contents
  std::string_view signature;  // thoughtSignature, escaped contents
  std::string_view name, id;   // kCall: escaped contents; id "" when Gemini gave none
  std::string_view args;       // kCall: raw JSON object, "" when none
};

// The fields of one GenerateContentResponse the translation uses (candidate 0 only).
struct Chunk {
  std::vector<GeminiPart> parts;
  bool has_candidate = false;
  std::string_view finish;        // finishReason, "" while generating
  std::string_view block_reason;  // promptFeedback.blockReason: the prompt itself was refused
  std::string_view id, model;     // responseId, modelVersion
  Usage usage;
  bool is_error = false;          // {"error": {...}} in the stream
  std::string_view error_message, error_status;
};

tl::unexpected<Error> bad(std::string_view what) {
  return fail(ErrorCode::kUpstreamError, fmt::format("Gemini response: {}", what));
}

std::string_view string_of(const json::Field& f) { return f.kind == json::Kind::kString ? contents(f.raw) : std::string_view(); }

Usage usage_of(const json::Field& f) {
  Usage u;
  static constexpr std::array<std::string_view, 4> kKeys{"promptTokenCount", "candidatesTokenCount",
                                                         "thoughtsTokenCount", "cachedContentTokenCount"};
  std::array<json::Field, 4> v;
  if (f.kind != json::Kind::kObject || !fields(f.raw, kKeys, v)) return u;
  const int64_t candidates = int_of(v[1]).value_or(0);
  const int64_t thoughts = int_of(v[2]).value_or(0);
  u.input = int_of(v[0]).value_or(0);  // the cached tokens included
  u.cache_read = int_of(v[3]).value_or(0);
  u.output = candidates + thoughts;
  u.reasoning = thoughts;
  u.present = v[0].present() || v[1].present();
  return u;
}

Result<bool> read_parts(std::string_view raw, std::vector<GeminiPart>& parts) {
  static constexpr std::array<std::string_view, 4> kKeys{"text", "thought", "thoughtSignature", "functionCall"};
  std::vector<json::Field> f;
  if (auto r = json::scan_elements(raw, kKeys, f); !r) return bad(fmt::format("content.parts: {}", r.error().message));
  for (size_t i = 0; i + kKeys.size() <= f.size(); i += kKeys.size()) {
    GeminiPart p;
    p.signature = string_of(f[i + 2]);
    if (f[i + 3].kind == json::Kind::kObject) {
      static constexpr std::array<std::string_view, 3> kCall{"name", "args", "id"};
      std::array<json::Field, 3> c;
      if (!fields(f[i + 3].raw, kCall, c) || c[0].kind != json::Kind::kString) return bad("functionCall without a name");
      p.kind = GeminiPart::Kind::kCall;
      p.name = contents(c[0].raw);
      if (c[1].kind == json::Kind::kObject) p.args = c[1].raw;
      p.id = string_of(c[2]);
    } else if (f[i].kind == json::Kind::kString) {
      p.kind = f[i + 1].kind == json::Kind::kTrue ? GeminiPart::Kind::kThought : GeminiPart::Kind::kText;
      p.text = contents(f[i].raw);
    } else if (!p.signature.empty() && f[i + 1].kind == json::Kind::kTrue) {
      p.kind = GeminiPart::Kind::kThought;  // a signature alone
    }
    parts.push_back(p);
  }
  return true;
}

Result<bool> read_chunk(std::string_view body, Chunk& c) {
  static constexpr std::array<std::string_view, 6> kTop{"candidates",  "promptFeedback", "usageMetadata",
                                                        "modelVersion", "responseId",     "error"};
  std::array<json::Field, 6> top;
  if (auto r = json::scan_object(body, kTop, top); !r) return bad(r.error().message);
  c = Chunk{};
  c.model = string_of(top[3]);
  c.id = string_of(top[4]);
  c.usage = usage_of(top[2]);
  if (top[5].kind == json::Kind::kObject) {
    static constexpr std::array<std::string_view, 2> kError{"message", "status"};
    std::array<json::Field, 2> e;
    c.is_error = true;
    if (fields(top[5].raw, kError, e)) {
      c.error_message = string_of(e[0]);
      c.error_status = string_of(e[1]);
    }
    return true;
  }
  if (top[1].kind == json::Kind::kObject) {
    static constexpr std::array<std::string_view, 1> kFeedback{"blockReason"};
    std::array<json::Field, 1> b;
    if (fields(top[1].raw, kFeedback, b)) c.block_reason = string_of(b[0]);
  }
  if (!top[0].present()) return true;
  if (top[0].kind != json::Kind::kArray) return bad("candidates must be an array");
  static constexpr std::array<std::string_view, 2> kCandidate{"content", "finishReason"};
  std::vector<json::Field> cand;
  if (auto r = json::scan_elements(top[0].raw, kCandidate, cand); !r) return bad(r.error().message);
  if (cand.empty()) return true;
  c.has_candidate = true;
  c.finish = string_of(cand[1]);
  if (cand[0].kind != json::Kind::kObject) return true;  // e.g. finishReason SAFETY without content
  static constexpr std::array<std::string_view, 1> kContent{"parts"};
  std::array<json::Field, 1> parts;
  if (!fields(cand[0].raw, kContent, parts)) return bad("candidates[0].content must be an object");
  if (!parts[0].present()) return true;
  if (parts[0].kind != json::Kind::kArray) return bad("candidates[0].content.parts must be an array");
  return read_parts(parts[0].raw, c.parts);
}

StopReason stop_of(std::string_view finish, bool called) {
  if (finish == "MAX_TOKENS") return StopReason::kMaxTokens;
  static constexpr std::string_view kFiltered[] = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
                                                   "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION"};
  for (std::string_view f : kFiltered) {
    if (finish == f) return StopReason::kContentFilter;
  }
  if (called && (finish == "STOP" || finish.empty())) return StopReason::kToolUse;
  return StopReason::kEndTurn;
}

// "call_<responseId>_<n>" (only the id's [A-Za-z0-9_-], the characters every dialect accepts
// in a tool call's id), or "call_<n>" without a responseId.
std::string call_id(std::string_view response_id, int n) {
  std::string id = "call_";
  for (char ch : response_id) {
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-') id += ch;
  }
  if (id.size() > 5) id += '_';
  append_int(id, n);
  return id;
}

class GeminiStreamDecoder final : public StreamDecoder {
 public:
  Result<bool> decode(std::string_view event, std::string_view data, std::vector<StreamEvent>& out) override {
    (void)event;  // Gemini names no events
    scratch_.clear();
    if (done_ || data.empty()) return true;
    if (auto r = read_chunk(data, chunk_); !r) return r;
    if (chunk_.is_error) {
      StreamEvent e{.type = StreamEvent::Type::kError};
      e.text = scratch_.emplace_back(decoded(chunk_.error_message));  // plain text
      e.error_type = scratch_.emplace_back(decoded(chunk_.error_status));
      out.push_back(e);
      done_ = true;
      return true;
    }
    if (!started_) {
      started_ = true;
      response_id_ = decoded(chunk_.id);
      StreamEvent e{.type = StreamEvent::Type::kStart};
      e.id = chunk_.id;
      e.model = chunk_.model;
      e.usage = chunk_.usage;
      e.usage.output = 0;
      e.usage.reasoning = 0;
      out.push_back(e);
    }
    if (chunk_.usage.present) usage_ = chunk_.usage;
    for (const GeminiPart& p : chunk_.parts) add(p, out);
    if (!chunk_.finish.empty() || (!chunk_.has_candidate && !chunk_.block_reason.empty())) {
      close(out);
      StreamEvent e{.type = StreamEvent::Type::kFinish};
      e.stop = chunk_.has_candidate ? stop_of(chunk_.finish, calls_ > 0) : StopReason::kContentFilter;
      e.usage = usage_;
      out.push_back(e);
      done_ = true;
    }
    return true;
  }

  bool done() const override { return done_; }

 private:
  void add(const GeminiPart& p, std::vector<StreamEvent>& out) {
    switch (p.kind) {
      case GeminiPart::Kind::kText:
        if (p.text.empty()) return;  // e.g. the last chunk's {"text": "", "thoughtSignature": ...}
        open(PartKind::kText, out);
        out.push_back(delta(StreamEvent::Type::kTextDelta, p.text));
        return;
      case GeminiPart::Kind::kThought:
        open(PartKind::kThinking, out);
        if (!p.text.empty()) out.push_back(delta(StreamEvent::Type::kThinkingDelta, p.text));
        if (!p.signature.empty()) out.push_back(delta(StreamEvent::Type::kSignatureDelta, p.signature));
        return;
      case GeminiPart::Kind::kCall: {
        close(out);
        StreamEvent start{.type = StreamEvent::Type::kBlockStart, .index = index_, .block = PartKind::kToolUse};
        start.id = p.id.empty() ? std::string_view(scratch_.emplace_back(call_id(response_id_, calls_))) : p.id;
        start.name = p.name;
        out.push_back(start);
        std::string& args = scratch_.emplace_back();
        append_escaped(args, p.args.empty() ? std::string_view("{}") : p.args);
        out.push_back(delta(StreamEvent::Type::kToolInputDelta, args));
        out.push_back(StreamEvent{.type = StreamEvent::Type::kBlockStop, .index = index_});
        ++index_;
        ++calls_;
        return;
      }
      case GeminiPart::Kind::kOther: return;  // inline data, code execution: not in the canonical model
    }
  }

  StreamEvent delta(StreamEvent::Type type, std::string_view text) const {
    StreamEvent e{.type = type, .index = index_};
    e.text = text;
    return e;
  }

  void open(PartKind kind, std::vector<StreamEvent>& out) {
    if (open_ && open_kind_ == kind) return;
    close(out);
    out.push_back(StreamEvent{.type = StreamEvent::Type::kBlockStart, .index = index_, .block = kind});
    open_ = true;
    open_kind_ = kind;
  }

  void close(std::vector<StreamEvent>& out) {
    if (!open_) return;
    out.push_back(StreamEvent{.type = StreamEvent::Type::kBlockStop, .index = index_});
    open_ = false;
    ++index_;
  }

  Chunk chunk_;
  std::deque<std::string> scratch_;  // strings the events of one call point into (stable addresses)
  std::string response_id_;          // decoded, for generated call ids
  Usage usage_;                      // the latest chunk's usage
  bool started_ = false;
  bool done_ = false;
  bool open_ = false;
  PartKind open_kind_ = PartKind::kText;
  int index_ = 0;  // the open block's index, or the next one's
  int calls_ = 0;
};

}  // namespace

Result<ChatResponse> read_gemini_response(std::string_view body) {
  Chunk c;
  if (auto r = read_chunk(body, c); !r) return tl::unexpected(r.error());
  if (c.is_error) {
    return fail(ErrorCode::kUpstreamError, fmt::format("Gemini answered with an error: {} {}", decoded(c.error_status),
                                                       decoded(c.error_message)));
  }
  ChatResponse res;
  res.id = c.id;
  res.model = c.model;
  res.usage = c.usage;
  const std::string response_id = decoded(c.id);
  int calls = 0;
  for (const GeminiPart& p : c.parts) {
    Part part;
    switch (p.kind) {
      case GeminiPart::Kind::kText:
        if (p.text.empty()) continue;
        part.kind = PartKind::kText;
        part.text = p.text;
        break;
      case GeminiPart::Kind::kThought:
        part.kind = PartKind::kThinking;
        part.text = p.text;
        part.signature = p.signature;
        break;
      case GeminiPart::Kind::kCall:
        part.kind = PartKind::kToolUse;
        part.id = p.id.empty() ? res.arena.keep(call_id(response_id, calls)) : p.id;
        part.name = p.name;
        part.input = p.args.empty() ? std::string_view("{}") : p.args;
        part.signature = p.signature;  // Gemini 3 wants it back with the call
        ++calls;
        break;
      case GeminiPart::Kind::kOther: continue;
    }
    res.content.push_back(std::move(part));
  }
  res.stop = !c.has_candidate && !c.block_reason.empty() ? StopReason::kContentFilter : stop_of(c.finish, calls > 0);
  return res;
}

std::unique_ptr<StreamDecoder> make_gemini_stream_decoder() { return std::make_unique<GeminiStreamDecoder>(); }

}  // namespace sy::translate
