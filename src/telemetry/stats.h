#pragma once
// Experiment statistics for GET /router/v1/routers/{name}/stats: means with confidence
// intervals, Welch's test between two variants, Wilson intervals and the two-proportion z-test
// for rates, percentiles. Pure functions, no I/O.
//
//   MeanCi a = mean_ci(n_a, sum_a, sum_sq_a);  // COUNT(x), SUM(x), SUM(x * x) of variant A
//   MeanCi b = mean_ci(n_b, sum_b, sum_sq_b);
//   Comparison d = welch(a, b);  // d.diff = b.mean - a.mean in [d.lo, d.hi]; d.p_value
//   ProportionComparison e =
//       two_proportions(proportion_ci(errors_a, n_a), proportion_ci(errors_b, n_b));
//
// Which one the endpoint uses:
// - rates — the error rate, and any outcome metric whose values are all 0 or 1 (conversion,
//   retained_d7) — proportion_ci per variant and two_proportions between two;
// - every other outcome metric (csat, any number), and cost per request: mean_ci and welch;
// - TTFT and latency p50/p95: quantile over the sorted values.
// Intervals are two-sided at `confidence` (0.95 unless given); `significant` is
// p_value < 1 - confidence. An undefined quantity is NaN (render it as JSON null): a mean of no
// values, a standard deviation or interval of fewer than two.
//
// Accuracy: t_cdf and normal_cdf within 1e-6 (in practice ~1e-12; above 1e7 degrees of freedom
// the t distribution is taken as the normal, which it is within 2e-8 there).

#include <cstdint>
#include <limits>
#include <span>

namespace sy::telemetry {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kConfidence = 0.95;

// ---- distributions ---------------------------------------------------------------------------

// The regularized incomplete beta function I_x(a, b), a, b > 0, x in [0, 1] (NaN otherwise);
// a continued fraction evaluated by Lentz's method.
double incomplete_beta(double a, double b, double x);

double normal_cdf(double z);
double normal_quantile(double p);  // p in (0, 1), else NaN
// Student's t with `df` > 0 degrees of freedom (not necessarily whole: Welch's are not).
double t_cdf(double t, double df);
double t_quantile(double p, double df);  // p in (0, 1), else NaN
// P(|T| >= |t|), computed directly (no 1 - cdf), so small p-values keep their precision.
double t_two_sided_p(double t, double df);
double normal_two_sided_p(double z);

// ---- means -----------------------------------------------------------------------------------

struct MeanCi {
  int64_t n = 0;
  double mean = kNaN;  // NaN when n == 0
  double sd = kNaN;    // sample standard deviation (divides by n - 1); NaN when n < 2
  double se = kNaN;    // standard error, sd / sqrt(n)
  double lo = kNaN;    // mean -+ t(1 - (1 - confidence) / 2, n - 1) * se; NaN when n < 2
  double hi = kNaN;
  bool has_ci() const { return n >= 2; }
};

// From the count, the sum and the sum of squares (what SQL aggregates give). The variance is
// (sum_sq - sum * mean) / (n - 1), clamped at 0 against rounding.
MeanCi mean_ci(int64_t n, double sum, double sum_sq, double confidence = kConfidence);

struct Comparison {
  bool defined = false;  // both sides have n >= 2; otherwise only diff may be set
  double diff = kNaN;    // b.mean - a.mean
  double lo = kNaN;      // diff -+ t(1 - (1 - confidence) / 2, df) * se
  double hi = kNaN;
  double se = kNaN;       // sqrt(se_a^2 + se_b^2)
  double df = kNaN;       // Welch–Satterthwaite; n_a + n_b - 2 when both variances are 0
  double t = kNaN;        // diff / se; with se == 0: 0 when diff == 0, else +-infinity
  double p_value = kNaN;  // two-sided; with se == 0: 1 when diff == 0, else 0
  bool significant = false;
};

// Welch's unequal-variances t-test of b against a; both built with the same confidence.
Comparison welch(const MeanCi& a, const MeanCi& b, double confidence = kConfidence);

// ---- proportions -----------------------------------------------------------------------------

struct ProportionCi {
  int64_t n = 0;
  int64_t successes = 0;
  double p = kNaN;   // successes / n; NaN when n == 0
  double lo = kNaN;  // the Wilson score interval (stays inside [0, 1], sound near 0 and 1)
  double hi = kNaN;
};

ProportionCi proportion_ci(int64_t successes, int64_t n, double confidence = kConfidence);

struct ProportionComparison {
  bool defined = false;  // both n > 0
  double diff = kNaN;    // b.p - a.p
  double lo = kNaN;      // Newcombe's hybrid score interval, from the two Wilson intervals
  double hi = kNaN;
  double z = kNaN;        // pooled two-proportion z statistic; 0 when the pooled rate is 0 or 1
  double p_value = kNaN;  // two-sided, from z
  // From p_value. The interval comes from another method, so at the border it may exclude 0
  // while the test does not reject (or the reverse); the endpoint reports both as they are.
  bool significant = false;
};

// The pooled two-proportion z-test of b against a; both built with the same confidence.
ProportionComparison two_proportions(const ProportionCi& a, const ProportionCi& b,
                                     double confidence = kConfidence);

// ---- percentiles -----------------------------------------------------------------------------

// The q-quantile (q in [0, 1]) of ascending `sorted` by linear interpolation between order
// statistics (Hyndman–Fan type 7: numpy's and R's default). NaN when empty.
double quantile(std::span<const double> sorted, double q);

}  // namespace sy::telemetry
