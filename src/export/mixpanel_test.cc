// The Mixpanel exporter against an in-process fake of the Import API.
#include "export/mixpanel.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <limits>

#include "export/testing/fake_mixpanel.h"

namespace sy::exports {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using ::testing::IsEmpty;
using testing::FakeMixpanel;
using testing::make_outcome;
using testing::make_record;
using testing::make_records;

class MixpanelTest : public testing::TempDirTest {
 protected:
  MixpanelOptions options(const FakeMixpanel& fake) const {
    MixpanelOptions o;
    o.service_account_username = "exporter.sa";
    o.service_account_secret = "s3cret";
    o.project_id = "4242";
    o.base_url = fake.url();
    o.spool.dir = dir_;
    o.sender = testing::fast_sender();
    o.http = testing::test_http();
    return o;
  }
  static std::unique_ptr<Exporter> make(MixpanelOptions o) { return testing::expect_made(make_mixpanel_exporter(std::move(o))); }
};

testing::FakeMixpanelOptions service_account() { return {.username = "exporter.sa", .secret = "s3cret", .project_id = "4242"}; }

TEST(MixpanelIds, InsertIdsFitMixpanelsRules) {
  EXPECT_EQ(mixpanel_insert_id("req_01JD3K8Z4X7Q2M9N5P6R7S8T9V"), "req-01JD3K8Z4X7Q2M9N5P6R7S8T9V");
  EXPECT_EQ(mixpanel_insert_id("evt-42"), "evt-42");
  for (std::string_view id : {"a.b/c", "", "x-very-long-id-that-is-longer-than-thirty-six-characters", "ünïcode"}) {
    const std::string mapped = mixpanel_insert_id(id);
    EXPECT_TRUE(testing::valid_mixpanel_insert_id(mapped)) << id << " → " << mapped;
    EXPECT_EQ(mapped, mixpanel_insert_id(id));  // stable
  }
  EXPECT_NE(mixpanel_insert_id("a.b"), mixpanel_insert_id("a,b"));
}

TEST(MixpanelIds, DistinctIdAvoidsPlaceholders) {
  EXPECT_EQ(mixpanel_distinct_id("alice", "key-1"), "alice");
  EXPECT_EQ(mixpanel_distinct_id("", "key-1"), "key-1");
  EXPECT_EQ(mixpanel_distinct_id("Anonymous", "key-1"), "key-1");
  EXPECT_EQ(mixpanel_distinct_id("null", ""), "");
  EXPECT_EQ(mixpanel_distinct_id("", ""), "");
  EXPECT_EQ(mixpanel_distinct_id(std::string(300, 'u'), "").size(), 64u);
}

TEST(MixpanelEvents, RequestEventCarriesEveryFieldFlat) {
  auto text = mixpanel_request_event(make_record(8), {});
  ASSERT_TRUE(text) << text.error().message;
  const json::object e = json::parse(*text).as_object();
  EXPECT_EQ(e.at("event"), "llm_request");
  const json::object& p = e.at("properties").as_object();
  EXPECT_EQ(p.at("time"), 1'714'566'896'008);
  EXPECT_EQ(p.at("distinct_id"), "user-1");
  EXPECT_EQ(p.at("$insert_id"), "req-00000000000000000000000008");
  EXPECT_EQ(p.at("request_id"), "req_00000000000000000000000008");
  EXPECT_EQ(p.at("router"), "support");
  EXPECT_EQ(p.at("model"), "openai/gpt-4o-mini");
  EXPECT_EQ(p.at("tokens_cached"), 64);
  EXPECT_TRUE(p.at("ttft_ms").is_null());  // -1: unknown
  ASSERT_EQ(p.at("attempts").as_array().size(), 2u);
  EXPECT_EQ(p.at("attempts").as_array()[0].as_object().at("status"), 529);
  EXPECT_EQ(p.at("metadata"), json::parse(R"({"team":"growth","tier":2})"));
  EXPECT_FALSE(p.contains("time_ms"));
  EXPECT_FALSE(p.contains("request_body"));  // bodies never go to Mixpanel
}

TEST(MixpanelEvents, UnparseableMetadataAndNonFiniteNumbersStillRender) {
  auto r = make_record(2);
  r.metadata_json = "{not json";
  r.cost_usd = std::numeric_limits<double>::quiet_NaN();
  auto text = mixpanel_request_event(r, {});
  ASSERT_TRUE(text);
  const json::value event = json::parse(*text);
  const json::object& p = event.at("properties").as_object();
  EXPECT_EQ(p.at("metadata"), "{not json");  // kept, as a string
  EXPECT_EQ(p.at("cost_usd").to_number<double>(), 0.0);
  auto e = make_outcome(1);
  e.value = std::numeric_limits<double>::infinity();
  auto outcome = mixpanel_outcome_event(e, {});
  ASSERT_TRUE(outcome);
  EXPECT_TRUE(json::parse(*outcome).at("properties").at("value").is_null());
}

TEST(MixpanelEvents, OutcomeEventIsNamedAfterTheOutcome) {
  auto text = mixpanel_outcome_event(make_outcome(3), {});
  ASSERT_TRUE(text);
  const json::object e = json::parse(*text).as_object();
  EXPECT_EQ(e.at("event"), "outcome:csat");
  const json::object& p = e.at("properties").as_object();
  EXPECT_EQ(p.at("value").to_number<double>(), 4.0);
  EXPECT_EQ(p.at("request_id"), "req_00000000000000000000000003");
  EXPECT_EQ(p.at("$insert_id"), "evt-00000003");
  EXPECT_EQ(p.at("time"), 1'714'566'999'003);
}

TEST(MixpanelEvents, OversizedEventLosesFreeTextOrIsRefused) {
  auto r = make_record(1);
  r.reason = std::string(1'200'000, 'r');
  auto text = mixpanel_request_event(r, {});
  ASSERT_TRUE(text);
  EXPECT_LT(text->size(), kMixpanelMaxEventBytes);
  EXPECT_EQ(json::parse(*text).at("properties").at("truncated"), true);
  r.route = std::string(1'200'000, 'x');
  EXPECT_FALSE(mixpanel_request_event(r, {}));
}

TEST_F(MixpanelTest, OptionsAreChecked) {
  MixpanelOptions o;
  o.spool.dir = dir_;
  EXPECT_FALSE(make_mixpanel_exporter(o));  // no credentials
  o.service_account_username = "sa";
  EXPECT_FALSE(make_mixpanel_exporter(o));  // no secret, no project_id
  o = {};
  o.spool.dir = dir_;
  o.project_token = "tok";
  o.batch_events = 2001;
  EXPECT_FALSE(make_mixpanel_exporter(o));
  o.batch_events = 2000;
  o.region = "mars";
  EXPECT_FALSE(make_mixpanel_exporter(o));
  EXPECT_EQ(*mixpanel_base_url("eu"), "https://api-eu.mixpanel.com");
  EXPECT_EQ(*mixpanel_base_url("in"), "https://api-in.mixpanel.com");
}

TEST_F(MixpanelTest, ServiceAccountDeliversEveryEventInBatchesOfAtMost2000) {
  FakeMixpanel fake(service_account());
  MixpanelOptions o = options(fake);
  o.sender.flush_interval = std::chrono::hours(1);  // only a full batch, or stop(), sends
  auto exporter = make(o);
  for (size_t i = 0; i < 9; ++i) exporter->submit(make_records(i * 500, 500));
  std::vector<telemetry::OutcomeEvent> outcomes;
  for (size_t i = 0; i < 10; ++i) outcomes.push_back(make_outcome(i));
  exporter->submit_outcomes(outcomes);
  exporter->stop(20s);
  EXPECT_EQ(fake.events().size(), 4510u);
  EXPECT_THAT(fake.violations(), IsEmpty());
  EXPECT_EQ(fake.max_batch(), kMixpanelMaxEvents);  // the first wake-up finds a full batch
  const ExportStats s = exporter->stats();
  EXPECT_EQ(s.submitted, 4510u);
  EXPECT_EQ(s.sent, 4510u);
  EXPECT_EQ(s.failed + s.dropped, 0u);
  EXPECT_EQ(s.spooled_bytes, 0u);
}

TEST_F(MixpanelTest, ProjectTokenIsTheBasicAuthUsername) {
  FakeMixpanel fake({.username = "proj-token-123", .secret = "", .project_id = ""});
  MixpanelOptions o = options(fake);
  o.service_account_username.clear();
  o.project_token = "proj-token-123";
  auto exporter = make(o);
  exporter->submit(make_records(0, 10));
  ASSERT_TRUE(fake.wait_for_events(10, 10s));
  EXPECT_THAT(fake.violations(), IsEmpty());
}

TEST_F(MixpanelTest, RetriesOn429And5xxHonouringRetryAfter) {
  FakeMixpanel fake(service_account());
  fake.fail_next(2, 429, "1");
  auto exporter = make(options(fake));
  const auto start = std::chrono::steady_clock::now();
  exporter->submit(make_records(0, 50));
  ASSERT_TRUE(fake.wait_for_events(50, 20s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 2s);  // two Retry-After: 1
  fake.fail_next(3, 503);
  exporter->submit(make_records(50, 50));
  ASSERT_TRUE(fake.wait_for_events(100, 20s));
  exporter->stop(5s);
  const ExportStats s = exporter->stats();
  EXPECT_EQ(s.sent, 100u);
  EXPECT_EQ(s.retries, 5u);
  EXPECT_NE(s.last_error.find("503"), std::string::npos) << s.last_error;
  EXPECT_EQ(s.last_error.find("s3cret"), std::string::npos);
  EXPECT_THAT(fake.violations(), IsEmpty());
}

TEST_F(MixpanelTest, RefusedEventsAreCountedAndTheRestImported) {
  FakeMixpanel fake(service_account());
  auto exporter = make(options(fake));
  auto batch = make_records(0, 20);
  auto bad = make_records(100, 5, "bad_");
  batch.insert(batch.end(), bad.begin(), bad.end());
  exporter->submit(batch);
  ASSERT_TRUE(fake.wait_for_events(20, 10s));
  exporter->stop(5s);
  const ExportStats s = exporter->stats();
  EXPECT_EQ(s.sent, 20u);
  EXPECT_EQ(s.failed, 5u);
  EXPECT_EQ(s.spooled_bytes, 0u);  // skipped, not retried forever
  EXPECT_NE(s.last_error.find("400"), std::string::npos);
}

TEST_F(MixpanelTest, OtherClientErrorsSkipTheBatch) {
  FakeMixpanel fake(service_account());
  fake.fail_next(1, 403);
  auto first = make(options(fake));
  first->submit(make_records(0, 7));
  first->stop(5s);
  EXPECT_EQ(first->stats().failed, 7u);
  EXPECT_NE(first->stats().last_error.find("403"), std::string::npos);
  first.reset();
  auto exporter = make(options(fake));  // the same spool: the skipped batch is not sent again
  exporter->submit(make_records(7, 3));
  ASSERT_TRUE(fake.wait_for_events(3, 10s));
  exporter->stop(5s);
  EXPECT_EQ(exporter->stats().sent, 3u);
  EXPECT_EQ(fake.insert_ids().count("req-00000000000000000000000001"), 0u);
}

TEST_F(MixpanelTest, TooLargeBatchIsSplit) {
  FakeMixpanel fake(service_account());
  fake.fail_next(1, 413);
  auto exporter = make(options(fake));
  exporter->submit(make_records(0, 40));
  ASSERT_TRUE(fake.wait_for_events(40, 10s));
  exporter->stop(5s);
  EXPECT_EQ(exporter->stats().sent, 40u);
  EXPECT_EQ(exporter->stats().failed, 0u);
}

TEST_F(MixpanelTest, StopFlushesWhatIsSpooled) {
  FakeMixpanel fake(service_account());
  MixpanelOptions o = options(fake);
  o.sender.flush_interval = std::chrono::hours(1);
  auto exporter = make(o);
  exporter->submit(make_records(0, 10));
  EXPECT_EQ(fake.requests(), 0u);  // a partial batch waits for the interval
  exporter->stop(5s);
  EXPECT_EQ(fake.events().size(), 10u);
  EXPECT_EQ(exporter->stats().spooled_bytes, 0u);
}

TEST_F(MixpanelTest, FullSpoolDropsAndCountsWithoutBlocking) {
  FakeMixpanel fake(service_account());
  MixpanelOptions o = options(fake);
  o.base_url = "http://127.0.0.1:1";  // nothing listens: every send fails
  o.spool.max_bytes = 16 * 1024;
  auto exporter = make(o);
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < 10; ++i) exporter->submit(make_records(i * 10, 10));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);  // not held up by the failing sends
  const ExportStats s = exporter->stats();
  EXPECT_EQ(s.submitted + s.dropped, 100u);
  EXPECT_GT(s.dropped, 50u);
  EXPECT_GT(s.spooled_bytes, 0u);
  exporter->stop(100ms);
}

