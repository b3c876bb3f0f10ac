#include "export/testing/fake_mixpanel.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <set>

#include "export/gzip.h"

namespace sy::exports::testing {
namespace json = boost::json;

struct FakeMixpanel::State {
  FakeMixpanelOptions options;
  mutable FakeLog log;
  int fail_count = 0;
  int fail_status = 0;
  std::string retry_after;
  std::chrono::milliseconds delay{0};
  size_t delay_from = 1;
  std::map<std::string, size_t> insert_ids;
  std::set<std::string> dedup_keys;  // Mixpanel's: event, distinct_id, time, $insert_id
  std::vector<json::object> events;
};

namespace {

const std::set<std::string>& placeholders() {
  static const std::set<std::string> kIds{"anon", "anonymous", "nil", "none", "null", "n/a", "undefined", "unknown",
                                          "00000000-0000-0000-0000-000000000000"};
  return kIds;
}

class Handler final : public http::Handler {
 public:
  explicit Handler(std::shared_ptr<FakeMixpanel::State> state) : state_(std::move(state)) {}

  http::Task<void> handle(http::Request& req, http::Response& res) override {
    FakeMixpanel::State& s = *state_;
    std::chrono::milliseconds delay{0};
    int status = 200;
    std::string answer;
    std::string retry_after;
    {
      std::lock_guard lock(s.log.mu);
      ++s.log.requests;
      if (s.log.requests >= s.delay_from) delay = s.delay;
      if (s.fail_count > 0) {
        --s.fail_count;
        status = s.fail_status;
        retry_after = s.retry_after;
        answer = fmt::format(R"({{"code":{},"error":"injected","status":"error"}})", status);
      } else {
        std::tie(status, answer) = import(req, s);
      }
      s.log.cv.notify_all();
    }
    if (delay.count() > 0) co_await sleep_for(req, delay);
    std::vector<http::Header> headers;
    if (!retry_after.empty()) headers.push_back({"retry-after", retry_after});
    co_await res.send(status, "application/json", answer, headers);
  }

  std::string error_body(const Error& e, std::string_view) const override { return e.message; }

 private:
  // Under the log's mutex.
  static std::pair<int, std::string> import(http::Request& req, FakeMixpanel::State& s) {
    FakeLog& log = s.log;
    const std::string query = query_of(req.target());
    if (req.method() != http::Method::kPost || req.path() != "/import") log.violate(fmt::format("{} {}", req.method_name(), req.target()));
    if (form_value(query, "strict") != "1") log.violate("no strict=1 in " + query);
    if (form_value(query, "project_id") != s.options.project_id) log.violate("project_id in the query: '" + query + "'");
    const std::string_view auth = req.header("authorization");
    if (!auth.starts_with("Basic ") || base64_decode(auth.substr(6)) != s.options.username + ":" + s.options.secret) {
      log.violate("authorization: " + std::string(auth));
      return {401, R"({"error":"Invalid credentials","status":0})"};
    }
    if (req.header("content-type") != "application/json") log.violate("content-type: " + std::string(req.header("content-type")));
    std::string body = req.body();
    if (req.header("content-encoding") == "gzip") {
      auto plain = gunzip(body, 64 << 20);
      if (!plain) {
        log.violate("body is not gzip");
        return {400, R"({"error":"bad gzip"})"};
      }
      body = std::move(*plain);
    } else {
      log.violate("body not gzipped");
    }
    if (body.size() > 10'000'000) {
      log.violate(fmt::format("{} bytes uncompressed", body.size()));
      return {413, R"({"code":413,"error":"request exceeds max limit","status":"Request Entity Too Large"})"};
    }
    std::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_array() || v.as_array().empty()) {
      log.violate("the body is not a non-empty JSON array");
      return {400, R"({"error":"bad body"})"};
    }
    const json::array& events = v.as_array();
    log.max_batch = std::max(log.max_batch, events.size());
    if (events.size() > 2000) log.violate(fmt::format("{} events in one request", events.size()));
    json::array failed;
    size_t imported = 0;
    for (size_t i = 0; i < events.size(); ++i) {
      if (!check_event(events[i], log)) continue;
      const json::object& e = events[i].as_object();
      const json::object& p = e.at("properties").as_object();
      const std::string insert_id(p.at("$insert_id").as_string());
      const json::value* rid = p.if_contains("request_id");
      if (rid != nullptr && rid->is_string() && rid->as_string().starts_with("bad")) {
        failed.push_back(json::object{{"index", i}, {"$insert_id", insert_id}, {"field", "properties.request_id"}, {"message", "refused"}});
        continue;
      }
      ++imported;
      const std::string key = fmt::format("{}|{}|{}|{}", e.at("event").as_string().c_str(), p.at("distinct_id").as_string().c_str(),
                                          p.at("time").as_int64(), insert_id);
      ++s.insert_ids[insert_id];
      if (s.dedup_keys.insert(key).second) s.events.push_back(e);
    }
    if (!failed.empty()) {
      return {400, json::serialize(json::object{{"code", 400}, {"num_records_imported", imported}, {"status", "Bad Request"},
                                                {"failed_records", std::move(failed)}})};
    }
    return {200, fmt::format(R"({{"code":200,"num_records_imported":{},"status":"OK"}})", imported)};
  }

