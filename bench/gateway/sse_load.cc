// sse_load: a load client for streamed chat completions (wrk cannot read SSE).
//
//   sse_load --port 8080 --model mock/gap-20ms/len-64 --streams 400 --concurrency 16
//   sse_load --port 8080 --model mock/gap-20ms/len-64 --hold 10000 --rss-pid 1234
//   ... --samples ttft.txt    # also append every TTFT sample (µs) to a file
//
// Closed loop (--concurrency C): C keep-alive connections, each running streams one after the
// other until --streams have run; measures time to first content frame and the gaps between
// frames. Hold (--hold N): opens N connections first, then sends every request at once, so N
// streams are in flight together; reports how many were held with no lost frame and no stall
// (a gap over 10x --pace-ms), and the peak RSS of the --rss-pid processes meanwhile.
//
// Prints one line of key=value pairs (times in microseconds) for bench/gateway/run.sh.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <sys/resource.h>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string path = "/v1/chat/completions";
  std::string model = "mock/gap-20ms/len-64";
  int streams = 100;
  int concurrency = 1;
  int hold = 0;
  int expect = 64;  // content frames per stream
  int pace_ms = 20;
  int connect_rate = 20'000;  // connections opened per second in hold mode
  std::vector<int> rss_pids;
  std::string samples;  // file to append the TTFT samples to, one per line (µs)
};

struct Stats {
  std::vector<int64_t> ttft_us;
  std::vector<int64_t> gap_us;
  long started = 0, completed = 0, failed = 0, lost_frames = 0, stalls = 0;
  int active = 0, max_active = 0;
  std::vector<long> rss_peak_kb;
  std::string first_error;
};

long rss_kb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::strtol(line.c_str() + 6, nullptr, 10);
    }
  }
  return -1;
}

