#include "telemetry/stats.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace sy::telemetry {
namespace {

// Past this many degrees of freedom t_cdf is normal_cdf: they differ by less than 2e-8 there,
// while lgamma of such large arguments starts to lose the digits incomplete_beta needs.
constexpr double kNormalDf = 1e7;
constexpr int kMaxIterations = 10000;  // the fraction needs ~sqrt(max(a, b)) terms at worst
constexpr double kEpsilon = 1e-15;
constexpr double kTiny = 1e-300;

// lgamma_r, not lgamma: lgamma writes the global `signgam`, a data race between workers.
double log_gamma(double x) {
  int sign = 0;
  return ::lgamma_r(x, &sign);
}

// The continued fraction of I_x(a, b) (Numerical Recipes' betacf) by the modified Lentz method;
// converges quickly for x < (a + 1) / (a + b + 2).
double beta_continued_fraction(double a, double b, double x) {
  const auto guard = [](double v) {
    return std::fabs(v) < kTiny ? kTiny : v;
  };
  const double qab = a + b;
  const double qap = a + 1;
  const double qam = a - 1;
  double c = 1;
  double d = 1 / guard(1 - qab * x / qap);
  double h = d;
  for (int i = 1; i <= kMaxIterations; ++i) {
    const double m = i;
    const double m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));  // the even term
    d = 1 / guard(1 + aa * d);
    c = guard(1 + aa / c);
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));  // the odd term
    d = 1 / guard(1 + aa * d);
    c = guard(1 + aa / c);
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < kEpsilon) {
      break;
    }
  }
  return h;
}

// The x in [lo, hi] where the increasing `cdf` crosses p, by bisection down to adjacent doubles.
template <class Cdf>
double invert(const Cdf& cdf, double p, double lo, double hi) {
  for (int i = 0; i < 2100; ++i) {
    const double mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) {
      break;
    }
    (cdf(mid) < p ? lo : hi) = mid;
  }
  return lo + (hi - lo) / 2;
}

double two_sided_quantile(double confidence) {
  return 1 - (1 - confidence) / 2;
}

}  // namespace

double incomplete_beta(double a, double b, double x) {
  if (!(a > 0) || !(b > 0) || !(x >= 0 && x <= 1)) {
    return kNaN;
  }
  if (x == 0 || x == 1) {
    return x;
  }
  const double front = std::exp(log_gamma(a + b) - log_gamma(a) - log_gamma(b) + a * std::log(x) +
                                b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) {
    return front * beta_continued_fraction(a, b, x) / a;
  }
  return 1 - front * beta_continued_fraction(b, a, 1 - x) / b;  // I_x(a, b) = 1 - I_{1-x}(b, a)
}

