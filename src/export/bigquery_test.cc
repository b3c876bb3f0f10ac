// The BigQuery exporter against in-process fakes of Google's token endpoint and BigQuery.
#include "export/bigquery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "export/testing/fake_google.h"

namespace sy::exports {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using ::testing::IsEmpty;
using testing::FakeGoogle;
using testing::make_outcome;
using testing::make_record;
using testing::make_records;

constexpr const char* kEmail = "switchyard-export@proj-1.iam.gserviceaccount.com";

const testing::RsaKeyPair& key_pair() {
  static const testing::RsaKeyPair pair = testing::generate_rsa_key();
  return pair;
}


std::map<std::string, std::string> both_schemas() {
  return {{"requests", bigquery_requests_schema()}, {"outcomes", bigquery_outcomes_schema()}};
}

class BigQueryTest : public testing::TempDirTest {
 protected:
  static std::unique_ptr<FakeGoogle> fake(std::map<std::string, std::string> schemas = both_schemas()) {
    return std::make_unique<FakeGoogle>(testing::FakeGoogleOptions{
        .client_email = kEmail, .public_key_pem = key_pair().public_pem, .project = "proj-1", .dataset = "switchyard",
        .schemas = std::move(schemas)});
  }
  BigQueryOptions options(const FakeGoogle& google) const {
    json::object key{{"type", "service_account"},      {"project_id", "proj-1"},
                     {"private_key_id", "k1"},         {"private_key", key_pair().private_pem},
                     {"client_email", kEmail},         {"token_uri", google.url() + "/token"}};
    BigQueryOptions o;
    o.credentials_json = json::serialize(key);
    o.dataset = "switchyard";
    o.base_url = google.url();
    o.spool.dir = dir_;
    o.sender = testing::fast_sender();
    o.http = testing::test_http();
    return o;
  }
  static std::unique_ptr<Exporter> make(BigQueryOptions o) { return testing::expect_made(make_bigquery_exporter(std::move(o))); }
};

TEST(BigQueryRows, RequestRowFollowsTheSchema) {
  auto text = bigquery_request_row(make_record(4), {});
  ASSERT_TRUE(text) << text.error().message;
  const json::object row = json::parse(*text).as_object();
  EXPECT_EQ(row.at("insertId"), "req_00000000000000000000000004");
  const json::object& j = row.at("json").as_object();
  EXPECT_EQ(j.at("time"), "2024-05-01 12:34:56.004 UTC");
  EXPECT_EQ(j.at("request_id"), "req_00000000000000000000000004");
  EXPECT_TRUE(j.at("user").is_null());  // every fifth record has no user
  EXPECT_TRUE(j.at("error_class").is_null());
  EXPECT_EQ(json::parse(j.at("metadata").as_string()), json::parse(R"({"team":"growth","tier":2})"));
  EXPECT_EQ(j.at("attempts").as_array()[1].as_object().at("served"), true);
  EXPECT_TRUE(j.at("ttft_ms").is_null());
  EXPECT_FALSE(j.contains("time_ms"));

  // Every column of the row is in the schema, and every column of the schema in the row.
  std::set<std::string> columns;
  const json::value schema = json::parse(bigquery_requests_schema());
  for (const json::value& f : schema.as_array()) columns.insert(std::string(f.at("name").as_string()));
  std::set<std::string> keys;
  for (const auto& kv : j) keys.insert(std::string(kv.key()));
  EXPECT_EQ(keys, columns);
}

TEST(BigQueryRows, LongIdsAndBodiesAreCut) {
  auto r = make_record(1);
  r.id = std::string(200, 'i');
  r.request_body = std::string(10, 'a') + "\xc3\xa9";  // "é" must not be split
  BigQueryOptions o;
  o.max_body_bytes = 11;
  const json::object row = json::parse(*bigquery_request_row(r, o)).as_object();
  EXPECT_EQ(row.at("insertId").as_string().size(), 64u);  // SHA-256 of an id past 128 characters
  EXPECT_EQ(std::string(row.at("json").at("request_body").as_string()), std::string(10, 'a'));
  auto outcome = make_outcome(1);
  outcome.event_id.clear();
  EXPECT_EQ(json::parse(*bigquery_outcome_row(outcome, o)).at("insertId").as_string().size(), 64u);
}

TEST_F(BigQueryTest, StreamsRowsAndOutcomesToTheirTables) {
  auto google = fake();
  BigQueryOptions o = options(*google);
  o.sender.flush_interval = std::chrono::hours(1);  // only a full batch, or stop(), sends
  auto exporter = make(o);
  for (size_t i = 0; i < 6; ++i) exporter->submit(make_records(i * 200, 200));
  std::vector<telemetry::OutcomeEvent> outcomes;
  for (size_t i = 0; i < 30; ++i) outcomes.push_back(make_outcome(i));
  exporter->submit_outcomes(outcomes);
  exporter->stop(20s);
  EXPECT_EQ(google->rows("requests").size(), 1200u);
  EXPECT_EQ(google->rows("outcomes").size(), 30u);
  EXPECT_THAT(google->violations(), IsEmpty());
  EXPECT_EQ(google->max_batch(), kBigQueryMaxRows);  // the first wake-up finds a full batch
  EXPECT_EQ(google->token_requests(), 1u);  // cached for its lifetime
  const ExportStats s = exporter->stats();
  EXPECT_EQ(s.sent, 1230u);
  EXPECT_EQ(s.failed + s.dropped, 0u);
  EXPECT_EQ(google->rows("outcomes")[0].at("name"), "csat");
}

TEST_F(BigQueryTest, TokenIsRenewedBeforeItExpires) {
  auto google = fake();
  google->set_token_lifetime(std::chrono::seconds(100));  // within the refresh margin: renewed every time
  auto exporter = make(options(*google));
  exporter->submit(make_records(0, 10));
  ASSERT_TRUE(google->wait_for_rows("requests", 10, 10s));
  exporter->submit(make_records(10, 10));
  ASSERT_TRUE(google->wait_for_rows("requests", 20, 10s));
  exporter->stop(5s);
  EXPECT_EQ(google->token_requests(), google->insert_requests());
  EXPECT_THAT(google->violations(), IsEmpty());
}

TEST_F(BigQueryTest, RetriesOn5xx) {
  auto google = fake();
  google->fail_next_inserts(3, 503);
  auto exporter = make(options(*google));
  exporter->submit(make_records(0, 25));
  ASSERT_TRUE(google->wait_for_rows("requests", 25, 20s));
  exporter->stop(5s);
  EXPECT_EQ(exporter->stats().retries, 3u);
  EXPECT_EQ(exporter->stats().sent, 25u);
}

TEST_F(BigQueryTest, InvalidRowsAreCountedAndSkipped) {
  auto google = fake();
  auto exporter = make(options(*google));
  auto batch = make_records(0, 10);
  auto bad = make_records(50, 3, "bad_");
  batch.insert(batch.end(), bad.begin(), bad.end());
  exporter->submit(batch);
  ASSERT_TRUE(google->wait_for_rows("requests", 10, 10s));
  exporter->stop(5s);
  const ExportStats s = exporter->stats();
  EXPECT_EQ(s.sent, 10u);
  EXPECT_EQ(s.failed, 3u);
  EXPECT_NE(s.last_error.find("not inserted"), std::string::npos) << s.last_error;
  EXPECT_EQ(s.spooled_bytes, 0u);
}

TEST_F(BigQueryTest, MissingTableSkipsTheBatchWithTheError) {
  auto google = fake({});  // no tables
  auto exporter = make(options(*google));
  exporter->submit(make_records(0, 5));
  exporter->stop(5s);
  EXPECT_EQ(exporter->stats().failed, 5u);
  EXPECT_NE(exporter->stats().last_error.find("404"), std::string::npos);
}

TEST_F(BigQueryTest, CreateTablesSendsTheDocumentedSchema) {
  auto google = fake({});
  const BigQueryOptions o = options(*google);
  auto made = create_bigquery_tables(o);
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_TRUE(create_bigquery_tables(o));  // 409 Already Exists is fine
  EXPECT_THAT(google->violations(), IsEmpty());
  const auto created = google->created_tables();
  ASSERT_EQ(created.size(), 2u);
  EXPECT_EQ(created[0].at("tableReference"), json::parse(R"({"projectId":"proj-1","datasetId":"switchyard","tableId":"requests"})"));
  EXPECT_EQ(created[0].at("schema").at("fields"), json::parse(bigquery_requests_schema()));
  EXPECT_EQ(created[0].at("timePartitioning"), json::parse(R"({"type":"DAY","field":"time"})"));
  EXPECT_EQ(created[1].at("tableReference").at("tableId"), "outcomes");
  EXPECT_EQ(created[1].at("schema").at("fields"), json::parse(bigquery_outcomes_schema()));

  // Rows then go into the tables as created.
  auto exporter = make(o);
  exporter->submit(make_records(0, 3));
  exporter->submit_outcomes(std::vector<telemetry::OutcomeEvent>{make_outcome(0)});
  ASSERT_TRUE(google->wait_for_rows("requests", 3, 10s));
  ASSERT_TRUE(google->wait_for_rows("outcomes", 1, 10s));
  exporter->stop(5s);
  EXPECT_THAT(google->violations(), IsEmpty());
}

TEST_F(BigQueryTest, OptionsAreChecked) {
  auto google = fake();
  BigQueryOptions o = options(*google);
  o.dataset.clear();
  EXPECT_FALSE(make_bigquery_exporter(o));
  o = options(*google);
  o.batch_rows = 501;
  EXPECT_FALSE(make_bigquery_exporter(o));
  o = options(*google);
  o.credentials_json = R"({"client_email":"x"})";
  EXPECT_FALSE(make_bigquery_exporter(o));
}

TEST_F(BigQueryTest, RestartDuringExportLosesNothing) {
  constexpr size_t kRecords = 2000;
  constexpr size_t kBatch = 100;
  auto google = fake();
  google->set_delay(std::chrono::seconds(10), 2);  // the second insertAll is held: the crash comes first
  BigQueryOptions o = options(*google);
  o.batch_rows = kBatch;
  {
    auto exporter = make(o);
    for (size_t i = 0; i < kRecords / 500; ++i) exporter->submit(make_records(i * 500, 500));
    ASSERT_TRUE(google->wait_for_inserts(2, 10s));
  }  // a crash: the second insertAll is in flight
  google->set_delay(0ms);
  auto exporter = make(o);
  ASSERT_TRUE(google->wait_for_rows("requests", kRecords, 30s)) << google->rows("requests").size();
  exporter->stop(5s);

  const auto ids = google->insert_ids("requests");
  EXPECT_EQ(ids.size(), kRecords);
  size_t copies = 0;
  for (size_t i = 0; i < kRecords; ++i) {
    auto it = ids.find(make_record(i).id);
    ASSERT_NE(it, ids.end()) << "lost record " << i;
    copies += it->second;
  }
  EXPECT_GT(copies - kRecords, 0u);
  EXPECT_LE(copies - kRecords, kBatch);
  EXPECT_THAT(google->violations(), IsEmpty());
}

}  // namespace
}  // namespace sy::exports
