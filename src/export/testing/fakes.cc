#include "export/testing/fakes.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <filesystem>
#include <fmt/format.h>
#include <stdexcept>

namespace sy::exports::testing {

FakeServer::FakeServer(std::function<std::unique_ptr<http::Handler>()> make_handler) {
  http::ServerOptions o;
  o.port = 0;
  o.workers = 1;
  o.limits.body_bytes = 64 << 20;
  o.limits.drain_timeout = std::chrono::milliseconds(500);
  server_ = std::make_unique<http::Server>(o, [make_handler](int) { return make_handler(); });
  auto port = server_->start();
  if (!port) throw std::runtime_error("fake server: " + port.error().message);
  url_ = "http://127.0.0.1:" + std::to_string(*port);
}

FakeServer::~FakeServer() {
  server_->drain();
  server_->wait();
}

namespace {
class TimerHook final : public http::CancelHook {
 public:
  explicit TimerHook(boost::asio::steady_timer& timer) : timer_(timer) {}
  void cancel() override { timer_.cancel(); }

 private:
  boost::asio::steady_timer& timer_;
};
}  // namespace

http::Task<void> sleep_for(http::Request& req, std::chrono::milliseconds d) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  TimerHook hook(timer);
  timer.expires_after(d);
  req.on_disconnect(&hook);
  co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  req.on_disconnect(nullptr);
}

std::string base64_decode(std::string_view text) {
  std::string s(text);
  for (char& c : s) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
  }
  while (s.size() % 4 != 0) s.push_back('=');
  std::string out(s.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(s.data()),
                                static_cast<int>(s.size()));
  if (n < 0) return {};
  out.resize(static_cast<size_t>(n));
  // EVP_DecodeBlock keeps the zero bytes that padding stands for.
  for (size_t i = s.size(); i > 0 && s[i - 1] == '='; --i) out.pop_back();
  return out;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string form_value(std::string_view form, std::string_view name) {
  while (!form.empty()) {
    const size_t amp = form.find('&');
    const std::string_view pair = form.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    form.remove_prefix(amp + 1);
  }
  return {};
}

std::string query_of(std::string_view target) {
  const size_t q = target.find('?');
  return q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
}

bool valid_mixpanel_insert_id(std::string_view id) {
  if (id.empty() || id.size() > 36) return false;
  for (char c : id) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-') return false;
  }
  return true;
}

bool valid_bigquery_timestamp(std::string_view text) {
  constexpr std::string_view kShape = "0000-00-00 00:00:00.000 UTC";
  if (text.size() != kShape.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool digit = std::isdigit(static_cast<unsigned char>(text[i])) != 0;
    if (kShape[i] == '0' ? !digit : text[i] != kShape[i]) return false;
  }
  return true;
}

telemetry::RequestRecord make_record(size_t i, std::string_view id_prefix) {
  telemetry::RequestRecord r;
  r.id = fmt::format("{}{:026}", id_prefix, i);
  r.time_ms = 1'714'566'896'000 + static_cast<int64_t>(i);
  r.key_id = "key-" + std::to_string(i % 3);
  r.user = i % 5 == 4 ? "" : "user-" + std::to_string(i % 7);
  r.endpoint = "chat.completions";
  r.dialect = "openai";
  r.router = "support";
  r.router_version = 3;
  r.route = "default";
  r.variant = i % 2 == 0 ? "a" : "b";
  r.reason = "route 'default' matched";
  r.requested_model = "switchyard/support";
  r.model = "openai/gpt-4o-mini";
  r.provider = "openai";
  r.attempts.push_back({"anthropic/claude-sonnet-4-5", "anthropic", 529, "upstream_overloaded", 0, 120, -1, false, 0, 0, 0});
  r.attempts.push_back({"openai/gpt-4o-mini", "openai", 200, "", 121, 800, 300, true, 120, 45, 0.00012});
  r.stream = true;
  r.status = 200;
  r.ttft_ms = i % 4 == 0 ? -1 : 421;
  r.latency_ms = 921;
  r.tokens_in = 120;
  r.tokens_out = 45;
  r.tokens_cached = 64;
  r.tokens_reasoning = 0;
  r.cost_usd = 0.00012;
  r.metadata_json = R"({"team":"growth","tier":2})";
  return r;
}

telemetry::OutcomeEvent make_outcome(size_t i) {
  telemetry::OutcomeEvent e;
  e.event_id = fmt::format("evt_{:08}", i);
  e.time_ms = 1'714'566'999'000 + static_cast<int64_t>(i);
  e.request_id = fmt::format("req_{:026}", i);
  e.user = "user-" + std::to_string(i % 7);
  e.router = "support";
  e.name = "csat";
  e.value = static_cast<double>(1 + i % 5);
  return e;
}

std::vector<telemetry::RequestRecord> make_records(size_t from, size_t n, std::string_view id_prefix) {
  std::vector<telemetry::RequestRecord> out;
  for (size_t i = from; i < from + n; ++i) out.push_back(make_record(i, id_prefix));
  return out;
}

std::unique_ptr<Exporter> expect_made(Result<std::unique_ptr<Exporter>> made) {
  EXPECT_TRUE(made) << made.error().message;
  return made ? std::move(*made) : nullptr;
}

SenderOptions fast_sender() {
  SenderOptions o;
  o.flush_interval = std::chrono::milliseconds(20);
  o.backoff_initial = std::chrono::milliseconds(10);
  o.backoff_max = std::chrono::milliseconds(100);
  return o;
}

http::ClientOptions test_http() {
  http::ClientOptions o;
  o.connect_timeout = std::chrono::seconds(2);
  o.read_timeout = std::chrono::seconds(10);
  return o;
}

void TempDirTest::TearDown() { std::filesystem::remove_all(dir_); }

RsaKeyPair generate_rsa_key() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  if (key == nullptr) throw std::runtime_error("RSA key generation failed");
  RsaKeyPair pair;
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  pair.private_pem.assign(data, static_cast<size_t>(n));
  BIO_free(bio);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  n = BIO_get_mem_data(bio, &data);
  pair.public_pem.assign(data, static_cast<size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pair;
}

std::string make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "sy-export-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

}  // namespace sy::exports::testing