  static bool check_event(const json::value& v, FakeLog& log) {
    const json::object* e = v.if_object();
    const json::value* name = e != nullptr ? e->if_contains("event") : nullptr;
    const json::value* props = e != nullptr ? e->if_contains("properties") : nullptr;
    if (name == nullptr || !name->is_string() || name->as_string().empty() || props == nullptr || !props->is_object()) {
      log.violate("event without a name or properties: " + json::serialize(v));
      return false;
    }
    if (json::serialize(v).size() >= 1'000'000) log.violate("an event of 1 MB or more");
    const json::object& p = props->as_object();
    const json::value* time = p.if_contains("time");
    const json::value* distinct = p.if_contains("distinct_id");
    const json::value* insert = p.if_contains("$insert_id");
    bool ok = true;
    if (time == nullptr || !time->is_int64() || time->as_int64() < 31'536'000'000) {
      log.violate("time is not integer unix ms: " + json::serialize(p));
      ok = false;
    }
    if (distinct == nullptr || !distinct->is_string() || distinct->as_string().size() > 255 ||
        placeholders().contains(std::string(distinct->as_string()))) {
      log.violate("bad distinct_id: " + json::serialize(p));
      ok = false;
    }
    if (insert == nullptr || !insert->is_string() || !valid_mixpanel_insert_id(insert->as_string())) {
      log.violate("bad $insert_id: " + (insert != nullptr ? json::serialize(*insert) : std::string("none")));
      ok = false;
    }
    return ok;
  }

  std::shared_ptr<FakeMixpanel::State> state_;
};

}  // namespace

FakeMixpanel::FakeMixpanel(FakeMixpanelOptions options) : state_(std::make_shared<State>()) {
  state_->options = std::move(options);
  server_ = std::make_unique<FakeServer>([state = state_] { return std::make_unique<Handler>(state); });
}

FakeMixpanel::~FakeMixpanel() = default;

void FakeMixpanel::fail_next(int count, int status, std::string retry_after) {
  std::lock_guard lock(state_->log.mu);
  state_->fail_count = count;
  state_->fail_status = status;
  state_->retry_after = std::move(retry_after);
}

void FakeMixpanel::set_delay(std::chrono::milliseconds delay, size_t from_request) {
  std::lock_guard lock(state_->log.mu);
  state_->delay = delay;
  state_->delay_from = from_request;
}

size_t FakeMixpanel::requests() const {
  std::lock_guard lock(state_->log.mu);
  return state_->log.requests;
}

size_t FakeMixpanel::max_batch() const {
  std::lock_guard lock(state_->log.mu);
  return state_->log.max_batch;
}

std::vector<std::string> FakeMixpanel::violations() const {
  std::lock_guard lock(state_->log.mu);
  return state_->log.violations;
}

std::map<std::string, size_t> FakeMixpanel::insert_ids() const {
  std::lock_guard lock(state_->log.mu);
  return state_->insert_ids;
}

std::vector<json::object> FakeMixpanel::events() const {
  std::lock_guard lock(state_->log.mu);
  return state_->events;
}

bool FakeMixpanel::wait_for_events(size_t unique, std::chrono::milliseconds timeout) const {
  return state_->log.wait([&] { return state_->events.size() >= unique; }, timeout);
}

bool FakeMixpanel::wait_for_requests(size_t n, std::chrono::milliseconds timeout) const {
  return state_->log.wait([&] { return state_->log.requests >= n; }, timeout);
}

}  // namespace sy::exports::testing
