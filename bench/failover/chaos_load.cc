// chaos_load: a load client for failover under injected faults (bench/failover/run.sh drives it).
//
//   chaos_load --port 8080 --model switchyard/chaos --requests 10000 --concurrency 32
//   chaos_load --port 8080 --model b/ttft-20ms/len-16 --requests 2000 --samples base.tsv
//
// Closed loop: C keep-alive connections each take the next of N streamed chat completions as
// soon as their last one ended; a connection the server closed, or that failed, is reopened for
// the next request. Per request it records:
//   - success: HTTP 200, a chunked SSE stream with at least one content delta that ends with
//     `data: [DONE]`, and no event carrying an "error" object;
//   - TTFT: request written → first event whose delta has non-empty "content";
//   - latency: request written → the last byte of the answer;
//   - attempts: the entries of `x-switchyard-attempts` (the gateway sends it only when more than
//     one attempt ran); a request with the header failed over.
//
// Prints one line of key=value pairs, times in microseconds, percentiles over the successful
// requests; `fo_` figures are those of the successful requests that failed over. Failure
// reasons go to stderr. Exits 0 when it ran (failures are a result, not an error of the tool).
// --samples appends one line per request: ok attempts ttft_us latency_us.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

using namespace asio::experimental::awaitable_operators;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string model = "switchyard/chaos";
  int requests = 1000;
  int concurrency = 16;
  int timeout_ms = 30'000;  // per request; the connection is closed when it passes
  std::string samples;
  std::string request;  // built from the above
};

struct Sample {
  bool ok = false;
  int attempts = 1;
  int64_t ttft_us = -1;
  int64_t latency_us = 0;
};

struct Run {
  int issued = 0;
  std::vector<Sample> samples;
  std::map<std::string, long> failures;  // reason → requests
  std::string first_failure;             // with detail (status line and body, or I/O error)
};

int64_t micros(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);  // header names: letters, digits and '-'
         });
}

// One keep-alive connection running one exchange at a time.
class Connection {
 public:
  Connection(asio::any_io_executor ex, const Options& o)
      : socket_(ex), watchdog_(ex), o_(o), endpoint_(asio::ip::make_address(o.host), o.port) {}

  // Runs one request; `reason` is empty on success, else why it failed.
  asio::awaitable<Sample> exchange(std::string* reason, std::string* detail) {
    reset();
    watchdog_.expires_after(std::chrono::milliseconds(o_.timeout_ms));
    sent_ = Clock::now();
    // The first to finish cancels the other.
    auto outcome = co_await (transact() || watchdog_.async_wait(asio::use_awaitable));
    const bool timed_out = outcome.index() == 1;
    const std::string io_error = timed_out ? std::string() : std::get<0>(std::move(outcome));
    Sample s;
    s.latency_us = micros(Clock::now() - sent_);
    s.attempts = attempts_;
    if (have_token_) {
      s.ttft_us = micros(first_token_ - sent_);
    }
    if (timed_out) {
      *reason = "timeout";
    } else if (!io_error.empty()) {
      *reason = io_error.substr(0, io_error.find(':'));
      *detail = io_error;
    } else if (status_ != 200) {
      *reason = "status-" + std::to_string(status_);
      *detail = status_line_ + " " + error_body_.substr(0, 300);
    } else if (error_event_) {
      *reason = "error event";
      *detail = error_body_.substr(0, 300);
    } else if (!done_) {
      *reason = "no [DONE]";
    } else if (!have_token_) {
      *reason = "no content";
    }
    s.ok = reason->empty();
    if (!s.ok || close_after_) {
      close();
    }
    co_return s;
  }

