#include "store/log_block.h"

#include <cmath>
#include <cstring>

#include "core/assert.h"

namespace sy::store::sqlite_log {
namespace {

using telemetry::AttemptRecord;
using telemetry::RequestRecord;

// Each record: its size as a varint, then its fields. Integers are zigzag varints (times as
// the difference from the previous record's), costs and seconds 8 bytes, strings their size
// then their bytes; a "rep" string is 0 when it equals the previous record's, else size + 1.
enum Flag : uint8_t { kFailed = 1, kStream = 2, kBodies = 4, kSpoken = 8 };

// Writes through a pointer into room its caller reserved (room_for() bounds a record): no
// capacity check per field, which cost more than the encoding when each went through append.
struct Out {
  char* p;

  void varint(uint64_t v) {
    while (v >= 0x80) {
      *p++ = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    *p++ = static_cast<char>(v);
  }
  void integer(int64_t v) {  // zigzag: small magnitudes of either sign take few bytes
    varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
  }
  void byte(uint8_t b) { *p++ = static_cast<char>(b); }
  void bytes(std::string_view s) {
    if (!s.empty()) {  // an empty view may hold no pointer, which memcpy may not take
      std::memcpy(p, s.data(), s.size());
      p += s.size();
    }
  }
  void str(std::string_view s) {
    varint(s.size());
    bytes(s);
  }
  void rep(const std::string& s, const std::string* prev) {
    if (prev != nullptr && *prev == s) {
      byte(0);
      return;
    }
    varint(s.size() + 1);
    bytes(s);
  }
  void dbl(double v) {
    if (!std::isfinite(v)) v = 0;  // JSON has no NaN or infinity (and SQLite rows had none)
    std::memcpy(p, &v, 8);
    p += 8;
  }
};

constexpr size_t kMaxVarint = 10;

// Room for a record's head, id or tail: every string's bytes and size, and 16 bytes for each of
// the at most 24 numbers and flags in a head, a tail or an attempt.
size_t room_for(const RequestRecord& r) {
  size_t room = 24 * 16;
  for (const std::string* s :
       {&r.id, &r.user, &r.route, &r.variant, &r.model, &r.key_id, &r.endpoint, &r.dialect,
        &r.reason, &r.requested_model, &r.provider, &r.error_class, &r.metadata_json,
        &r.tts_engine, &r.tts_error}) {
    room += s->size() + kMaxVarint;
  }
  for (const AttemptRecord& a : r.attempts) {
    room += 24 * 16 + a.model.size() + a.provider.size() + a.error_class.size() + 3 * kMaxVarint;
  }
  return room;
}

// Appends `n` bytes of `room` to `to`, after their size.
void append_sized(std::string& to, const std::string& room, size_t n) {
  char size[kMaxVarint];
  Out o{size};
  o.varint(n);
  to.append(size, static_cast<size_t>(o.p - size));
  to.append(room.data(), n);
}

// Bounds-checked reads; the first failure sticks (every later read fails too).
struct In {
  std::string_view s;
  size_t at = 0;
  bool ok = true;

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at >= s.size()) break;
      const auto b = static_cast<uint8_t>(s[at++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
    ok = false;
    return 0;
  }
  int64_t integer() {
    const uint64_t v = varint();
    return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
  }
  std::string_view bytes(uint64_t n) {
    if (!ok || n > s.size() - at) {
      ok = false;
      return {};
    }
    std::string_view v = s.substr(at, n);
    at += n;
    return v;
  }
  std::string_view str() { return bytes(varint()); }
  void rep(std::string_view& v) {  // leaves v (the previous record's) on 0
    if (const uint64_t n = varint(); n > 0) v = bytes(n - 1);
  }
  uint8_t byte() {
    std::string_view b = bytes(1);
    return b.empty() ? 0 : static_cast<uint8_t>(b[0]);
  }
  double dbl() {
    std::string_view b = bytes(8);
    double v = 0;
    if (b.size() == 8) std::memcpy(&v, b.data(), 8);
    return v;
  }
};

}  // namespace

void BlockWriter::add(const RequestRecord& r) {
  // The head, the id and the tail are each written from the start of record_, which only grows.
  if (const size_t room = room_for(r); record_.size() < room) record_.resize(room);
  char* const begin = record_.data();
  Out o{begin};
  auto rep = [&](std::string RequestRecord::*field) {
    o.rep(r.*field, prev_ != nullptr ? &(prev_->*field) : nullptr);
  };
  o.integer(r.time_ms - prev_time_);
  rep(&RequestRecord::user);
  rep(&RequestRecord::route);
  rep(&RequestRecord::variant);
  rep(&RequestRecord::model);
  o.varint(static_cast<uint64_t>(r.status));
  const bool bodies = !r.request_body.empty() || !r.response_body.empty();
  const bool failed = !r.error_class.empty() || r.status >= 400;
  o.byte((failed ? kFailed : 0) | (r.stream ? kStream : 0) | (bodies ? kBodies : 0) |
         (r.spoken() ? kSpoken : 0));
  o.integer(r.ttft_ms);
  o.integer(r.latency_ms);
  o.dbl(r.cost_usd);
  append_sized(heads_, record_, static_cast<size_t>(o.p - begin));
  o.p = begin;
  o.str(r.id);
  ids_.append(begin, static_cast<size_t>(o.p - begin));

  o.p = begin;
  rep(&RequestRecord::key_id);
  rep(&RequestRecord::endpoint);
  rep(&RequestRecord::dialect);
  o.integer(r.router_version);
  rep(&RequestRecord::reason);
  rep(&RequestRecord::requested_model);
  rep(&RequestRecord::provider);
  o.str(r.error_class);
  for (int64_t v : {r.tokens_in, r.tokens_out, r.tokens_cached, r.tokens_reasoning}) o.integer(v);
  rep(&RequestRecord::metadata_json);
  o.varint(r.attempts.size());
  for (const AttemptRecord& a : r.attempts) {
    o.str(a.model);
    o.str(a.provider);
    o.integer(a.status);
    o.str(a.error_class);
    for (int64_t v : {a.start_ms, a.duration_ms, a.ttft_ms}) o.integer(v);
    o.byte(a.served ? 1 : 0);
    o.integer(a.tokens_in);
    o.integer(a.tokens_out);
    o.dbl(a.cost_usd);
  }
  if (r.spoken()) {
    o.str(r.tts_engine);
    o.integer(r.tts_chars);
    o.dbl(r.audio_seconds);
    o.integer(r.tts_first_audio_ms);
    o.dbl(r.tts_cost_usd);
    o.str(r.tts_error);
  }
  SY_ASSERT(static_cast<size_t>(o.p - begin) <= record_.size());
  append_sized(tails_, record_, static_cast<size_t>(o.p - begin));

  prev_ = &r;
  prev_time_ = r.time_ms;
  ++n_;
}

void BlockWriter::clear() {
  heads_.clear();
  ids_.clear();
  tails_.clear();
  prev_ = nullptr;
  prev_time_ = 0;
  n_ = 0;
}

bool BlockReader::next() {
  if (!ok_ || at_ >= heads_.size()) return false;
  In whole{heads_, at_};
  const std::string_view body = whole.str();
  at_ = whole.at;
  In in{body};
  BlockHead& h = head_;
  h.time_ms = prev_time_ + in.integer();
  in.rep(h.user);
  in.rep(h.route);
  in.rep(h.variant);
  in.rep(h.model);
  h.status = static_cast<int>(in.varint());
  const uint8_t flags = in.byte();
  h.failed = (flags & kFailed) != 0;
  h.stream = (flags & kStream) != 0;
  h.bodies = (flags & kBodies) != 0;
  h.spoken = (flags & kSpoken) != 0;
  h.ttft_ms = in.integer();
  h.latency_ms = in.integer();
  h.cost_usd = in.dbl();
  ok_ = whole.ok && in.ok;
  prev_time_ = h.time_ms;
  ++slot_;  // SIZE_MAX + 1 == 0 for the first
  return ok_;
}

bool BlockReader::read_tail(RequestRecord* out) {
  In whole{tails_, tail_at_};
  In in{whole.str()};
  tail_at_ = whole.at;
  Tail& t = tail_;
  in.rep(t.key_id);
  in.rep(t.endpoint);
  in.rep(t.dialect);
  const int64_t router_version = in.integer();
  in.rep(t.reason);
  in.rep(t.requested_model);
  in.rep(t.provider);
  const std::string_view error_class = in.str();
  int64_t tokens[4];
  for (int64_t& v : tokens) v = in.integer();
  in.rep(t.metadata);
  if (out == nullptr) {  // a record skipped: only the strings later ones may repeat matter
    ++tails_read_;
    return whole.ok && in.ok;
  }
  out->key_id = t.key_id;
  out->endpoint = t.endpoint;
  out->dialect = t.dialect;
  out->router_version = router_version;
  out->reason = t.reason;
  out->requested_model = t.requested_model;
  out->provider = t.provider;
  out->error_class = error_class;
  out->tokens_in = tokens[0];
  out->tokens_out = tokens[1];
  out->tokens_cached = tokens[2];
  out->tokens_reasoning = tokens[3];
  out->metadata_json = t.metadata;
  const uint64_t attempts = in.varint();
  out->attempts.clear();
  for (uint64_t i = 0; i < attempts && in.ok; ++i) {
    AttemptRecord& a = out->attempts.emplace_back();
    a.model = in.str();
    a.provider = in.str();
    a.status = static_cast<int>(in.integer());
    a.error_class = in.str();
    a.start_ms = in.integer();
    a.duration_ms = in.integer();
    a.ttft_ms = in.integer();
    a.served = in.byte() != 0;
    a.tokens_in = in.integer();
    a.tokens_out = in.integer();
    a.cost_usd = in.dbl();
  }
  if (head_.spoken) {  // the current record's head: out is only set for it
    out->tts_engine = in.str();
    out->tts_chars = in.integer();
    out->audio_seconds = in.dbl();
    out->tts_first_audio_ms = in.integer();
    out->tts_cost_usd = in.dbl();
    out->tts_error = in.str();
  }
  ++tails_read_;
  return whole.ok && in.ok;
}

bool BlockReader::record(RequestRecord& out) {
  if (!ok_ || slot_ == SIZE_MAX || tails_read_ > slot_ || ids_read_ > slot_) return false;
  while (tails_read_ < slot_) {
    if (!read_tail(nullptr)) return ok_ = false;
  }
  In ids{ids_, id_at_};
  std::string_view id;
  for (; ids_read_ <= slot_ && ids.ok; ++ids_read_) id = ids.str();
  id_at_ = ids.at;
  if (!ids.ok) return ok_ = false;
  out.clear();
  const BlockHead& h = head_;
  out.id = id;
  out.time_ms = h.time_ms;
  out.user = h.user;
  out.route = h.route;
  out.variant = h.variant;
  out.model = h.model;
  out.status = h.status;
  out.stream = h.stream;
  out.ttft_ms = h.ttft_ms;
  out.latency_ms = h.latency_ms;
  out.cost_usd = h.cost_usd;
  if (!read_tail(&out)) return ok_ = false;
  return true;
}

size_t find_id(std::string_view ids, std::string_view id) {
  In in{ids};
  for (size_t slot = 0; in.at < ids.size() && in.ok; ++slot) {
    if (in.str() == id && in.ok) return slot;
  }
  return SIZE_MAX;
}

}  // namespace sy::store::sqlite_log
