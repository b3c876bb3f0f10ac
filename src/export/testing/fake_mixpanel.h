#pragma once
// A fake of Mixpanel's Import API (tests only) that holds every request to the rules the
// real one enforces, and de-duplicates events as Mixpanel does.
//
//   FakeMixpanel mixpanel({.username = "sa", .secret = "s3cret", .project_id = "42"});
//   options.base_url = mixpanel.url();   ...
//   ASSERT_TRUE(mixpanel.wait_for_events(1000, 10s));  EXPECT_THAT(mixpanel.violations(), IsEmpty());
//
// Checked per request: POST /import?strict=1 (and project_id for a service account), Basic
// auth, content-type, gzip, a JSON array of 1..2000 events and at most 10 MB uncompressed;
// per event: `event`, `properties` with integer ms `time`, a valid `distinct_id` and a
// `$insert_id` of 1..36 [A-Za-z0-9-]. Events whose request_id starts with "bad" are refused
// the way strict mode does (400, failed_records), the others imported.

#include <boost/json/object.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "export/testing/fakes.h"

namespace sy::exports::testing {

struct FakeMixpanelOptions {
  std::string username;      // service account, or the project token with an empty secret
  std::string secret;
  std::string project_id;    // expected in the query when set; absent when not
};

class FakeMixpanel {
 public:
  explicit FakeMixpanel(FakeMixpanelOptions options);
  ~FakeMixpanel();
  std::string url() const { return server_->url(); }

  // The next `count` requests get `status` (with Retry-After when given) and are not imported.
  void fail_next(int count, int status, std::string retry_after = "");
  // Requests from the `from_request`-th on (counting from 1) are held this long after they
  // are imported, before the answer.
  void set_delay(std::chrono::milliseconds delay, size_t from_request = 1);

  size_t requests() const;
  size_t max_batch() const;
  std::vector<std::string> violations() const;
  std::map<std::string, size_t> insert_ids() const;  // imported copies per $insert_id
  std::vector<boost::json::object> events() const;   // the first copy of each imported event
  bool wait_for_events(size_t unique, std::chrono::milliseconds timeout) const;
  bool wait_for_requests(size_t n, std::chrono::milliseconds timeout) const;

  struct State;

 private:
  std::shared_ptr<State> state_;
  std::unique_ptr<FakeServer> server_;
};

}  // namespace sy::exports::testing