 private:
  void reset() {
    status_ = 0;
    attempts_ = 1;
    chunked_ = close_after_ = done_ = error_event_ = have_token_ = false;
    content_length_ = -1;
    status_line_.clear();
    error_body_.clear();
    events_.clear();
  }

  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
    in_.clear();
  }

  // Reads more bytes into in_; an empty string, or what went wrong.
  asio::awaitable<std::string> fill() {
    char buf[16 * 1024];
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf), kTuple);
    if (ec) {
      co_return ec == asio::error::eof
          ? std::string("closed: the server closed the connection mid-answer")
          : "read: " + ec.message();
    }
    in_.append(buf, n);
    co_return std::string();
  }

  // Writes the request and reads one whole answer; an empty string unless the I/O failed.
  asio::awaitable<std::string> transact() {
    if (!socket_.is_open()) {
      in_.clear();
      auto [ec] = co_await socket_.async_connect(endpoint_, kTuple);
      if (ec) {
        co_return "connect: " + ec.message();
      }
      socket_.set_option(tcp::no_delay(true), ec);
    }
    auto [ec, written] = co_await asio::async_write(socket_, asio::buffer(o_.request), kTuple);
    if (ec) {
      co_return "write: " + ec.message();
    }
    size_t end = 0;
    while ((end = in_.find("\r\n\r\n")) == std::string::npos) {
      if (std::string why = co_await fill(); !why.empty()) {
        co_return why;
      }
    }
    head(std::string_view(in_).substr(0, end + 2));
    in_.erase(0, end + 4);
    if (chunked_) {
      co_return co_await chunks();
    }
    if (content_length_ < 0) {  // delimited by the end of the connection
      close_after_ = true;
      while (co_await fill() == "") {
      }
      content_length_ = static_cast<long>(in_.size());
    }
    while (in_.size() < static_cast<size_t>(content_length_)) {
      if (std::string why = co_await fill(); !why.empty()) {
        co_return why;
      }
    }
    body(std::string_view(in_).substr(0, static_cast<size_t>(content_length_)));
    in_.erase(0, static_cast<size_t>(content_length_));
    co_return std::string();
  }

  // The chunked body: each chunk's data goes to body() as it arrives.
  asio::awaitable<std::string> chunks() {
    for (;;) {
      size_t eol = 0;
      while ((eol = in_.find("\r\n")) == std::string::npos) {
        if (std::string why = co_await fill(); !why.empty()) {
          co_return why;
        }
      }
      size_t size = 0;
      if (std::from_chars(in_.data(), in_.data() + eol, size, 16).ec != std::errc()) {
        co_return "framing: bad chunk size";
      }
      in_.erase(0, eol + 2);
      while (in_.size() < size + 2) {  // the data and its CRLF (no trailers after the last)
        if (std::string why = co_await fill(); !why.empty()) {
          co_return why;
        }
      }
      body(std::string_view(in_).substr(0, size));
      in_.erase(0, size + 2);
      if (size == 0) {
        co_return std::string();
      }
    }
  }

  void head(std::string_view h) {
    const size_t eol = h.find("\r\n");
    status_line_ = std::string(h.substr(0, eol));
    if (status_line_.size() >= 12) {
      std::from_chars(status_line_.data() + 9, status_line_.data() + 12, status_);
    }
    for (size_t pos = eol + 2; pos < h.size();) {
      const size_t next = h.find("\r\n", pos);
      const std::string_view line = h.substr(pos, next - pos);
      pos = next + 2;
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) {
        continue;
      }
      const std::string_view name = line.substr(0, colon);
      std::string_view value = line.substr(colon + 1);
      value.remove_prefix(std::min(value.find_first_not_of(' '), value.size()));
      if (iequals(name, "transfer-encoding")) {
        chunked_ = value.find("chunked") != std::string_view::npos;
      } else if (iequals(name, "content-length")) {
        std::from_chars(value.data(), value.data() + value.size(), content_length_);
      } else if (iequals(name, "connection")) {
        close_after_ = iequals(value, "close");
      } else if (iequals(name, "x-switchyard-attempts")) {
        attempts_ = 1 + static_cast<int>(std::count(value.begin(), value.end(), ','));
      }
    }
  }

  // Body bytes as they arrive: an error answer is kept for the report, a stream is scanned.
  void body(std::string_view data) {
    if (status_ != 200) {
      error_body_.append(data.substr(0, 400 - std::min<size_t>(400, error_body_.size())));
      return;
    }
    const Clock::time_point now = Clock::now();
    events_.append(data);
    size_t pos = 0;
    for (size_t end = 0; (end = events_.find("\n\n", pos)) != std::string::npos; pos = end + 2) {
      event(std::string_view(events_).substr(pos, end - pos), now);
    }
    events_.erase(0, pos);
  }

  void event(std::string_view e, Clock::time_point now) {
    if (e.starts_with("data: [DONE]")) {
      done_ = true;
    } else if (e.find("\"error\":") != std::string_view::npos) {  // only a key is followed by ':'
      error_event_ = true;
      if (error_body_.empty()) {
        error_body_ = std::string(e.substr(0, 300));
      }
    } else if (!have_token_) {
      const size_t delta = e.find("\"delta\":");
      const size_t content =
          e.find("\"content\":\"", delta == std::string_view::npos ? e.size() : delta);
      const size_t first = content + 11;  // the text's first byte
      if (content != std::string_view::npos && first < e.size() && e[first] != '"') {
        have_token_ = true;
        first_token_ = now;
      }
    }
  }

  tcp::socket socket_;
  asio::steady_timer watchdog_;
  const Options& o_;
  tcp::endpoint endpoint_;
  std::string in_;      // bytes read and not yet consumed
  std::string events_;  // SSE bytes not yet split into events
  std::string status_line_, error_body_;
  int status_ = 0, attempts_ = 1;
  long content_length_ = -1;
  bool chunked_ = false, close_after_ = false, done_ = false, error_event_ = false;
  bool have_token_ = false;
  Clock::time_point sent_, first_token_;
};