TEST_F(MixpanelTest, DestinationDownKeepsItemsForTheNextStart) {
  FakeMixpanel fake(service_account());
  MixpanelOptions o = options(fake);
  o.base_url = "http://127.0.0.1:1";
  auto exporter = make(o);
  exporter->submit(make_records(0, 30));
  const auto start = std::chrono::steady_clock::now();
  exporter->stop(200ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_GT(exporter->stats().retries, 0u);
  EXPECT_NE(exporter->stats().last_error.find("mixpanel"), std::string::npos);
  exporter.reset();  // releases the spool
  exporter = make(options(fake));  // the same spool, the destination back
  ASSERT_TRUE(fake.wait_for_events(30, 10s));
  exporter->stop(5s);
}

// A crash while a batch is in flight: the next exporter on the same spool sends what was not
// acknowledged; after Mixpanel's de-duplication every event is there exactly once.
TEST_F(MixpanelTest, RestartDuringExportLosesNothing) {
  constexpr size_t kRecords = 3000;
  constexpr size_t kBatch = 200;
  FakeMixpanel fake(service_account());
  fake.set_delay(std::chrono::seconds(10), 2);  // the second request is held: the crash comes first
  MixpanelOptions o = options(fake);
  o.batch_events = kBatch;
  {
    auto exporter = make(o);
    for (size_t i = 0; i < kRecords / 500; ++i) exporter->submit(make_records(i * 500, 500));
    ASSERT_TRUE(fake.wait_for_requests(2, 10s));  // one answered, the second imported and held
  }  // destroyed without stop(): the batch in flight is abandoned
  fake.set_delay(0ms);
  auto exporter = make(o);
  ASSERT_TRUE(fake.wait_for_events(kRecords, 30s)) << fake.events().size();
  exporter->stop(5s);

  const auto ids = fake.insert_ids();
  EXPECT_EQ(ids.size(), kRecords);
  size_t copies = 0;
  for (size_t i = 0; i < kRecords; ++i) {
    auto it = ids.find(mixpanel_insert_id(make_record(i).id));
    ASSERT_NE(it, ids.end()) << "lost record " << i;
    copies += it->second;
  }
  EXPECT_GT(copies - kRecords, 0u);       // the batch in flight at the crash was sent again,
  EXPECT_LE(copies - kRecords, kBatch);   // and nothing else
  EXPECT_EQ(fake.events().size(), kRecords);
  EXPECT_THAT(fake.violations(), IsEmpty());
}

}  // namespace
}  // namespace sy::exports