double normal_cdf(double z) {
  return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

double normal_two_sided_p(double z) {
  return std::erfc(std::fabs(z) / std::sqrt(2.0));
}

double normal_quantile(double p) {
  if (!(p > 0 && p < 1)) {
    return kNaN;
  }
  return invert(normal_cdf, p, -40, 40);  // normal_cdf(-40) is below the smallest double
}

double t_two_sided_p(double t, double df) {
  if (std::isnan(t) || !(df > 0)) {
    return kNaN;
  }
  if (df > kNormalDf) {
    return normal_two_sided_p(t);
  }
  return incomplete_beta(df / 2, 0.5, df / (df + t * t));
}

double t_cdf(double t, double df) {
  const double tail = t_two_sided_p(t, df) / 2;  // P(T > |t|)
  return t > 0 ? 1 - tail : tail;
}

double t_quantile(double p, double df) {
  if (!(p > 0 && p < 1) || !(df > 0)) {
    return kNaN;
  }
  if (p < 0.5) {
    return -t_quantile(1 - p, df);
  }
  const auto cdf = [df](double t) {
    return t_cdf(t, df);
  };
  double hi = 1;
  while (cdf(hi) < p && hi < 1e300) {
    hi *= 2;
  }
  return invert(cdf, p, 0, hi);
}

MeanCi mean_ci(int64_t n, double sum, double sum_sq, double confidence) {
  MeanCi m;
  m.n = n;
  if (n <= 0) {
    return m;
  }
  const auto count = static_cast<double>(n);
  m.mean = sum / count;
  if (n < 2) {
    return m;
  }
  m.sd = std::sqrt(std::max(0.0, (sum_sq - sum * m.mean) / (count - 1)));
  m.se = m.sd / std::sqrt(count);
  const double half = t_quantile(two_sided_quantile(confidence), count - 1) * m.se;
  m.lo = m.mean - half;
  m.hi = m.mean + half;
  return m;
}

Comparison welch(const MeanCi& a, const MeanCi& b, double confidence) {
  Comparison c;
  if (a.n > 0 && b.n > 0) {
    c.diff = b.mean - a.mean;
  }
  if (!a.has_ci() || !b.has_ci()) {
    return c;
  }
  c.defined = true;
  const double va = a.se * a.se;  // the variances of the two means
  const double vb = b.se * b.se;
  c.se = std::sqrt(va + vb);
  if (c.se == 0) {  // both samples constant: the difference is exact
    c.df = static_cast<double>(a.n + b.n - 2);
    c.lo = c.hi = c.diff;
    c.t = c.diff == 0 ? 0 : std::copysign(HUGE_VAL, c.diff);
    c.p_value = c.diff == 0 ? 1 : 0;
  } else {
    c.df = (va + vb) * (va + vb) /
           (va * va / static_cast<double>(a.n - 1) + vb * vb / static_cast<double>(b.n - 1));
    c.t = c.diff / c.se;
    c.p_value = t_two_sided_p(c.t, c.df);
    const double half = t_quantile(two_sided_quantile(confidence), c.df) * c.se;
    c.lo = c.diff - half;
    c.hi = c.diff + half;
  }
  c.significant = c.p_value < 1 - confidence;
  return c;
}

ProportionCi proportion_ci(int64_t successes, int64_t n, double confidence) {
  ProportionCi r;
  r.n = n;
  r.successes = successes;
  if (n <= 0 || successes < 0 || successes > n) {
    return r;
  }
  const double z = normal_quantile(two_sided_quantile(confidence));
  const auto count = static_cast<double>(n);
  const double p = static_cast<double>(successes) / count;
  const double z2 = z * z;
  const double denom = 1 + z2 / count;
  const double center = (p + z2 / (2 * count)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / count + z2 / (4 * count * count)) / denom;
  r.p = p;
  r.lo = std::max(0.0, center - half);
  r.hi = std::min(1.0, center + half);
  return r;
}

ProportionComparison two_proportions(const ProportionCi& a, const ProportionCi& b,
                                     double confidence) {
  ProportionComparison c;
  if (std::isnan(a.p) || std::isnan(b.p)) {
    return c;
  }
  c.defined = true;
  c.diff = b.p - a.p;
  c.lo = c.diff - std::hypot(b.p - b.lo, a.hi - a.p);  // Newcombe (1998), method 10
  c.hi = c.diff + std::hypot(b.hi - b.p, a.p - a.lo);
  const double pooled =
      static_cast<double>(a.successes + b.successes) / static_cast<double>(a.n + b.n);
  const double se = std::sqrt(pooled * (1 - pooled) *
                              (1 / static_cast<double>(a.n) + 1 / static_cast<double>(b.n)));
  c.z = se > 0 ? c.diff / se : 0;
  c.p_value = normal_two_sided_p(c.z);
  c.significant = c.p_value < 1 - confidence;
  return c;
}

double quantile(std::span<const double> sorted, double q) {
  if (sorted.empty() || !(q >= 0 && q <= 1)) {
    return kNaN;
  }
  const double h = q * static_cast<double>(sorted.size() - 1);
  const auto i = static_cast<size_t>(std::floor(h));
  if (i + 1 >= sorted.size()) {
    return sorted.back();
  }
  return sorted[i] + (h - static_cast<double>(i)) * (sorted[i + 1] - sorted[i]);
}

}  // namespace sy::telemetry
