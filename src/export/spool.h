#pragma once
// Spool: a directory of append-only segment files holding rendered items until their
// destination acknowledges them, so that nothing is lost across a restart and memory stays
// bounded whatever the destination does.
//
//   auto spool = Spool::open({.dir = "spool/mixpanel"});            // Result<unique_ptr<Spool>>
//   (*spool)->append(0, items);                     // writer thread: one write(2), never blocks on I/O of the reader
//   auto batch = (*spool)->read(2000, 9'000'000);   // reader thread: oldest unacknowledged items
//   (*spool)->ack(batch->ends.back());              // delivered: never read again, segments deleted
//
// Layout: `<base>.seg` files, <base> the 20-digit stream position of the segment's first byte;
// each item is [u32 length][u32 crc32][u8 channel][payload] (little-endian, the CRC covers the
// channel and the payload). `ack` holds the acknowledged position in decimal, replaced
// atomically (written to `ack.tmp`, then renamed). On open, the unacknowledged part is checked
// item by item: a torn tail (a crash in the middle of a write) is cut off.
//
// Durability: every append is one write(2) to the page cache, so items survive a crash of the
// process (kill -9, OOM) at once; with `fsync` they also survive a crash of the machine, at the
// cost of an fdatasync per append. A lost `ack` update only means items are sent again, which
// the destinations de-duplicate by insert id.
//
// One Spool per directory: open() fails while another (in any process) holds it.
//
// Threads: one writer (append) and one reader (read, ack) may run at once; the reader's file
// reads happen outside the lock, so the writer never waits for them.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"

namespace sy::exports {

struct SpoolOptions {
  std::string dir;                          // created when missing; one spool per directory
  uint64_t max_bytes = 256ull << 20;        // segments on disk; past it new items are dropped (counted)
  uint64_t segment_bytes = 8ull << 20;      // a segment is closed once it reaches this size
  bool fsync = false;                       // fdatasync each append and the ack file (machine crashes)
};

struct SpoolBatch {
  uint8_t channel = 0;               // every item of a batch is of one channel
  std::vector<std::string> items;    // payloads, oldest first
  std::vector<uint64_t> ends;        // ends[i]: the position just after items[i] (what ack() takes)
  bool empty() const { return items.empty(); }
};

class Spool {
 public:
  static Result<std::unique_ptr<Spool>> open(SpoolOptions options);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Writer: appends `items` on `channel` in one write. Returns how many were taken, in order;
  // the rest did not fit under max_bytes (or could not be written) and are counted in dropped().
  size_t append(uint8_t channel, std::span<const std::string> items);

  // Reader: the oldest unacknowledged items of one channel (that of the oldest item), at most
  // `max_items` and `max_bytes` of payload — but at least one item when any is waiting.
  Result<SpoolBatch> read(size_t max_items, size_t max_bytes);

  // Reader: everything before `position` is delivered; deletes the segments wholly before it.
  Result<bool> ack(uint64_t position);

  uint64_t pending_bytes() const;  // written and not acknowledged (framing included)
  uint64_t disk_bytes() const;     // held by segment files
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t corrupt() const { return corrupt_.load(std::memory_order_relaxed); }  // damaged stretches skipped
  std::string last_error() const;  // why the latest append failed to write, "" if none

 private:
  struct Segment {
    uint64_t size = 0;  // bytes of valid items; reading stops there
    int fd = -1;        // open for writing: the last segment only
  };
  explicit Spool(SpoolOptions options);
  Result<bool> load();
  Result<bool> recover(uint64_t base, Segment& seg);
  Result<bool> start_segment(uint64_t base);   // under mu_
  void close_active();                         // under mu_
  void skip_damaged(uint64_t base, uint64_t offset);
  uint64_t disk_bytes_locked() const;
  std::string segment_path(uint64_t base) const;
  Result<bool> write_ack(uint64_t position) const;

  SpoolOptions options_;
  mutable std::mutex mu_;
  std::map<uint64_t, Segment> segments_;  // by base position; the last one is appended to
  uint64_t write_end_ = 0;                // position after the last item written
  uint64_t ack_ = 0;
  std::string last_error_;
  int lock_fd_ = -1;                      // flock()ed: one Spool per directory
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> corrupt_{0};
};

}  // namespace sy::exports
