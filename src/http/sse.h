#pragma once
// An I/O-free Server-Sent Events parser: bytes in, whole events out.
//
//   SseParser p;
//   p.feed(chunk, [](const SseEvent& e) { relay(e.raw); if (e.data == "[DONE]") done(); });
//
// Events end at a blank line ("\n\n" or "\r\n\r\n"). `raw` holds the event's exact bytes, so a
// relay can forward it untouched; `data` joins the data lines as the SSE spec says.

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sy::http {

struct SseEvent {
  std::string_view raw;    // the whole event including its terminating blank line
  std::string_view event;  // the `event:` field, "" when absent
  std::string_view data;   // the data lines joined by '\n'
};

class SseParser {
 public:
  explicit SseParser(size_t max_event_bytes = 4 * 1024 * 1024) : max_event_bytes_(max_event_bytes) {}

  // Parses `bytes`, calling on_event(const SseEvent&) for each complete event. Views passed to
  // on_event are valid only during the call. Fails when one event exceeds max_event_bytes.
  template <class F>
  Result<bool> feed(std::string_view bytes, F&& on_event) {
    if (pending_.empty()) {
      const size_t used = parse(bytes, on_event);
      bytes.remove_prefix(used);
    } else {
      pending_.append(bytes);
      const size_t used = parse(pending_, on_event);
      pending_.erase(0, used);
      bytes = {};
    }
    pending_.append(bytes);
    if (pending_.size() > max_event_bytes_) {
      return fail(ErrorCode::kUpstreamError, "an upstream SSE event exceeds the size limit");
    }
    return true;
  }

  // Bytes of an event not yet complete.
  std::string_view pending() const { return pending_; }

 private:
  template <class F>
  size_t parse(std::string_view s, F& on_event) {
    size_t consumed = 0;
    for (;;) {
      const size_t end = event_end(s, consumed);
      if (end == std::string_view::npos) return consumed;
      SseEvent e;
      e.raw = s.substr(consumed, end - consumed);
      fill_fields(e);
      on_event(static_cast<const SseEvent&>(e));
      consumed = end;
    }
  }

  // The index just past the blank line ending the event that starts at `from`, or npos.
  static size_t event_end(std::string_view s, size_t from);
  void fill_fields(SseEvent& e);

  size_t max_event_bytes_;
  std::string pending_;
  std::string joined_;  // data of multi-line events
};

}  // namespace sy::http
