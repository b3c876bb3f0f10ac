#include "export/spool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>

namespace sy::exports {
namespace {

namespace fs = std::filesystem;

constexpr size_t kHeader = 9;                   // u32 length, u32 crc, u8 channel
constexpr uint32_t kMaxItem = 64u << 20;        // a longer length field is damage, not data
constexpr size_t kReadChunk = 1 << 20;

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

uint32_t item_crc(uint8_t channel, std::string_view payload) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto c = static_cast<Bytef>(channel);
  crc = crc32(crc, &c, 1);
  crc = crc32_z(crc, reinterpret_cast<const Bytef*>(payload.data()), payload.size());
  return static_cast<uint32_t>(crc);
}

std::string errno_text() { return std::strerror(errno); }

// Reads items of one segment file in large chunks, from `offset` up to `limit`.
class ItemReader {
 public:
  enum class Status { kItem, kEnd, kCorrupt };

  ItemReader(int fd, uint64_t offset, uint64_t limit) : fd_(fd), offset_(offset), limit_(limit) {}

  // On kItem, channel() and payload() describe the item (valid until the next call), and
  // offset() is the position just after it.
  Status next() {
    if (offset_ == limit_) return Status::kEnd;
    if (!ensure(kHeader)) return Status::kCorrupt;
    const char* h = buf_.data() + pos_;
    const uint32_t len = get_u32(h);
    const uint32_t crc = get_u32(h + 4);
    channel_ = static_cast<uint8_t>(h[8]);
    if (len > kMaxItem || kHeader + len > limit_ - offset_ || !ensure(kHeader + len)) return Status::kCorrupt;
    payload_ = std::string_view(buf_.data() + pos_ + kHeader, len);
    if (item_crc(channel_, payload_) != crc) return Status::kCorrupt;
    pos_ += kHeader + len;
    offset_ += kHeader + len;
    return Status::kItem;
  }
  uint8_t channel() const { return channel_; }
  std::string_view payload() const { return payload_; }
  uint64_t offset() const { return offset_; }

