#include "speech/chunker.h"

#include <gtest/gtest.h>

namespace sy::speech {
namespace {

std::vector<std::string> feed(Chunker& c, std::initializer_list<std::string_view> deltas) {
  std::vector<std::string> ready;
  for (auto d : deltas) c.add(d, ready);
  return ready;
}

TEST(Chunker, SentencesAcrossDeltas) {
  Chunker c;
  EXPECT_EQ(feed(c, {"Hel", "lo there", ". How", " are"}), std::vector<std::string>{"Hello there. "});
  EXPECT_TRUE(c.holding());
  EXPECT_EQ(feed(c, {" you? Fine"}), std::vector<std::string>{"How are you? "});
  EXPECT_EQ(c.take_rest(), "Fine");
  EXPECT_FALSE(c.holding());
}

TEST(Chunker, ADeltaEndingAWordWithAStopEndsASentenceAtOnce) {
  Chunker c;
  EXPECT_EQ(feed(c, {"Hello", " there."}), std::vector<std::string>{"Hello there."});
  EXPECT_EQ(feed(c, {" Version 3."}), std::vector<std::string>{});  // maybe "3.5"
  EXPECT_EQ(feed(c, {"5 is out!"}), std::vector<std::string>{" Version 3.5 is out!"});
}

TEST(Chunker, NumbersAndAbbreviationsWithoutSpaceDoNotEnd) {
  Chunker c;
  EXPECT_TRUE(feed(c, {"Version 3.5 of e.g.x is out"}).empty());
  EXPECT_EQ(feed(c, {"! Yes"}), std::vector<std::string>{"Version 3.5 of e.g.x is out! "});
}

TEST(Chunker, LineBreaksAndEllipsis) {
  Chunker c;
  EXPECT_EQ(feed(c, {"Title\nWait\xE2\x80\xA6 ", "then"}), (std::vector<std::string>{"Title\n", "Wait\xE2\x80\xA6 "}));
  EXPECT_EQ(c.take_rest(), "then");
}

TEST(Chunker, ClausesOnlyWhenLongEnough) {
  Chunker c({.min_clause_chars = 20});
  EXPECT_TRUE(feed(c, {"Short, "}).empty());
  EXPECT_EQ(feed(c, {"but this one is longer, and"}), std::vector<std::string>{"Short, but this one is longer, "});
}

TEST(Chunker, LongTextIsCutAtASpace) {
  Chunker c({.max_chars = 16});
  EXPECT_EQ(feed(c, {"aaaa bbbb cccc dddd eeee"}), std::vector<std::string>{"aaaa bbbb cccc "});
  EXPECT_EQ(c.take_rest(), "dddd eeee");
}

TEST(Chunker, TakeRestByWholeWords) {
  Chunker c;
  feed(c, {"one two thr"});
  EXPECT_EQ(c.take_rest(true), "one two ");
  EXPECT_EQ(c.take_rest(true), "");  // "thr" has no word end yet
  EXPECT_EQ(c.take_rest(), "thr");
}

TEST(Chunker, WhiteSpaceAloneIsNotAPiece) {
  Chunker c;
  EXPECT_TRUE(feed(c, {"\n\n  \n"}).empty());
  EXPECT_FALSE(c.holding());
  EXPECT_EQ(c.take_rest(), "");
}

}  // namespace
}  // namespace sy::speech
