// The JSON-lines exporter writes one object per line, flushed per batch.
#include "export/jsonl.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>

#include "export/sink.h"
#include "export/testing/fakes.h"

namespace sy::exports {
namespace {

namespace json = boost::json;

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(Jsonl, OneObjectPerLineFlushedPerBatch) {
  const std::string dir = testing::make_temp_dir();
  const std::string path = dir + "/requests.jsonl";
  auto exporter = JsonlExporter::create({.path = path});
  ASSERT_TRUE(exporter) << exporter.error().message;
  std::vector<telemetry::RequestRecord> records{testing::make_record(0), testing::make_record(1)};
  records[1].request_body = "{\"messages\":[]}\n";
  (*exporter)->submit(records);
  EXPECT_EQ(lines_of(path).size(), 2u);  // on disk before submit returns
  (*exporter)->submit_outcomes(std::vector<telemetry::OutcomeEvent>{testing::make_outcome(7)});

  const auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 3u);
  const json::object first = json::parse(lines[0]).as_object();
  EXPECT_EQ(first.at("type"), "request");
  EXPECT_EQ(first.at("id"), "req_00000000000000000000000000");  // the /v1/logs shape
  EXPECT_EQ(first.at("time"), "2024-05-01T12:34:56.000Z");
  EXPECT_EQ(first.at("time_ms"), 1'714'566'896'000);
  EXPECT_TRUE(first.at("error_class").is_null());
  EXPECT_EQ(first.at("metadata"), json::parse(R"({"team":"growth","tier":2})"));
  EXPECT_EQ(first.at("attempts").as_array().size(), 2u);
  EXPECT_TRUE(first.at("ttft_ms").is_null());
  EXPECT_EQ(json::parse(lines[1]).at("request_body"), "{\"messages\":[]}\n");  // newlines escaped
  const json::object outcome = json::parse(lines[2]).as_object();
  EXPECT_EQ(outcome.at("type"), "outcome");
  EXPECT_EQ(outcome.at("event_id"), "evt_00000007");
  EXPECT_EQ(outcome.at("value").to_number<double>(), 3.0);

  (*exporter)->stop(std::chrono::milliseconds(0));
  const ExportStats s = (*exporter)->stats();
  EXPECT_EQ(s.submitted, 3u);
  EXPECT_EQ(s.sent, 3u);
  // Appends to an existing file.
  auto again = JsonlExporter::create({.path = path});
  (*again)->submit(records);
  (*again)->stop(std::chrono::milliseconds(0));
  EXPECT_EQ(lines_of(path).size(), 5u);
  std::filesystem::remove_all(dir);
}

TEST(Jsonl, FedByThePipelineSink) {
  const std::string dir = testing::make_temp_dir();
  auto exporter = make_jsonl_exporter({.path = dir + "/out.jsonl"});
  ASSERT_TRUE(exporter);
  ExporterSink sink(**exporter);
  telemetry::Sink& as_sink = sink;
  as_sink.write(testing::make_records(0, 4));
  as_sink.write_outcomes(std::vector<telemetry::OutcomeEvent>{testing::make_outcome(1)});
  EXPECT_EQ(lines_of(dir + "/out.jsonl").size(), 5u);
  EXPECT_EQ((*exporter)->stats().sent, 5u);
  std::filesystem::remove_all(dir);
}

TEST(Jsonl, UnwritablePathIsAConfigurationError) {
  auto exporter = JsonlExporter::create({.path = "/nonexistent-dir/requests.jsonl"});
  ASSERT_FALSE(exporter);
  EXPECT_NE(exporter.error().message.find("/nonexistent-dir/requests.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace sy::exports
