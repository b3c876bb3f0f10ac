#pragma once
// A fake of Google's OAuth token endpoint and of BigQuery's tabledata.insertAll and
// tables.insert (tests only), holding every request to the rules of the real APIs.
//
//   FakeGoogle google({.client_email = "sa@p.iam.gserviceaccount.com", .public_key_pem = pub,
//                      .project = "p", .dataset = "d"});
//   key.token_uri = google.url() + "/token";   options.base_url = google.url();
//   ASSERT_TRUE(google.wait_for_rows("requests", 1000, 10s));
//
// Token endpoint: a form with the JWT-bearer grant; the assertion's RS256 signature verified
// with the public key; claims iss, scope, aud (= the token URI), iat near now, exp - iat ≤ 1 h.
// insertAll: a Bearer token the endpoint issued (with the insertdata or bigquery scope), kind,
// 1..500 rows, ≤ 10 MB, a 1..128-character insertId per row, rows that match the table's
// schema; rows are de-duplicated by insertId. Rows whose request_id starts with "bad" come
// back in insertErrors (reason "invalid"). tables.insert needs the bigquery scope.

#include <boost/json/object.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "export/testing/fakes.h"

namespace sy::exports::testing {

struct FakeGoogleOptions {
  std::string client_email;
  std::string public_key_pem;   // verifies the assertions' signatures
  std::string project;
  std::string dataset;
  std::map<std::string, std::string> schemas = {};  // table → `fields` JSON; rows of other tables: 404
};

class FakeGoogle {
 public:
  explicit FakeGoogle(FakeGoogleOptions options);
  ~FakeGoogle();
  std::string url() const { return server_->url(); }

  void fail_next_inserts(int count, int status);
  // insertAll requests from the `from_request`-th on (counting from 1) are held this long
  // after their rows are stored, before the answer.
  void set_delay(std::chrono::milliseconds delay, size_t from_request = 1);
  void set_token_lifetime(std::chrono::seconds lifetime);

  size_t token_requests() const;
  size_t insert_requests() const;
  size_t max_batch() const;
  std::vector<std::string> violations() const;
  std::map<std::string, size_t> insert_ids(const std::string& table) const;   // stored copies per insertId
  std::vector<boost::json::object> rows(const std::string& table) const;      // first copy of each
  std::vector<boost::json::object> created_tables() const;                    // tables.insert bodies
  bool wait_for_rows(const std::string& table, size_t unique, std::chrono::milliseconds timeout) const;
  bool wait_for_inserts(size_t n, std::chrono::milliseconds timeout) const;

  struct State;

 private:
  std::shared_ptr<State> state_;
  std::unique_ptr<FakeServer> server_;
};

}  // namespace sy::exports::testing