 private:
  // Makes `n` bytes from the current offset available in buf_ (false: the file is shorter).
  bool ensure(size_t n) {
    if (buf_.size() - pos_ >= n) return true;
    if (offset_ + n > limit_) return false;
    buf_.erase(0, pos_);
    pos_ = 0;
    const uint64_t file_at = offset_ + buf_.size();
    const size_t want = static_cast<size_t>(std::min<uint64_t>(std::max(n, kReadChunk), limit_ - offset_)) - buf_.size();
    const size_t old = buf_.size();
    buf_.resize(old + want);
    size_t got = 0;
    while (got < want) {
      const ssize_t r = ::pread(fd_, buf_.data() + old + got, want - got, static_cast<off_t>(file_at + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    buf_.resize(old + got);
    return buf_.size() >= n;
  }

  int fd_;
  uint64_t offset_;
  uint64_t limit_;
  std::string buf_;
  size_t pos_ = 0;
  uint8_t channel_ = 0;
  std::string_view payload_;
};

bool write_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

Spool::Spool(SpoolOptions options) : options_(std::move(options)) {}

Spool::~Spool() {
  for (auto& [base, seg] : segments_) {
    if (seg.fd >= 0) ::close(seg.fd);
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
}

Result<std::unique_ptr<Spool>> Spool::open(SpoolOptions options) {
  if (options.dir.empty()) return fail(ErrorCode::kInvalidRequest, "export spool: `spool_dir` is empty; name a directory");
  std::unique_ptr<Spool> spool(new Spool(std::move(options)));
  if (auto ok = spool->load(); !ok) return tl::unexpected(ok.error());
  return spool;
}

std::string Spool::segment_path(uint64_t base) const { return fmt::format("{}/{:020}.seg", options_.dir, base); }

Result<bool> Spool::load() {
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec) return fail(ErrorCode::kInternal, fmt::format("export spool: cannot create '{}': {}", options_.dir, ec.message()));
  // Two writers would interleave their segments: one spool per directory, across processes.
  const std::string lock_path = options_.dir + "/lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) return fail(ErrorCode::kInternal, fmt::format("export spool: cannot open '{}': {}", lock_path, errno_text()));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return fail(ErrorCode::kConflict,
                fmt::format("export spool: '{}' is in use by another exporter; give each exporter its own spool_dir", options_.dir));
  }
  for (const auto& entry : fs::directory_iterator(options_.dir, ec)) {
    const std::string name = entry.path().filename().string();
    uint64_t base = 0;
    if (name.size() != 24 || !name.ends_with(".seg")) continue;
    if (std::from_chars(name.data(), name.data() + 20, base).ec != std::errc()) continue;
    segments_[base] = Segment{static_cast<uint64_t>(entry.file_size()), -1};
  }
  if (ec) return fail(ErrorCode::kInternal, fmt::format("export spool: cannot list '{}': {}", options_.dir, ec.message()));

  ack_ = segments_.empty() ? 0 : segments_.begin()->first;
  if (FILE* f = std::fopen((options_.dir + "/ack").c_str(), "r")) {
    unsigned long long v = 0;
    if (std::fscanf(f, "%llu", &v) == 1) ack_ = std::max<uint64_t>(ack_, v);
    std::fclose(f);
  }
  // Segments wholly acknowledged were about to be deleted when the process stopped.
  for (auto it = segments_.begin(); it != segments_.end();) {
    if (it->first + it->second.size <= ack_) {
      fs::remove(segment_path(it->first), ec);
      it = segments_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [base, seg] : segments_) {
    if (auto ok = recover(base, seg); !ok) return ok;
  }
  write_end_ = ack_;
  if (!segments_.empty()) {
    auto& [base, last] = *segments_.rbegin();
    write_end_ = std::max(write_end_, base + last.size);
    last.fd = ::open(segment_path(base).c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (last.fd < 0) return fail(ErrorCode::kInternal, fmt::format("export spool: cannot open '{}': {}", segment_path(base), errno_text()));
  }
  return true;
}

// Checks the unacknowledged items of one segment; a damaged or torn tail is cut off.
Result<bool> Spool::recover(uint64_t base, Segment& seg) {
  const std::string path = segment_path(base);
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return fail(ErrorCode::kInternal, fmt::format("export spool: cannot open '{}': {}", path, errno_text()));
  ItemReader reader(fd, ack_ > base ? ack_ - base : 0, seg.size);
  ItemReader::Status status;
  while ((status = reader.next()) == ItemReader::Status::kItem) {
  }
  if (status == ItemReader::Status::kCorrupt) {
    std::fprintf(stderr, "switchyard: export spool '%s': damaged item at offset %llu; the rest of the segment is skipped\n",
                 path.c_str(), static_cast<unsigned long long>(reader.offset()));
    corrupt_.fetch_add(1, std::memory_order_relaxed);
    seg.size = reader.offset();
    if (::ftruncate(fd, static_cast<off_t>(seg.size)) != 0) {
      ::close(fd);
      return fail(ErrorCode::kInternal, fmt::format("export spool: cannot truncate '{}': {}", path, errno_text()));
    }
  }
  ::close(fd);
  return true;
}

Result<bool> Spool::start_segment(uint64_t base) {
  const std::string path = segment_path(base);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return fail(ErrorCode::kInternal, fmt::format("export spool: cannot create '{}': {}", path, errno_text()));
  segments_[base] = Segment{0, fd};
  return true;
}

void Spool::close_active() {
  if (segments_.empty()) return;
  Segment& last = segments_.rbegin()->second;
  if (last.fd >= 0) ::close(last.fd);
  last.fd = -1;
}

size_t Spool::append(uint8_t channel, std::span<const std::string> items) {
  if (items.empty()) return 0;
  std::lock_guard lock(mu_);
  uint64_t disk = disk_bytes_locked();
  std::string buf;
  size_t taken = 0;
  for (const std::string& item : items) {
    const uint64_t need = kHeader + item.size();
    if (item.size() > kMaxItem || disk + buf.size() + need > options_.max_bytes) break;
    put_u32(buf, static_cast<uint32_t>(item.size()));
    put_u32(buf, item_crc(channel, item));
    buf.push_back(static_cast<char>(channel));
    buf.append(item);
    ++taken;
  }
  dropped_.fetch_add(items.size() - taken, std::memory_order_relaxed);
  if (taken == 0) return 0;
  const auto give_up = [&](std::string why) -> size_t {
    last_error_ = std::move(why);
    dropped_.fetch_add(taken, std::memory_order_relaxed);
    return 0;
  };

  const bool need_segment = segments_.empty() || segments_.rbegin()->second.fd < 0 ||
                            segments_.rbegin()->second.size >= options_.segment_bytes;
  if (need_segment) {
    close_active();
    if (auto ok = start_segment(write_end_); !ok) return give_up(ok.error().message);
  }
  Segment& seg = segments_.rbegin()->second;
  if (!write_all(seg.fd, buf.data(), buf.size()) || (options_.fsync && ::fdatasync(seg.fd) != 0)) {
    std::string why = fmt::format("export spool: cannot write to '{}': {}", options_.dir, errno_text());
    // Cut a partial write off so that the segment stays a sequence of whole items.
    if (::ftruncate(seg.fd, static_cast<off_t>(seg.size)) != 0) close_active();
    return give_up(std::move(why));
  }
  seg.size += buf.size();
  write_end_ += buf.size();
  return taken;
}

Result<SpoolBatch> Spool::read(size_t max_items, size_t max_bytes) {
  struct Span {
    uint64_t base;
    uint64_t size;
  };
  std::vector<Span> spans;
  uint64_t from = 0;
  {
    std::lock_guard lock(mu_);
    from = ack_;
    for (const auto& [base, seg] : segments_) {
      if (base + seg.size > from) spans.push_back({base, seg.size});
    }
  }
  SpoolBatch batch;
  size_t bytes = 0;
  for (const Span& span : spans) {
    const std::string path = segment_path(span.base);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(ErrorCode::kInternal, fmt::format("export spool: cannot read '{}': {}", path, errno_text()));
    ItemReader reader(fd, from > span.base ? from - span.base : 0, span.size);
    ItemReader::Status status;
    bool full = false;
    while ((status = reader.next()) == ItemReader::Status::kItem) {
      if (batch.empty()) {
        batch.channel = reader.channel();
      } else if (reader.channel() != batch.channel || batch.items.size() >= max_items ||
                 bytes + reader.payload().size() > max_bytes) {
        full = true;
        break;
      }
      bytes += reader.payload().size();
      batch.items.emplace_back(reader.payload());
      batch.ends.push_back(span.base + reader.offset());
    }
    ::close(fd);
    if (status == ItemReader::Status::kCorrupt) skip_damaged(span.base, reader.offset());
    if (full) break;
  }
  return batch;
}

// A damaged item found while reading: the rest of its segment is given up. The segment is no
// longer appended to, so that later items land in a new one that can be read.
void Spool::skip_damaged(uint64_t base, uint64_t offset) {
  std::fprintf(stderr, "switchyard: export spool: damaged item in '%s' at offset %llu; the rest of the segment is skipped\n",
               segment_path(base).c_str(), static_cast<unsigned long long>(offset));
  corrupt_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  auto it = segments_.find(base);
  if (it == segments_.end()) return;
  if (std::next(it) == segments_.end()) close_active();
  it->second.size = std::min(it->second.size, offset);
}

Result<bool> Spool::write_ack(uint64_t position) const {
  const std::string tmp = options_.dir + "/ack.tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(ErrorCode::kInternal, fmt::format("export spool: cannot write '{}': {}", tmp, errno_text()));
  const std::string text = fmt::format("{}\n", position);
  const bool ok = write_all(fd, text.data(), text.size()) && (!options_.fsync || ::fdatasync(fd) == 0);
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), (options_.dir + "/ack").c_str()) != 0) {
    return fail(ErrorCode::kInternal, fmt::format("export spool: cannot update '{}/ack': {}", options_.dir, errno_text()));
  }
  return true;
}

Result<bool> Spool::ack(uint64_t position) {
  if (auto ok = write_ack(position); !ok) return ok;
  std::vector<uint64_t> done;
  {
    std::lock_guard lock(mu_);
    ack_ = std::max(ack_, position);
    for (auto it = segments_.begin(); it != segments_.end();) {
      const bool active = std::next(it) == segments_.end();
      // The segment being appended to goes too once everything in it is delivered: the next
      // append starts a new one, so an idle spool holds no files.
      if (it->first + it->second.size > ack_ || (active && write_end_ > ack_)) break;
      if (it->second.fd >= 0) ::close(it->second.fd);
      done.push_back(it->first);
      it = segments_.erase(it);
    }
  }
  for (uint64_t base : done) ::unlink(segment_path(base).c_str());
  return true;
}

uint64_t Spool::pending_bytes() const {
  std::lock_guard lock(mu_);
  return write_end_ - ack_;
}

uint64_t Spool::disk_bytes() const {
  std::lock_guard lock(mu_);
  return disk_bytes_locked();
}

uint64_t Spool::disk_bytes_locked() const {
  uint64_t total = 0;
  for (const auto& [base, seg] : segments_) total += seg.size;
  return total;
}

std::string Spool::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

}  // namespace sy::exports
