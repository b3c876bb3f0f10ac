// The spool on its own: append, read in batches, acknowledge, reopen after a crash, caps.
#include "export/spool.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "export/testing/fakes.h"

namespace sy::exports {
namespace {

namespace fs = std::filesystem;

class SpoolTest : public testing::TempDirTest {
 protected:
  std::unique_ptr<Spool> open(SpoolOptions o = {}) {
    o.dir = dir_;
    auto spool = Spool::open(o);
    EXPECT_TRUE(spool) << spool.error().message;
    return spool ? std::move(*spool) : nullptr;
  }
  size_t segment_files() const {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir_)) n += e.path().extension() == ".seg" ? 1 : 0;
    return n;
  }
  std::vector<std::string> read_all(Spool& spool) {
    auto batch = spool.read(1000, 1 << 20);
    EXPECT_TRUE(batch);
    return batch ? batch->items : std::vector<std::string>{};
  }
};

std::vector<std::string> items(std::initializer_list<const char*> list) { return {list.begin(), list.end()}; }

TEST_F(SpoolTest, AppendReadAckDeletesTheSegment) {
  auto spool = open();
  EXPECT_EQ(spool->append(0, items({"a", "bb", "ccc"})), 3u);
  auto batch = spool->read(10, 1000);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->items, items({"a", "bb", "ccc"}));
  ASSERT_EQ(batch->ends.size(), 3u);
  EXPECT_LT(batch->ends[0], batch->ends[1]);
  EXPECT_GT(spool->pending_bytes(), 0u);
  ASSERT_TRUE(spool->ack(batch->ends.back()));
  EXPECT_EQ(spool->pending_bytes(), 0u);
  EXPECT_TRUE(read_all(*spool).empty());
  EXPECT_EQ(segment_files(), 0u);  // an idle spool holds no files
  EXPECT_EQ(spool->append(0, items({"d"})), 1u);
  EXPECT_EQ(read_all(*spool), items({"d"}));
}

TEST_F(SpoolTest, BatchesRespectCountBytesAndChannels) {
  auto spool = open();
  spool->append(0, items({"1111", "2222", "3333"}));
  spool->append(1, items({"outcome"}));
  spool->append(0, items({"4444"}));
  auto b = spool->read(2, 1000);
  EXPECT_EQ(b->items, items({"1111", "2222"}));
  b = spool->read(10, 6);  // bytes: one item fits, the second would not
  EXPECT_EQ(b->items, items({"1111"}));
  b = spool->read(10, 1);  // at least one item, whatever the byte limit
  EXPECT_EQ(b->items, items({"1111"}));
  ASSERT_TRUE(spool->ack(spool->read(3, 1000)->ends.back()));
  b = spool->read(10, 1000);
  EXPECT_EQ(b->channel, 1);
  EXPECT_EQ(b->items, items({"outcome"}));
  ASSERT_TRUE(spool->ack(b->ends.back()));
  b = spool->read(10, 1000);
  EXPECT_EQ(b->channel, 0);
  EXPECT_EQ(b->items, items({"4444"}));
}

TEST_F(SpoolTest, ReopenResendsWhatWasNotAcknowledged) {
  {
    auto spool = open();
    spool->append(0, items({"1", "2", "3", "4", "5"}));
    auto b = spool->read(2, 1000);
    ASSERT_TRUE(spool->ack(b->ends.back()));
  }  // a crash: nothing else is written
  auto spool = open();
  EXPECT_EQ(read_all(*spool), items({"3", "4", "5"}));
  spool->append(0, items({"6"}));
  EXPECT_EQ(read_all(*spool), items({"3", "4", "5", "6"}));
}

