#include "telemetry/metrics.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <unordered_map>

#include <fmt/format.h>

#include "core/assert.h"

namespace sy::telemetry {
namespace {

// ---- the text format -------------------------------------------------------------------------

bool valid_name(std::string_view name, bool colon_allowed) {
  if (name.empty()) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_allowed && c == ':');
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) {
      return false;
    }
  }
  return true;
}

bool valid_metric_name(std::string_view name) {
  return valid_name(name, true);
}
bool valid_label_name(std::string_view name) {
  return valid_name(name, false) && !name.starts_with("__");
}

// HELP text escapes backslash and line feed; label values escape double quotes too.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// Go's ParseFloat reads what Prometheus reads: the shortest round-trip form, +Inf, -Inf, NaN.
void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
}

void append_metadata(std::string& out, std::string_view name, std::string_view help,
                     std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  append_escaped(out, help, false);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void append_label(std::string& out, std::string_view name, std::string_view value, bool first) {
  out += first ? '{' : ',';
  out += name;
  out += "=\"";
  append_escaped(out, value, true);
  out += '"';
}

// ---- one family's series ---------------------------------------------------------------------

// The series of one counter or histogram family, keyed by label values. A series is found by
// a key built in a reused buffer (each value length-prefixed, so no two label sets share one),
// so a look-up of an existing series allocates nothing.
class SeriesTable {
 public:
  // `bounds` empty: a counter. Otherwise a histogram with these bucket upper bounds.
  SeriesTable(std::string_view name, std::string_view help,
              std::span<const std::string_view> label_names, std::vector<double> bounds,
              size_t max_series)
      : name_(name),
        help_(help),
        label_names_(label_names),
        bounds_(std::move(bounds)),
        histogram_(!bounds_.empty()),
        width_(histogram_ ? bounds_.size() + 2 : 1),
        max_series_(max_series) {
    SY_RELEASE_ASSERT(std::is_sorted(bounds_.begin(), bounds_.end()));
    for (const double b : bounds_) {
      append_value(le_.emplace_back(), b);
    }
    le_.emplace_back("+Inf");
  }

  std::string_view name() const { return name_; }

  // `lane` (below kLanes): whose last series at() compares against first. Callers that add to
  // several series of a family per record (the token kinds) give each its own.
  void add(std::initializer_list<std::string_view> values, double amount, size_t lane = 0) {
    SY_ASSERT(!histogram_);
    at(values, lane).values[0] += amount;
  }

  // Buckets hold their own counts here; render makes them cumulative. The last slot is the sum.
  void observe(std::initializer_list<std::string_view> values, double v) {
    SY_ASSERT(histogram_);
    std::vector<double>& slots = at(values).values;
    // The first bucket whose bound is >= v (le: "less than or equal").
    const auto bucket = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
    slots[static_cast<size_t>(bucket)] += 1;
    slots.back() += v;
  }

  void render(std::string& out) const {
    append_metadata(out, name_, help_, histogram_ ? "histogram" : "counter");
    std::vector<const Series*> sorted;
    sorted.reserve(series_.size() + 1);
    for (const auto& [key, s] : series_) {
      sorted.push_back(&s);
    }
    std::sort(sorted.begin(), sorted.end(),
              [](const Series* a, const Series* b) { return a->labels < b->labels; });
    if (overflow_) {
      sorted.push_back(overflow_.get());
    }
    for (const Series* s : sorted) {
      histogram_ ? render_histogram(out, *s) : render_sample(out, "", *s, {}, s->values[0]);
    }
  }

 private:
  struct Series {
    std::vector<std::string> labels;
    std::vector<double> values;  // width_ slots
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
  };

  Series& at(std::initializer_list<std::string_view> values, size_t lane = 0) {
    SY_ASSERT(values.size() == label_names_.size() && lane < kLanes);
    // Records in a batch mostly repeat the labels of the one before: the series this lane found
    // last is compared in place, no key built or hashed (series live in the map's nodes, which
    // never move). One comparison, so that records whose labels all differ pay little for it.
    Series*& last = last_[lane];
    if (last != nullptr && std::equal(values.begin(), values.end(), last->labels.begin())) {
      return *last;
    }
    key_.clear();
    for (const std::string_view v : values) {
      const auto n = static_cast<uint32_t>(v.size());
      const std::array<char, 4> prefix{static_cast<char>(n), static_cast<char>(n >> 8),
                                       static_cast<char>(n >> 16), static_cast<char>(n >> 24)};
      key_.append(prefix.data(), prefix.size());
      key_.append(v);
    }
    if (auto it = series_.find(std::string_view(key_)); it != series_.end()) {
      last = &it->second;
      return it->second;
    }
    if (series_.size() >= max_series_) {
      if (!overflow_) {
        overflow_ = std::make_unique<Series>(Series{
            std::vector<std::string>(label_names_.size(), std::string(Metrics::kOverflowLabel)),
            std::vector<double>(width_)});
      }
      return *overflow_;
    }
    Series s{std::vector<std::string>(values.begin(), values.end()), std::vector<double>(width_)};
    last = &series_.emplace(key_, std::move(s)).first->second;
    return *last;
  }

  void render_sample(std::string& out, std::string_view suffix, const Series& s,
                     std::string_view le, double value) const {
    out += name_;
    out += suffix;
    for (size_t i = 0; i < label_names_.size(); ++i) {
      append_label(out, label_names_[i], s.labels[i], i == 0);
    }
    if (!le.empty()) {
      append_label(out, "le", le, label_names_.empty());
    }
    if (!label_names_.empty() || !le.empty()) {
      out += '}';
    }
    out += ' ';
    append_value(out, value);
    out += '\n';
  }

  void render_histogram(std::string& out, const Series& s) const {
    double cumulative = 0;
    for (size_t i = 0; i < le_.size(); ++i) {
      cumulative += s.values[i];
      render_sample(out, "_bucket", s, le_[i], cumulative);
    }
    render_sample(out, "_sum", s, {}, s.values.back());
    render_sample(out, "_count", s, {}, cumulative);
  }

  std::string_view name_;
  std::string_view help_;
  std::span<const std::string_view> label_names_;
  std::vector<double> bounds_;
  std::vector<std::string> le_;  // the bounds as written, then "+Inf"
  bool histogram_;
  size_t width_;
  size_t max_series_;
  std::string key_;  // reused look-up key
  std::unordered_map<std::string, Series, Hash, std::equal_to<>> series_;
  std::unique_ptr<Series> overflow_;
  // The series at() found last in each lane, in series_ (never the overflow).
  static constexpr size_t kLanes = 4;
  std::array<Series*, kLanes> last_{};
};

constexpr std::array<std::string_view, 7> kRequestLabels{"router",   "route",   "variant", "model",
                                                         "provider", "dialect", "status"};
constexpr std::array<std::string_view, 6> kErrorLabels{"router", "route",    "variant",
                                                       "model",  "provider", "class"};
constexpr std::array<std::string_view, 3> kAttemptLabels{"model", "provider", "outcome"};
constexpr std::array<std::string_view, 5> kVariantLabels{"router", "route", "variant", "model",
                                                         "provider"};
constexpr std::array<std::string_view, 6> kTokenLabels{"router", "route",    "variant",
                                                       "model",  "provider", "kind"};

double seconds(int64_t ms) {
  return static_cast<double>(ms) / 1000.0;
}

std::string_view outcome(const AttemptRecord& a) {
  if (!a.error_class.empty()) {
    return a.error_class;
  }
  return a.served ? "served" : "unused";
}

}  // namespace

