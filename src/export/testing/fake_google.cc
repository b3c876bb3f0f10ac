#include "export/testing/fake_google.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fmt/format.h>
#include <set>

namespace sy::exports::testing {
namespace json = boost::json;

struct FakeGoogle::State {
  FakeGoogleOptions options;
  std::string token_uri;
  mutable FakeLog log;
  size_t token_requests = 0;
  size_t insert_requests = 0;
  int fail_count = 0;
  int fail_status = 0;
  std::chrono::milliseconds delay{0};
  size_t delay_from = 1;
  std::chrono::seconds lifetime{3600};
  std::map<std::string, std::string> tokens;  // issued token → its scope
  std::map<std::string, std::map<std::string, size_t>> insert_ids;  // table → insertId → copies
  std::map<std::string, std::vector<json::object>> rows;
  std::vector<json::object> created;
};

namespace {

constexpr std::string_view kInsertScope = "https://www.googleapis.com/auth/bigquery.insertdata";
constexpr std::string_view kFullScope = "https://www.googleapis.com/auth/bigquery";

bool verify_rs256(std::string_view signing_input, std::string_view signature, const std::string& public_pem) {
  BIO* bio = BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                   reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

bool has_scope(std::string_view scopes, std::string_view wanted) {
  for (size_t start = 0; start <= scopes.size();) {
    const size_t end = std::min(scopes.find(' ', start), scopes.size());
    if (scopes.substr(start, end - start) == wanted) return true;
    start = end + 1;
  }
  return false;
}

std::string google_error(int code, std::string_view reason, std::string_view message) {
  return json::serialize(json::object{
      {"error", {{"code", code}, {"message", message}, {"errors", json::array{json::object{{"reason", reason}, {"message", message}}}}}}});
}

// Checks one value against a schema field; appends what is wrong to `problems`.
void check_value(const json::object& field, const json::value* v, const std::string& path, std::vector<std::string>& problems) {
  const std::string type(field.at("type").as_string());
  const json::value* mode_v = field.if_contains("mode");
  const std::string mode = mode_v != nullptr ? std::string(mode_v->as_string()) : "NULLABLE";
  if (v == nullptr || v->is_null()) {
    if (mode == "REQUIRED") problems.push_back(path + " is required");
    return;
  }
  if (mode == "REPEATED") {
    if (!v->is_array()) {
      problems.push_back(path + " is not an array");
      return;
    }
    json::object single = field;
    single["mode"] = "NULLABLE";
    for (const json::value& item : v->as_array()) check_value(single, &item, path + "[]", problems);
    return;
  }
  bool ok = true;
  if (type == "STRING") ok = v->is_string();
  else if (type == "INTEGER") ok = v->is_int64() || v->is_uint64();
  else if (type == "FLOAT") ok = v->is_number();
  else if (type == "BOOLEAN") ok = v->is_bool();
  else if (type == "TIMESTAMP") ok = v->is_string() && valid_bigquery_timestamp(v->as_string());
  else if (type == "JSON") {
    std::error_code ec;
    ok = v->is_string() && (json::parse(v->as_string(), ec), !ec);
  } else if (type == "RECORD") {
    if (!v->is_object()) {
      ok = false;
    } else {
      std::set<std::string> known;
      for (const json::value& sub : field.at("fields").as_array()) {
        const std::string name(sub.at("name").as_string());
        known.insert(name);
        check_value(sub.as_object(), v->as_object().if_contains(name), path + "." + name, problems);
      }
      for (const auto& kv : v->as_object()) {
        if (!known.contains(kv.key())) problems.push_back(path + "." + std::string(kv.key()) + " is not in the schema");
      }
    }
  }
  if (!ok) problems.push_back(fmt::format("{} is not a {}: {}", path, type, json::serialize(*v)));
}

class Handler final : public http::Handler {
 public:
  explicit Handler(std::shared_ptr<FakeGoogle::State> state) : state_(std::move(state)) {}

  http::Task<void> handle(http::Request& req, http::Response& res) override {
    FakeGoogle::State& s = *state_;
    std::chrono::milliseconds delay{0};
    std::pair<int, std::string> answer;
    {
      std::lock_guard lock(s.log.mu);
      ++s.log.requests;
      const std::string path(req.path());
      const std::string tables = fmt::format("/bigquery/v2/projects/{}/datasets/{}/tables", s.options.project, s.options.dataset);
      if (path == "/token") {
        answer = token(req, s);
      } else if (path == tables) {
        answer = create_table(req, s);
      } else if (path.starts_with(tables + "/") && path.ends_with("/insertAll")) {
        answer = insert_all(req, s, path.substr(tables.size() + 1, path.size() - tables.size() - 1 - 10));
        if (s.insert_requests >= s.delay_from) delay = s.delay;
      } else {
        s.log.violate("unexpected " + std::string(req.method_name()) + " " + path);
        answer = {404, google_error(404, "notFound", "no such path")};
      }
      s.log.cv.notify_all();
    }
    if (delay.count() > 0) co_await sleep_for(req, delay);
    co_await res.send(answer.first, "application/json", answer.second);
  }

  std::string error_body(const Error& e, std::string_view) const override { return e.message; }

 private:
  static std::pair<int, std::string> token(http::Request& req, FakeGoogle::State& s) {
    FakeLog& log = s.log;
    ++s.token_requests;
    if (req.method() != http::Method::kPost) log.violate("token: method " + std::string(req.method_name()));
    if (req.header("content-type") != "application/x-www-form-urlencoded") log.violate("token: content-type " + std::string(req.header("content-type")));
    if (form_value(req.body(), "grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer") log.violate("token: grant_type in " + req.body());
    const std::string jwt = form_value(req.body(), "assertion");
    const size_t dot1 = jwt.find('.');
    const size_t dot2 = jwt.find('.', dot1 == std::string::npos ? 0 : dot1 + 1);
    if (dot1 == std::string::npos || dot2 == std::string::npos) {
      log.violate("token: the assertion is not a JWT");
      return {400, R"({"error":"invalid_grant","error_description":"bad assertion"})"};
    }
    std::error_code ec;
    const json::value header = json::parse(base64_decode(jwt.substr(0, dot1)), ec);
    const json::value claims = json::parse(base64_decode(jwt.substr(dot1 + 1, dot2 - dot1 - 1)), ec);
    if (ec || !header.is_object() || !claims.is_object()) {
      log.violate("token: the JWT's parts are not JSON objects");
      return {400, R"({"error":"invalid_grant"})"};
    }
    if (header.at("alg") != "RS256" || header.at("typ") != "JWT") log.violate("token: JWT header " + json::serialize(header));
    if (!verify_rs256(std::string_view(jwt).substr(0, dot2), base64_decode(jwt.substr(dot2 + 1)), s.options.public_key_pem)) {
      log.violate("token: the RS256 signature does not verify");
      return {400, R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})"};
    }
    const json::object& c = claims.as_object();
    const auto str = [&](std::string_view k) { return c.contains(k) && c.at(k).is_string() ? std::string(c.at(k).as_string()) : ""; };
    const auto num = [&](std::string_view k) { return c.contains(k) && c.at(k).is_int64() ? c.at(k).as_int64() : int64_t{-1}; };
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (str("iss") != s.options.client_email) log.violate("token: iss " + str("iss"));
    if (str("aud") != s.token_uri) log.violate("token: aud " + str("aud") + ", want " + s.token_uri);
    if (str("scope").empty()) log.violate("token: no scope");
    if (std::abs(num("iat") - now) > 60) log.violate(fmt::format("token: iat {} is not now ({})", num("iat"), now));
    if (num("exp") <= num("iat") || num("exp") - num("iat") > 3600) log.violate("token: exp - iat not in (0, 3600]");
    const std::string issued = fmt::format("ya29.fake-{}", s.token_requests);
    s.tokens[issued] = str("scope");
    return {200, json::serialize(json::object{{"access_token", issued}, {"expires_in", s.lifetime.count()}, {"token_type", "Bearer"}})};
  }

  // The scope of the request's Bearer token, "" (and a violation) when it is not one issued.
  static std::string bearer_scope(http::Request& req, FakeGoogle::State& s) {
    const std::string_view auth = req.header("authorization");
    auto it = auth.starts_with("Bearer ") ? s.tokens.find(std::string(auth.substr(7))) : s.tokens.end();
    if (it == s.tokens.end()) {
      s.log.violate("authorization: '" + std::string(auth) + "' is not an issued token");
      return {};
    }
    return it->second;
  }

  static std::pair<int, std::string> create_table(http::Request& req, FakeGoogle::State& s) {
    const std::string scope = bearer_scope(req, s);
    if (!has_scope(scope, kFullScope)) {
      if (!scope.empty()) s.log.violate("tables.insert with scope " + scope);
      return {scope.empty() ? 401 : 403, google_error(403, "accessDenied", "needs the bigquery scope")};
    }
    std::error_code ec;
    json::value body = json::parse(req.body(), ec);
    const json::object* o = ec ? nullptr : body.if_object();
    const json::value* ref = o != nullptr ? o->if_contains("tableReference") : nullptr;
    const json::value* schema = o != nullptr ? o->if_contains("schema") : nullptr;
    if (ref == nullptr || !ref->is_object() || schema == nullptr || !schema->is_object() || !schema->as_object().contains("fields")) {
      s.log.violate("tables.insert body: " + req.body());
      return {400, google_error(400, "invalid", "bad table")};
    }
    const json::object& r = ref->as_object();
    if (r.at("projectId") != s.options.project.c_str() || r.at("datasetId") != s.options.dataset.c_str()) {
      s.log.violate("tables.insert reference: " + json::serialize(r));
    }
    const std::string table(r.at("tableId").as_string());
    if (s.options.schemas.contains(table)) return {409, google_error(409, "duplicate", "Already Exists: Table " + table)};
    s.options.schemas[table] = json::serialize(schema->as_object().at("fields"));
    s.created.push_back(*o);
    return {200, json::serialize(*o)};
  }

  static std::pair<int, std::string> insert_all(http::Request& req, FakeGoogle::State& s, const std::string& table) {
    FakeLog& log = s.log;
    ++s.insert_requests;
    const std::string scope = bearer_scope(req, s);
    if (scope.empty()) return {401, google_error(401, "authError", "Invalid Credentials")};
    if (!has_scope(scope, kInsertScope) && !has_scope(scope, kFullScope)) log.violate("insertAll with scope " + scope);
    if (s.fail_count > 0) {
      --s.fail_count;
      return {s.fail_status, google_error(s.fail_status, "backendError", "injected")};
    }
    auto schema_it = s.options.schemas.find(table);
    if (schema_it == s.options.schemas.end()) return {404, google_error(404, "notFound", "Not found: Table " + table)};
    if (req.body().size() > 10'000'000) log.violate(fmt::format("insertAll of {} bytes", req.body().size()));
    std::error_code ec;
    json::value body = json::parse(req.body(), ec);
    const json::object* o = ec ? nullptr : body.if_object();
    const json::value* rows = o != nullptr ? o->if_contains("rows") : nullptr;
    if (rows == nullptr || !rows->is_array() || rows->as_array().empty()) {
      log.violate("insertAll without rows");
      return {400, google_error(400, "invalid", "no rows")};
    }
    if (o->if_contains("kind") == nullptr || o->at("kind") != "bigquery#tableDataInsertAllRequest") log.violate("insertAll kind");
    log.max_batch = std::max(log.max_batch, rows->as_array().size());
    if (rows->as_array().size() > 500) log.violate(fmt::format("{} rows in one insertAll", rows->as_array().size()));
    const json::object row_field{{"name", "row"}, {"type", "RECORD"}, {"mode", "REQUIRED"}, {"fields", json::parse(schema_it->second)}};
    json::array errors;
    for (size_t i = 0; i < rows->as_array().size(); ++i) {
      const json::object* row = rows->as_array()[i].if_object();
      const json::value* id = row != nullptr ? row->if_contains("insertId") : nullptr;
      const json::value* data = row != nullptr ? row->if_contains("json") : nullptr;
      if (id == nullptr || !id->is_string() || id->as_string().empty() || id->as_string().size() > 128) {
        log.violate("row without a valid insertId: " + json::serialize(rows->as_array()[i]));
        continue;
      }
      std::vector<std::string> problems;
      check_value(row_field, data, table, problems);
      for (auto& p : problems) log.violate(std::move(p));
      const json::value* rid = data != nullptr && data->is_object() ? data->as_object().if_contains("request_id") : nullptr;
      if (!problems.empty() || (rid != nullptr && rid->is_string() && rid->as_string().starts_with("bad"))) {
        errors.push_back(json::object{{"index", i}, {"errors", json::array{json::object{{"reason", "invalid"}, {"message", "refused"}}}}});
        continue;
      }
      const std::string key(id->as_string());
      if (s.insert_ids[table][key]++ == 0) s.rows[table].push_back(data->as_object());
    }
    json::object answer{{"kind", "bigquery#tableDataInsertAllResponse"}};
    if (!errors.empty()) answer["insertErrors"] = std::move(errors);
    return {200, json::serialize(answer)};
  }

  std::shared_ptr<FakeGoogle::State> state_;
};

}  // namespace

FakeGoogle::FakeGoogle(FakeGoogleOptions options) : state_(std::make_shared<State>()) {
  state_->options = std::move(options);
  server_ = std::make_unique<FakeServer>([state = state_] { return std::make_unique<Handler>(state); });
  std::lock_guard lock(state_->log.mu);
  state_->token_uri = server_->url() + "/token";
}

FakeGoogle::~FakeGoogle() = default;

void FakeGoogle::fail_next_inserts(int count, int status) {
  std::lock_guard lock(state_->log.mu);
  state_->fail_count = count;
  state_->fail_status = status;
}

void FakeGoogle::set_delay(std::chrono::milliseconds delay, size_t from_request) {
  std::lock_guard lock(state_->log.mu);
  state_->delay = delay;
  state_->delay_from = from_request;
}

void FakeGoogle::set_token_lifetime(std::chrono::seconds lifetime) {
  std::lock_guard lock(state_->log.mu);
  state_->lifetime = lifetime;
}

size_t FakeGoogle::token_requests() const {
  std::lock_guard lock(state_->log.mu);
  return state_->token_requests;
}

size_t FakeGoogle::insert_requests() const {
  std::lock_guard lock(state_->log.mu);
  return state_->insert_requests;
}

size_t FakeGoogle::max_batch() const {
  std::lock_guard lock(state_->log.mu);
  return state_->log.max_batch;
}

std::vector<std::string> FakeGoogle::violations() const {
  std::lock_guard lock(state_->log.mu);
  return state_->log.violations;
}

std::map<std::string, size_t> FakeGoogle::insert_ids(const std::string& table) const {
  std::lock_guard lock(state_->log.mu);
  auto it = state_->insert_ids.find(table);
  return it == state_->insert_ids.end() ? std::map<std::string, size_t>{} : it->second;
}

std::vector<json::object> FakeGoogle::rows(const std::string& table) const {
  std::lock_guard lock(state_->log.mu);
  auto it = state_->rows.find(table);
  return it == state_->rows.end() ? std::vector<json::object>{} : it->second;
}

std::vector<json::object> FakeGoogle::created_tables() const {
  std::lock_guard lock(state_->log.mu);
  return state_->created;
}

bool FakeGoogle::wait_for_rows(const std::string& table, size_t unique, std::chrono::milliseconds timeout) const {
  return state_->log.wait([&] { return state_->rows[table].size() >= unique; }, timeout);
}

bool FakeGoogle::wait_for_inserts(size_t n, std::chrono::milliseconds timeout) const {
  return state_->log.wait([&] { return state_->insert_requests >= n; }, timeout);
}

}  // namespace sy::exports::testing
