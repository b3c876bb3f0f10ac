#include "export/gzip.h"

#include <zlib.h>

#include "core/assert.h"

namespace sy::exports {
namespace {
constexpr int kGzipWindow = 15 + 16;  // 15-bit window, gzip header and trailer
constexpr size_t kChunk = 64 * 1024;
}  // namespace

std::string gzip(std::string_view data, int level) {
  z_stream z{};
  SY_RELEASE_ASSERT(deflateInit2(&z, level, Z_DEFLATED, kGzipWindow, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);  // deflateBound guarantees one call suffices
  SY_RELEASE_ASSERT(rc == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

Result<std::string> gunzip(std::string_view data, size_t max_bytes) {
  z_stream z{};
  if (inflateInit2(&z, kGzipWindow) != Z_OK) return fail(ErrorCode::kInternal, "gunzip: zlib init failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    const size_t old = out.size();
    if (old >= max_bytes) {
      inflateEnd(&z);
      return fail(ErrorCode::kPayloadTooLarge, "gunzip: the body inflates past the limit");
    }
    out.resize(std::min(old + kChunk, max_bytes));
    z.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    z.avail_out = static_cast<uInt>(out.size() - old);
    rc = inflate(&z, Z_NO_FLUSH);
    out.resize(out.size() - z.avail_out);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      return fail(ErrorCode::kInvalidRequest, "gunzip: not a valid gzip stream");
    }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      return fail(ErrorCode::kInvalidRequest, "gunzip: the gzip stream is truncated");
    }
  }
  inflateEnd(&z);
  return out;
}

}  // namespace sy::exports