struct Metrics::Families {
  explicit Families(const MetricsOptions& o)
      : requests("switchyard_requests_total",
                 "Requests, by router, route, variant, served model and status.", kRequestLabels,
                 {}, o.max_series),
        errors("switchyard_request_errors_total", "Requests that failed, by error class.",
               kErrorLabels, {}, o.max_series),
        attempts("switchyard_attempts_total", "Attempts of the requests' plans, by outcome.",
                 kAttemptLabels, {}, o.max_series),
        ttft("switchyard_ttft_seconds",
             "Time to the first token at the client, from the request's start.", kVariantLabels,
             o.ttft_buckets_s, o.max_series),
        duration("switchyard_request_duration_seconds",
                 "Time until the last byte went to the client.", kVariantLabels,
                 o.duration_buckets_s, o.max_series),
        tokens("switchyard_tokens_total",
               "Tokens used: input (cached included), output (reasoning included), "
               "cached, reasoning.",
               kTokenLabels, {}, o.max_series),
        cost("switchyard_cost_usd_total", "Cost in US dollars at provider rates.", kVariantLabels,
             {}, o.max_series) {
    for (const SeriesTable* t : all()) {
      names.push_back(t->name());
    }
    SY_RELEASE_ASSERT(!o.ttft_buckets_s.empty() && !o.duration_buckets_s.empty());
  }

  std::array<const SeriesTable*, 7> all() const {
    return {&requests, &errors, &attempts, &ttft, &duration, &tokens, &cost};
  }

  SeriesTable requests, errors, attempts, ttft, duration, tokens, cost;
  std::vector<std::string_view> names;  // reserved: gauge sources may not write these
};

Metrics::Metrics(MetricsOptions options) : families_(std::make_unique<Families>(options)) {}
Metrics::~Metrics() = default;