TEST_F(SpoolTest, TornTailIsCutOffOnOpen) {
  {
    auto spool = open();
    spool->append(0, items({"first", "second"}));
  }
  // A crash in the middle of a write: a header announcing 100 bytes, then 3 of them.
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (e.path().extension() != ".seg") continue;
    std::ofstream f(e.path(), std::ios::app | std::ios::binary);
    f.write("\x64\x00\x00\x00\x01\x02\x03\x04\x00" "abc", 12);
  }
  auto spool = open();
  EXPECT_EQ(read_all(*spool), items({"first", "second"}));
  EXPECT_EQ(spool->corrupt(), 1u);
  spool->append(0, items({"third"}));
  EXPECT_EQ(read_all(*spool), items({"first", "second", "third"}));
}

TEST_F(SpoolTest, DamagedSegmentLosesOnlyItsOwnItems) {
  {
    auto spool = open({.segment_bytes = 1});  // one append per segment
    spool->append(0, items({"one"}));
    spool->append(0, items({"two"}));
    spool->append(0, items({"three"}));
  }
  std::vector<fs::path> segs;
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (e.path().extension() == ".seg") segs.push_back(e.path());
  }
  std::sort(segs.begin(), segs.end());
  ASSERT_EQ(segs.size(), 3u);
  {
    std::fstream f(segs[1], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(10);
    f.put('X');  // a flipped payload byte: the CRC no longer matches
  }
  auto spool = open({.segment_bytes = 1});
  EXPECT_EQ(read_all(*spool), items({"one", "three"}));
  EXPECT_EQ(spool->corrupt(), 1u);
}

TEST_F(SpoolTest, FullSpoolDropsAndCountsWithoutBlocking) {
  auto spool = open({.max_bytes = 100});
  const std::string item(40, 'x');  // 49 bytes with its header: two fit under 100
  const std::vector<std::string> three{item, item, item};
  EXPECT_EQ(spool->append(0, three), 2u);
  EXPECT_EQ(spool->dropped(), 1u);
  EXPECT_EQ(spool->append(0, three), 0u);
  EXPECT_EQ(spool->dropped(), 4u);
  auto b = spool->read(10, 1000);
  ASSERT_TRUE(spool->ack(b->ends.back()));
  EXPECT_EQ(spool->append(0, three), 2u);  // delivered items free their space
}

TEST_F(SpoolTest, SegmentsRotateAndAcknowledgedOnesAreDeleted) {
  auto spool = open({.segment_bytes = 64});
  const std::string item(30, 'y');
  for (int i = 0; i < 10; ++i) spool->append(0, std::vector<std::string>{item, item});
  EXPECT_EQ(segment_files(), 10u);
  auto b = spool->read(7, 1 << 20);
  ASSERT_EQ(b->items.size(), 7u);
  ASSERT_TRUE(spool->ack(b->ends.back()));
  EXPECT_EQ(segment_files(), 7u);  // three whole segments delivered, the fourth half
  EXPECT_EQ(read_all(*spool).size(), 13u);
  EXPECT_EQ(spool->disk_bytes(), 7u * 2 * (9 + 30));
}

TEST_F(SpoolTest, OneSpoolPerDirectory) {
  auto first = open();
  auto second = Spool::open({.dir = dir_});
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("in use"), std::string::npos);
  first.reset();
  EXPECT_TRUE(Spool::open({.dir = dir_}));  // free again once the first is gone
}

TEST_F(SpoolTest, AcknowledgedSegmentsLeftByACrashAreRemovedOnOpen) {
  {
    auto spool = open({.segment_bytes = 1});
    spool->append(0, items({"a"}));
    spool->append(0, items({"b"}));
    auto b = spool->read(1, 1000);
    // The ack file is written, then the process dies before deleting the segment: simulate
    // by writing the ack file by hand.
    std::ofstream(dir_ + "/ack") << b->ends.back() << "\n";
  }
  auto spool = open({.segment_bytes = 1});
  EXPECT_EQ(segment_files(), 1u);
  EXPECT_EQ(read_all(*spool), items({"b"}));
}

}  // namespace
}  // namespace sy::exports
