#pragma once
// Shared pieces of the in-process fakes of Mixpanel and Google (tests only): a loopback
// http::Server with one worker around a handler, the fakes' decoding helpers, and a
// wait-for-condition that wakes on every request instead of sleeping.
//
//   FakeServer server(std::make_unique<MyHandler>(state));   // state: shared with the test
//   Url: server.url()   →  "http://127.0.0.1:<port>"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "export/spooling_exporter.h"
#include "http/client.h"
#include "http/server.h"
#include "telemetry/record.h"

namespace sy::exports::testing {

// What a fake saw, guarded by one mutex; tests wait on it.
struct FakeLog {
  mutable std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> violations;  // every deviation from the real API's rules
  size_t requests = 0;
  size_t max_batch = 0;

  // Under `mu`: records a broken rule.
  void violate(std::string what) { violations.push_back(std::move(what)); }
  // Waits up to `timeout` for `done()` (called under `mu`) to hold.
  bool wait(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, done);
  }
};

class FakeServer {
 public:
  explicit FakeServer(std::function<std::unique_ptr<http::Handler>()> make_handler);
  ~FakeServer();
  std::string url() const { return url_; }

 private:
  std::unique_ptr<http::Server> server_;
  std::string url_;
};

// A handler's sleep on its worker's loop, cut short when the client goes away (a handler
// must not outlive the server's drain).
http::Task<void> sleep_for(http::Request& req, std::chrono::milliseconds d);

std::string base64_decode(std::string_view text);     // standard or URL alphabet, padding optional
std::string percent_decode(std::string_view text);    // form values: '+' is a space
// The value of `name` in "a=1&b=2" (percent-decoded), "" when absent.
std::string form_value(std::string_view form, std::string_view name);
std::string query_of(std::string_view target);        // after '?', "" when none
// Mixpanel's rule for $insert_id: 1..36 characters of [A-Za-z0-9-].
bool valid_mixpanel_insert_id(std::string_view id);
// "2024-05-01 12:34:56.789 UTC" (std::regex is avoided: GCC 12 warns inside it under ASan).
bool valid_bigquery_timestamp(std::string_view text);

// A record as the gateway would build it: id "req_..." unique per `i`, two attempts,
// metadata, a user for most and none for every fifth.
telemetry::RequestRecord make_record(size_t i, std::string_view id_prefix = "req_");
telemetry::OutcomeEvent make_outcome(size_t i);
std::vector<telemetry::RequestRecord> make_records(size_t from, size_t n, std::string_view id_prefix = "req_");

// The exporter, or nullptr after a test failure naming the error.
std::unique_ptr<Exporter> expect_made(Result<std::unique_ptr<Exporter>> made);

// Options for exporters under test: quick flushes and retries, short timeouts.
SenderOptions fast_sender();
http::ClientOptions test_http();

// A fresh RSA-2048 key pair in PEM: PKCS#8 private key (as Google's key files hold) and the
// SubjectPublicKeyInfo public key.
struct RsaKeyPair {
  std::string private_pem;
  std::string public_pem;
};
RsaKeyPair generate_rsa_key();

// A new empty directory under the system's temporary directory; removed by the caller.
std::string make_temp_dir();

// A test with a fresh directory in dir_ (removed afterwards), for spools and files.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir(); }
  void TearDown() override;
  std::string dir_;
};

}  // namespace sy::exports::testing