int64_t micros(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

// One keep-alive connection that runs streamed requests and parses the chunked SSE answers.
class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(asio::io_context& io, const Options& o, Stats& s, const std::string& request, int streams)
      : socket_(io), o_(o), s_(s), request_(request), buf_(16 * 1024), remaining_(streams) {}

  // Connects; calls `ready` once connected (or failed).
  template <class F>
  void connect(const tcp::endpoint& ep, F ready) {
    socket_.async_connect(ep, [self = shared_from_this(), ready](boost::system::error_code ec) {
      if (!ec) {
        self->socket_.set_option(tcp::no_delay(true), ec);
      }
      if (ec) {
        self->fail("connect: " + ec.message());
      }
      ready(!ec);
    });
  }

  // Runs its streams one after the other.
  void run() { next(); }

 private:
  enum class State { kHead, kChunkSize, kChunkData, kChunkEnd, kDone };

  void next() {
    if (remaining_-- <= 0 || failed_) {
      return;
    }
    state_ = State::kHead;
    pending_.clear();
    events_.clear();
    frames_ = 0;
    seen_done_ = false;
    ++s_.started;
    sent_ = Clock::now();
    asio::async_write(socket_, asio::buffer(request_),
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        if (ec) {
                          return self->fail("write: " + ec.message());
                        }
                        self->read();
                      });
  }

  void read() {
    socket_.async_read_some(
        asio::buffer(buf_), [self = shared_from_this()](boost::system::error_code ec, size_t n) {
          if (ec) {
            return self->fail(ec == asio::error::eof ? "connection closed mid-stream"
                                                     : "read: " + ec.message());
          }
          self->feed(std::string_view(self->buf_.data(), n), Clock::now());
        });
  }

  void feed(std::string_view data, Clock::time_point now) {
    pending_.append(data);
    size_t pos = 0;
    for (;;) {
      if (state_ == State::kHead) {
        const size_t end = pending_.find("\r\n\r\n", pos);
        if (end == std::string::npos) {
          break;
        }
        const std::string_view head(pending_.data() + pos, end - pos);
        if (head.substr(0, 12) != "HTTP/1.1 200") {
          return fail(std::string(head.substr(0, head.find('\r'))));
        }
        if (head.find("chunked") == std::string_view::npos) {
          return fail("answer is not chunked");
        }
        pos = end + 4;
        state_ = State::kChunkSize;
      } else if (state_ == State::kChunkSize) {
        const size_t end = pending_.find("\r\n", pos);
        if (end == std::string::npos) {
          break;
        }
        size_t size = 0;
        std::from_chars(pending_.data() + pos, pending_.data() + end, size, 16);
        pos = end + 2;
        chunk_left_ = size;
        state_ = size == 0 ? State::kChunkEnd : State::kChunkData;
        if (size == 0) {
          last_chunk_ = true;
        }
      } else if (state_ == State::kChunkData) {
        const size_t take = std::min(chunk_left_, pending_.size() - pos);
        if (take == 0) {
          break;
        }
        sse(std::string_view(pending_.data() + pos, take), now);
        pos += take;
        chunk_left_ -= take;
        if (chunk_left_ == 0) {
          state_ = State::kChunkEnd;
        }
      } else if (state_ == State::kChunkEnd) {
        if (pending_.size() - pos < 2) {
          break;
        }
        pos += 2;
        if (last_chunk_) {
          last_chunk_ = false;
          pending_.erase(0, pos);
          return finish();
        }
        state_ = State::kChunkSize;
      }
    }
    pending_.erase(0, pos);
    read();
  }

  // Splits the event stream into events and times the content frames.
  void sse(std::string_view data, Clock::time_point now) {
    events_.append(data);
    size_t pos = 0;
    for (size_t end; (end = events_.find("\n\n", pos)) != std::string::npos; pos = end + 2) {
      const std::string_view event(events_.data() + pos, end - pos);
      if (event.substr(0, 12) == "data: [DONE]") {
        seen_done_ = true;
      } else if (event.find("\"delta\":{\"content\":") != std::string_view::npos) {
        if (frames_ == 0) {
          s_.ttft_us.push_back(micros(now - sent_));
          if (++s_.active > s_.max_active) {
            s_.max_active = s_.active;
          }
        } else {
          const int64_t gap = micros(now - last_frame_);
          s_.gap_us.push_back(gap);
          if (gap > 10'000LL * o_.pace_ms) {
            ++s_.stalls;
          }
        }
        last_frame_ = now;
        ++frames_;
      } else if (event.find("\"error\"") != std::string_view::npos) {
        if (s_.first_error.empty()) {
          s_.first_error = std::string(event.substr(0, 300));
        }
      }
    }
    events_.erase(0, pos);
  }

  void finish() {
    state_ = State::kDone;
    if (frames_ > 0) {
      --s_.active;
    }
    if (!seen_done_ || frames_ != o_.expect) {
      ++s_.failed;
      s_.lost_frames += std::max(0, o_.expect - frames_);
      if (s_.first_error.empty()) {
        s_.first_error = seen_done_ ? "frames missing" : "no [DONE]";
      }
    } else {
      ++s_.completed;
    }
    next();
  }

  void fail(const std::string& why) {
    if (failed_) {
      return;
    }
    failed_ = true;
    if (s_.first_error.empty()) {
      s_.first_error = why;
    }
    if (state_ != State::kDone) {  // a stream was in flight
      ++s_.failed;
      s_.lost_frames += std::max(0, o_.expect - frames_);
      if (frames_ > 0) {
        --s_.active;
      }
    }
    s_.failed += std::max(0, remaining_);  // streams this connection will not run
    remaining_ = 0;
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  tcp::socket socket_;
  const Options& o_;
  Stats& s_;
  const std::string& request_;
  std::vector<char> buf_;
  std::string pending_, events_;
  State state_ = State::kDone;
  size_t chunk_left_ = 0;
  bool last_chunk_ = false, seen_done_ = false, failed_ = false;
  int frames_ = 0, remaining_ = 0;
  Clock::time_point sent_, last_frame_;
};