asio::awaitable<void> worker(const Options* o, Run* run) {
  Connection c(co_await asio::this_coro::executor, *o);
  while (run->issued < o->requests) {
    ++run->issued;
    std::string reason, detail;
    const Sample s = co_await c.exchange(&reason, &detail);
    run->samples.push_back(s);
    if (!s.ok) {
      ++run->failures[reason];
      if (run->first_failure.empty()) {
        run->first_failure = detail.empty() ? reason : detail;
      }
    }
  }
}

// Nearest-rank percentile of `v` (reordered); -1 when empty.
long long percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) {
    return -1;
  }
  const auto k = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<long long>(v[k]);
}

// The one line of key=value pairs on stdout, the failures on stderr.
void report(const Options& o, const Run& run, double seconds) {
  std::vector<int64_t> ttft, latency, fo_ttft, fo_latency;
  long ok = 0, failed_over = 0, attempts = 0;
  int max_attempts = 0;
  for (const Sample& s : run.samples) {
    attempts += s.attempts;
    max_attempts = std::max(max_attempts, s.attempts);
    failed_over += s.attempts > 1 ? 1 : 0;
    if (s.ok) {
      ++ok;
      (s.attempts > 1 ? fo_ttft : ttft).push_back(s.ttft_us);
      (s.attempts > 1 ? fo_latency : latency).push_back(s.latency_us);
    }
  }
  const auto fo_ok = static_cast<long>(fo_ttft.size());
  ttft.insert(ttft.end(), fo_ttft.begin(), fo_ttft.end());
  latency.insert(latency.end(), fo_latency.begin(), fo_latency.end());
  const auto n = static_cast<long>(run.samples.size());
  const double mean = n > 0 ? static_cast<double>(attempts) / static_cast<double>(n) : 0.0;
  std::printf(
      "n=%ld ok=%ld failed=%ld failed_over=%ld attempts_mean=%.3f max_attempts=%d "
      "ttft_p50=%lld ttft_p99=%lld latency_p50=%lld latency_p99=%lld fo_ok=%ld ",
      n, ok, n - ok, failed_over, mean, max_attempts, percentile(ttft, 0.50),
      percentile(ttft, 0.99), percentile(latency, 0.50), percentile(latency, 0.99), fo_ok);
  std::printf(
      "fo_ttft_p50=%lld fo_ttft_p99=%lld fo_latency_p50=%lld fo_latency_p99=%lld seconds=%.2f\n",
      percentile(fo_ttft, 0.50), percentile(fo_ttft, 0.99), percentile(fo_latency, 0.50),
      percentile(fo_latency, 0.99), seconds);
  if (!run.failures.empty()) {
    std::string list;
    for (const auto& [reason, count] : run.failures) {
      list += " " + reason + "=" + std::to_string(count);
    }
    std::fprintf(stderr, "chaos_load: %s: failed:%s; first: %s\n", o.model.c_str(), list.c_str(),
                 run.first_failure.c_str());
  }
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--host") {
      o.host = v;
    } else if (k == "--port") {
      o.port = static_cast<uint16_t>(std::atoi(v));
    } else if (k == "--model") {
      o.model = v;
    } else if (k == "--requests") {
      o.requests = std::atoi(v);
    } else if (k == "--concurrency") {
      o.concurrency = std::max(1, std::atoi(v));
    } else if (k == "--timeout-ms") {
      o.timeout_ms = std::atoi(v);
    } else if (k == "--samples") {
      o.samples = v;
    } else {
      std::fprintf(stderr, "chaos_load: unknown option %s\n", argv[i]);
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
                 "usage: chaos_load --port P --model M [--requests N] [--concurrency C] "
                 "[--timeout-ms MS] [--samples FILE]\n");
    return 2;
  }
  const std::string body =
      R"({"model":")" + o.model +
      R"(","stream":true,"messages":[{"role":"user","content":"Say hello to the switchyard."}]})";
  o.request =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: " + o.host +
      "\r\nContent-Type: application/json\r\nAuthorization: Bearer bench\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;

  asio::io_context io(1);
  Run run;
  run.samples.reserve(static_cast<size_t>(std::max(0, o.requests)));
  const auto t0 = Clock::now();
  for (int i = 0; i < std::min(o.concurrency, o.requests); ++i) {
    asio::co_spawn(io, worker(&o, &run), asio::detached);
  }
  io.run();
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!o.samples.empty()) {
    std::ofstream out(o.samples, std::ios::app);
    for (const Sample& s : run.samples) {
      out << (s.ok ? 1 : 0) << ' ' << s.attempts << ' ' << s.ttft_us << ' ' << s.latency_us << '\n';
    }
  }
  report(o, run, seconds);
  return 0;
}