void Metrics::observe(const RequestRecord& record) {
  const std::lock_guard lock(mutex_);
  observe_locked(record);
}

void Metrics::observe(std::span<const RequestRecord> batch) {
  const std::lock_guard lock(mutex_);
  for (const RequestRecord& r : batch) {
    observe_locked(r);
  }
}

void Metrics::observe_locked(const RequestRecord& r) {
  Families& f = *families_;
  std::string_view model = r.model;
  std::string_view provider = r.provider;
  if (model.empty() && !r.attempts.empty()) {
    model = r.attempts.back().model;
    provider = r.attempts.back().provider;
  }
  std::array<char, 16> status_buf{};
  const auto [status_end, ec] =
      std::to_chars(status_buf.data(), status_buf.data() + status_buf.size(), r.status);
  const std::string_view status(
      status_buf.data(),
      ec == std::errc{} ? static_cast<size_t>(status_end - status_buf.data()) : 0);

  f.requests.add({r.router, r.route, r.variant, model, provider, r.dialect, status}, 1);
  if (!r.error_class.empty()) {
    f.errors.add({r.router, r.route, r.variant, model, provider, r.error_class}, 1);
  }
  for (const AttemptRecord& a : r.attempts) {
    f.attempts.add({a.model, a.provider, outcome(a)}, 1);
  }
  if (r.ttft_ms >= 0) {
    f.ttft.observe({r.router, r.route, r.variant, model, provider}, seconds(r.ttft_ms));
  }
  f.duration.observe({r.router, r.route, r.variant, model, provider}, seconds(r.latency_ms));

  const auto tokens = [&](std::string_view kind, int64_t n, size_t lane) {
    if (n > 0) {
      f.tokens.add({r.router, r.route, r.variant, model, provider, kind}, static_cast<double>(n),
                   lane);
    }
  };
  tokens("input", r.tokens_in, 0);
  tokens("output", r.tokens_out, 1);
  tokens("cached", r.tokens_cached, 2);
  tokens("reasoning", r.tokens_reasoning, 3);

  // Each attempt's own cost under its model (a fallback's failed attempt may have used tokens);
  // whatever the attempts do not account for, under the request's model.
  double attributed = 0;
  for (const AttemptRecord& a : r.attempts) {
    if (a.cost_usd > 0) {
      f.cost.add({r.router, r.route, r.variant, a.model, a.provider}, a.cost_usd);
      attributed += a.cost_usd;
    }
  }
  if (r.cost_usd - attributed > 1e-12) {
    f.cost.add({r.router, r.route, r.variant, model, provider}, r.cost_usd - attributed);
  }
}

void Metrics::add_gauge_source(std::function<void(GaugeWriter&)> source) {
  const std::lock_guard lock(sources_mutex_);
  sources_.push_back(std::move(source));
}

void Metrics::render(std::string& out) const {
  {
    const std::lock_guard lock(mutex_);
    for (const SeriesTable* t : families_->all()) {
      t->render(out);
    }
  }
  const std::lock_guard lock(sources_mutex_);
  GaugeWriter writer(families_->names);  // names never change after construction
  for (const auto& source : sources_) {
    source(writer);
  }
  writer.append_to(out);
}

// ---- GaugeWriter -----------------------------------------------------------------------------

void GaugeWriter::write(const Family& family, std::initializer_list<Label> labels, double value) {
  const bool names_ok =
      valid_metric_name(family.name) &&
      std::find(reserved_.begin(), reserved_.end(), family.name) == reserved_.end() &&
      std::all_of(labels.begin(), labels.end(),
                  [](const Label& l) { return valid_label_name(l.first); });
  if (!names_ok) {
    SY_BUG("a gauge source wrote a reserved or invalid metric name or label name");
    return;
  }
  auto it = std::find_if(families_.begin(), families_.end(),
                         [&](const Out& o) { return o.name == family.name; });
  if (it == families_.end()) {
    it = families_.insert(families_.end(),
                          Out{std::string(family.name), std::string(family.help), family.type, {}});
  } else if (it->type != family.type) {
    SY_BUG("a gauge source wrote one metric family with two types");
    return;
  }
  std::string& out = it->samples;
  out += family.name;
  bool first = true;
  for (const auto& [name, label_value] : labels) {
    append_label(out, name, label_value, first);
    first = false;
  }
  if (!first) {
    out += '}';
  }
  out += ' ';
  append_value(out, value);
  out += '\n';
}

void GaugeWriter::append_to(std::string& out) const {
  for (const Out& f : families_) {
    append_metadata(out, f.name, f.help, f.type == MetricType::kCounter ? "counter" : "gauge");
    out += f.samples;
  }
}

}  // namespace sy::telemetry