int64_t percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) {
    return -1;
  }
  const auto k = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--host") {
      o.host = v;
    } else if (k == "--port") {
      o.port = static_cast<uint16_t>(std::atoi(v));
    } else if (k == "--path") {
      o.path = v;
    } else if (k == "--model") {
      o.model = v;
    } else if (k == "--streams") {
      o.streams = std::atoi(v);
    } else if (k == "--concurrency") {
      o.concurrency = std::atoi(v);
    } else if (k == "--hold") {
      o.hold = std::atoi(v);
    } else if (k == "--expect") {
      o.expect = std::atoi(v);
    } else if (k == "--pace-ms") {
      o.pace_ms = std::atoi(v);
    } else if (k == "--connect-rate") {
      o.connect_rate = std::atoi(v);
    } else if (k == "--samples") {
      o.samples = v;
    } else if (k == "--rss-pid") {
      o.rss_pids.push_back(std::atoi(v));
    } else {
      std::fprintf(stderr, "sse_load: unknown option %s\n", argv[i]);
      return false;
    }
  }
  return (argc % 2) == 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: sse_load --port P --model M (--streams N --concurrency C | --hold N) "
                 "[--rss-pid PID]\n");
    return 2;
  }
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);

  const std::string body =
      R"({"model":")" + o.model +
      R"(","stream":true,"messages":[{"role":"user","content":"Tell me a story about a switchyard."}]})";
  const std::string request =
      "POST " + o.path + " HTTP/1.1\r\nHost: " + o.host +
      "\r\nContent-Type: application/json\r\nAuthorization: Bearer bench\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  asio::io_context io(1);
  const tcp::endpoint ep(asio::ip::make_address(o.host), o.port);
  Stats s;
  s.rss_peak_kb.assign(o.rss_pids.size(), 0);
  const auto t0 = Clock::now();

  // RSS of the watched processes, sampled while streams are in flight.
  asio::steady_timer sampler(io);
  bool sampling = !o.rss_pids.empty();
  std::function<void()> sample = [&] {
    for (size_t i = 0; i < o.rss_pids.size(); ++i) {
      if (s.active > 0 || o.hold == 0) {
        s.rss_peak_kb[i] = std::max(s.rss_peak_kb[i], rss_kb(o.rss_pids[i]));
      }
    }
    if (!sampling) {
      return;
    }
    sampler.expires_after(std::chrono::milliseconds(50));
    sampler.async_wait([&](boost::system::error_code) { sample(); });
  };
  if (sampling) {
    sample();
  }

  // Hold: one stream per connection, every connection opened (paced) before any stream starts.
  // Closed loop: `concurrency` connections, each running its share of the streams in turn.
  const bool hold = o.hold > 0;
  const int connections = hold ? o.hold : o.concurrency;
  const int per_conn = hold ? 1 : o.streams / std::max(1, o.concurrency);
  const long total = static_cast<long>(per_conn) * connections;
  std::vector<std::shared_ptr<Conn>> conns;
  int connected = 0, done_connecting = 0;
  asio::steady_timer pacer(io);
  const int per_tick = hold ? std::max(1, o.connect_rate / 1000) : connections;
  std::function<void()> open_some = [&] {
    for (int k = 0; k < per_tick && static_cast<int>(conns.size()) < connections; ++k) {
      auto c = std::make_shared<Conn>(io, o, s, request, per_conn);
      conns.push_back(c);
      c->connect(ep, [&, c](bool ok) {
        connected += ok ? 1 : 0;
        ++done_connecting;
        if (!hold && ok) {
          c->run();
        } else if (hold && done_connecting == connections) {
          for (auto& conn : conns) {
            conn->run();
          }
        }
      });
    }
    if (static_cast<int>(conns.size()) < connections) {
      pacer.expires_after(std::chrono::milliseconds(1));
      pacer.async_wait([&](boost::system::error_code) { open_some(); });
    }
  };
  open_some();
  // Stop sampling when the last stream has ended.
  asio::steady_timer watch(io);
  std::function<void()> check = [&] {
    if (done_connecting == connections && s.completed + s.failed >= total) {
      sampling = false;
      return;
    }
    watch.expires_after(std::chrono::milliseconds(20));
    watch.async_wait([&](boost::system::error_code) { check(); });
  };
  check();
  io.run();
  if (connected < connections) {
    std::fprintf(stderr, "sse_load: %d of %d connections opened\n", connected, connections);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!o.samples.empty()) {
    std::ofstream out(o.samples, std::ios::app);
    for (const int64_t t : s.ttft_us) {
      out << t << '\n';
    }
  }

  std::printf(
      "streams=%ld completed=%ld failed=%ld lost_frames=%ld stalls=%ld max_concurrent=%d "
      "ttft_p50=%lld ttft_p99=%lld gap_p50=%lld gap_p99=%lld seconds=%.2f",
      s.started, s.completed, s.failed, s.lost_frames, s.stalls, s.max_active,
      static_cast<long long>(percentile(s.ttft_us, 0.50)),
      static_cast<long long>(percentile(s.ttft_us, 0.99)),
      static_cast<long long>(percentile(s.gap_us, 0.50)),
      static_cast<long long>(percentile(s.gap_us, 0.99)), seconds);
  for (size_t i = 0; i < o.rss_pids.size(); ++i) {
    std::printf(" rss_peak_kb_%d=%ld", o.rss_pids[i], s.rss_peak_kb[i]);
  }
  std::printf("\n");
  if (!s.first_error.empty()) {
    std::fprintf(stderr, "sse_load: first error: %s\n", s.first_error.c_str());
  }
  return s.failed == 0 ? 0 : 1;
}
