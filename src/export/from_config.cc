#include "export/from_config.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "export/bigquery.h"
#include "export/jsonl.h"
#include "export/mixpanel.h"

namespace sy::exports {
namespace {

namespace bj = boost::json;

// Reads one section's fields, collecting the first problem with its path.
class Reader {
 public:
  Reader(const bj::object& o, std::string path) : o_(o), path_(std::move(path)) {}

  Result<bool> only(std::initializer_list<std::string_view> keys) const {
    for (const auto& kv : o_) {
      if (std::find(keys.begin(), keys.end(), kv.key()) == keys.end()) {
        std::string known;
        for (auto k : keys) known += fmt::format("{}{}", known.empty() ? "" : ", ", k);
        return fail(ErrorCode::kInvalidRequest, fmt::format("{}.{}: unknown key (known: {})", path_, kv.key(), known));
      }
    }
    return true;
  }
  Result<bool> text(std::string_view key, std::string& out) const {
    const bj::value* v = o_.if_contains(key);
    if (v == nullptr || v->is_null()) return true;
    if (!v->is_string()) return bad(key, "must be a string");
    out = std::string(v->as_string());
    return true;
  }
  Result<bool> flag(std::string_view key, bool& out) const {
    const bj::value* v = o_.if_contains(key);
    if (v == nullptr || v->is_null()) return true;
    if (!v->is_bool()) return bad(key, "must be true or false");
    out = v->as_bool();
    return true;
  }
  template <class T>
  Result<bool> number(std::string_view key, T& out, int64_t lo, int64_t hi) const {
    const bj::value* v = o_.if_contains(key);
    if (v == nullptr || v->is_null()) return true;
    if (!v->is_int64() || v->as_int64() < lo || v->as_int64() > hi) {
      return bad(key, fmt::format("must be a whole number from {} to {}", lo, hi));
    }
    out = static_cast<T>(v->as_int64());
    return true;
  }
  const bj::object* object(std::string_view key) const {
    const bj::value* v = o_.if_contains(key);
    return v != nullptr ? v->if_object() : nullptr;
  }
  Result<bool> bad(std::string_view key, std::string_view what) const {
    return fail(ErrorCode::kInvalidRequest, fmt::format("{}.{}: {}", path_, key, what));
  }

 private:
  const bj::object& o_;
  std::string path_;
};

#define SY_TRY(expr)                                 \
  do {                                               \
    if (auto r_ = (expr); !r_) return tl::unexpected(r_.error()); \
  } while (0)

}  // namespace

Result<std::vector<std::unique_ptr<Exporter>>> from_config(std::string_view section, const std::string& default_spool_dir) {
  std::vector<std::unique_ptr<Exporter>> out;
  if (section.empty()) return out;
  boost::system::error_code ec;
  const bj::value root = bj::parse(section, ec);
  if (ec || !root.is_object()) return fail(ErrorCode::kInvalidRequest, "export: must be a mapping (see docs/export.md)");
  const Reader r(root.as_object(), "export");
  SY_TRY(r.only({"spool_dir", "spool_max_mb", "spool_fsync", "flush_interval_ms", "mixpanel", "bigquery", "jsonl"}));
  std::string spool_dir = default_spool_dir;
  SpoolOptions spool;
  SenderOptions sender;
  int64_t spool_mb = 256;
  int64_t flush_ms = 1000;
  SY_TRY(r.text("spool_dir", spool_dir));
  SY_TRY(r.number("spool_max_mb", spool_mb, 1, 1'000'000));
  SY_TRY(r.flag("spool_fsync", spool.fsync));
  SY_TRY(r.number("flush_interval_ms", flush_ms, 10, 3'600'000));
  spool.max_bytes = static_cast<uint64_t>(spool_mb) << 20;
  sender.flush_interval = std::chrono::milliseconds(flush_ms);
  auto spool_for = [&](std::string_view name) {
    SpoolOptions s = spool;
    s.dir = fmt::format("{}/{}", spool_dir, name);
    return s;
  };

  for (std::string_view name : {"mixpanel", "bigquery", "jsonl"}) {
    const bj::value* v = root.as_object().if_contains(name);
    if (v == nullptr || v->is_null()) continue;
    if (!v->is_object()) return fail(ErrorCode::kInvalidRequest, fmt::format("export.{}: must be a mapping", name));
    const Reader e(v->as_object(), fmt::format("export.{}", name));
    Result<std::unique_ptr<Exporter>> made = tl::unexpected(Error{});
    if (name == "mixpanel") {
      SY_TRY(e.only({"project_token", "service_account", "region", "base_url", "batch", "gzip", "request_event", "outcome_prefix"}));
      MixpanelOptions o;
      SY_TRY(e.text("project_token", o.project_token));
      if (const bj::object* sa = e.object("service_account")) {
        const Reader s(*sa, "export.mixpanel.service_account");
        SY_TRY(s.only({"username", "secret", "project_id"}));
        SY_TRY(s.text("username", o.service_account_username));
        SY_TRY(s.text("secret", o.service_account_secret));
        SY_TRY(s.text("project_id", o.project_id));
      }
      SY_TRY(e.text("region", o.region));
      SY_TRY(e.text("base_url", o.base_url));
      SY_TRY(e.number("batch", o.batch_events, 1, 2000));
      SY_TRY(e.flag("gzip", o.gzip));
      SY_TRY(e.text("request_event", o.request_event));
      SY_TRY(e.text("outcome_prefix", o.outcome_prefix));
      o.spool = spool_for(name);
      o.sender = sender;
      made = make_mixpanel_exporter(std::move(o));
    } else if (name == "bigquery") {
      SY_TRY(e.only({"credentials_file", "project", "dataset", "table", "outcomes_table", "create_tables", "batch",
                     "bodies", "max_body_kb", "base_url"}));
      BigQueryOptions o;
      bool create = false;
      int64_t max_body_kb = 1024;
      SY_TRY(e.text("credentials_file", o.credentials_file));
      SY_TRY(e.text("project", o.project));
      SY_TRY(e.text("dataset", o.dataset));
      SY_TRY(e.text("table", o.table));
      SY_TRY(e.text("outcomes_table", o.outcomes_table));
      SY_TRY(e.text("base_url", o.base_url));
      SY_TRY(e.flag("create_tables", create));
      SY_TRY(e.number("batch", o.batch_rows, 1, 500));
      SY_TRY(e.flag("bodies", o.bodies));
      SY_TRY(e.number("max_body_kb", max_body_kb, 1, 10'240));
      o.max_body_bytes = static_cast<size_t>(max_body_kb) << 10;
      o.spool = spool_for(name);
      o.sender = sender;
      if (create) {
        if (auto c = create_bigquery_tables(o); !c) {
          Error err = c.error();
          err.message = fmt::format("export.bigquery.create_tables: {}", err.message);
          return tl::unexpected(std::move(err));
        }
      }
      made = make_bigquery_exporter(std::move(o));
    } else {
      SY_TRY(e.only({"path", "bodies"}));
      JsonlOptions o;
      SY_TRY(e.text("path", o.path));
      SY_TRY(e.flag("bodies", o.bodies));
      made = make_jsonl_exporter(std::move(o));
    }
    if (!made) {
      Error err = made.error();
      if (!err.message.starts_with("export.")) err.message = fmt::format("export.{}: {}", name, err.message);
      return tl::unexpected(std::move(err));
    }
    out.push_back(std::move(*made));
  }
  return out;
}

}  // namespace sy::exports
