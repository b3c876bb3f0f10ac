#include "http/sse.h"
#include "http/wire.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sy::http {
namespace {

struct Seen {
  std::string raw, event, data;
};

std::vector<Seen> feed_all(SseParser& p, std::initializer_list<std::string_view> pieces) {
  std::vector<Seen> out;
  for (auto piece : pieces) {
    auto r = p.feed(piece, [&](const SseEvent& e) {
      out.push_back({std::string(e.raw), std::string(e.event), std::string(e.data)});
    });
    EXPECT_TRUE(r);
  }
  return out;
}

TEST(SseParser, WholeEventsInOneChunk) {
  SseParser p;
  auto seen = feed_all(p, {"data: {\"a\":1}\n\ndata: [DONE]\n\n"});
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].data, "{\"a\":1}");
  EXPECT_EQ(seen[0].raw, "data: {\"a\":1}\n\n");
  EXPECT_EQ(seen[1].data, "[DONE]");
  EXPECT_TRUE(p.pending().empty());
}

TEST(SseParser, EventSplitAcrossChunksAtEveryByte) {
  const std::string stream = "event: message_start\r\ndata: {\"x\":\"y\"}\r\n\r\n: ping\n\ndata: a\ndata: b\n\n";
  for (size_t cut = 1; cut < stream.size(); ++cut) {
    SseParser p;
    auto seen = feed_all(p, {std::string_view(stream).substr(0, cut), std::string_view(stream).substr(cut)});
    ASSERT_EQ(seen.size(), 3u) << cut;
    EXPECT_EQ(seen[0].event, "message_start");
    EXPECT_EQ(seen[0].data, "{\"x\":\"y\"}");
    EXPECT_EQ(seen[1].data, "");
    EXPECT_EQ(seen[2].data, "a\nb");
  }
}

TEST(SseParser, OversizedEventFails) {
  SseParser p(16);
  auto r = p.feed("data: 0123456789abcdefgh", [](const SseEvent&) {});
  EXPECT_FALSE(r);
}

TEST(PercentDecode, DecodesEscapes) {
  EXPECT_EQ(percent_decode("demo%2Ffast"), "demo/fast");
  EXPECT_EQ(percent_decode("a%zz%4"), "a%zz%4");
  EXPECT_EQ(percent_decode("%41%42"), "AB");
  EXPECT_EQ(percent_encode("one?x y/é"), "one%3Fx%20y%2F%C3%A9");
  EXPECT_EQ(percent_decode(percent_encode("a b%c")), "a b%c");
}

}  // namespace
}  // namespace sy::http
