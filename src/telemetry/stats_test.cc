#include "telemetry/stats.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace sy::telemetry {
namespace {

// Table values are given to 4-6 decimals; the functions are checked to that many.
TEST(Distributions, TQuantilesMatchTheTable) {
  EXPECT_NEAR(t_quantile(0.975, 1), 12.7062, 5e-5);
  EXPECT_NEAR(t_quantile(0.975, 2), 4.3027, 5e-5);
  EXPECT_NEAR(t_quantile(0.975, 3), 3.1824, 5e-5);
  EXPECT_NEAR(t_quantile(0.975, 5), 2.5706, 5e-5);
  EXPECT_NEAR(t_quantile(0.975, 10), 2.2281, 5e-5);
  EXPECT_NEAR(t_quantile(0.975, 30), 2.0423, 5e-5);
  EXPECT_NEAR(t_quantile(0.95, 10), 1.8125, 5e-5);
  EXPECT_NEAR(t_quantile(0.995, 20), 2.8453, 5e-5);
  // Large df: z + (z^3 + z) / (4 df) + O(1/df^2), z = 1.959964 (the table's infinity row, 1.95996).
  EXPECT_NEAR(t_quantile(0.975, 1e5), 1.9599877, 1e-7);
  EXPECT_NEAR(t_quantile(0.975, 1e6), 1.9599664, 1e-7);
  EXPECT_NEAR(t_quantile(0.975, 1e8), 1.95996, 5e-6);
  EXPECT_NEAR(t_quantile(0.975, 1e9), 1.959964, 5e-7);  // the normal's, past 1e7 df
  EXPECT_NEAR(t_quantile(0.025, 10), -2.2281, 5e-5);    // symmetric
  EXPECT_EQ(t_quantile(0.5, 7), 0);
  EXPECT_TRUE(std::isnan(t_quantile(0, 7)));
  EXPECT_TRUE(std::isnan(t_quantile(1, 7)));
  EXPECT_TRUE(std::isnan(t_quantile(0.9, 0)));
}

TEST(Distributions, TCdfHasClosedFormsAtOneAndTwoDegreesOfFreedom) {
  // df = 1 is the Cauchy distribution: 1/2 + atan(t)/pi. df = 2: 1/2 + t / (2 sqrt(t^2 + 2)).
  for (const double t : {-30.0, -2.5, -0.3, 0.0, 0.1, 1.0, 4.0, 250.0}) {
    EXPECT_NEAR(t_cdf(t, 1), 0.5 + std::atan(t) / M_PI, 1e-12) << t;
    EXPECT_NEAR(t_cdf(t, 2), 0.5 + t / (2 * std::sqrt(t * t + 2)), 1e-12) << t;
  }
  // Every table quantile maps back to its probability.
  EXPECT_NEAR(t_cdf(2.228138852, 10), 0.975, 1e-9);
  EXPECT_NEAR(t_cdf(12.70620474, 1), 0.975, 1e-9);
  EXPECT_NEAR(t_cdf(2.0, 1e8), normal_cdf(2.0), 1e-8);
  // A small two-sided p keeps its precision: P(|T_1| > 1e6) = 2 atan(1e-6) / pi.
  EXPECT_NEAR(t_two_sided_p(1e6, 1) / (2 * std::atan(1e-6) / M_PI), 1, 1e-9);
}

TEST(Distributions, IncompleteBetaClosedForms) {
  // I_x(a, 1) = x^a; I_x(1, b) = 1 - (1 - x)^b; I_x(1/2, 1/2) = 2 asin(sqrt x) / pi.
  for (const double x : {0.001, 0.2, 0.5, 0.77, 0.999}) {
    EXPECT_NEAR(incomplete_beta(3.5, 1, x), std::pow(x, 3.5), 1e-13) << x;
    EXPECT_NEAR(incomplete_beta(1, 2.5, x), 1 - std::pow(1 - x, 2.5), 1e-13) << x;
    EXPECT_NEAR(incomplete_beta(0.5, 0.5, x), 2 * std::asin(std::sqrt(x)) / M_PI, 1e-13) << x;
  }
  EXPECT_EQ(incomplete_beta(2, 3, 0), 0);
  EXPECT_EQ(incomplete_beta(2, 3, 1), 1);
  EXPECT_TRUE(std::isnan(incomplete_beta(2, 3, 1.5)));
  EXPECT_TRUE(std::isnan(incomplete_beta(0, 3, 0.5)));
}

TEST(Distributions, Normal) {
  EXPECT_NEAR(normal_quantile(0.975), 1.959963985, 1e-9);
  EXPECT_NEAR(normal_quantile(0.025), -1.959963985, 1e-9);
  EXPECT_NEAR(normal_quantile(0.95), 1.644853627, 1e-9);
  EXPECT_NEAR(normal_cdf(1.959963985), 0.975, 1e-10);
  EXPECT_NEAR(normal_two_sided_p(1.959963985), 0.05, 1e-10);
  EXPECT_NEAR(normal_cdf(-3), 0.0013498980, 1e-10);
}

// The worked example of the endpoint's comparison.
//   A = {2, 4, 4, 6}: n = 4, sum = 16, sum_sq = 72, mean 4,
//     s^2 = (72 - 16*4) / 3 = 8/3, se^2 = (8/3) / 4 = 2/3, se = 0.816497
//     95% CI: 4 -+ t(0.975, 3) * se = 4 -+ 3.182446 * 0.816497 = 4 -+ 2.598457
//           = [1.401543, 6.598457]
//   B = {5, 7, 9, 7, 7, 7}: n = 6, sum = 42, sum_sq = 302, mean 7,
//     s^2 = (302 - 42*7) / 5 = 8/5, se^2 = (8/5) / 6 = 4/15, se = 0.516398
//     95% CI: 7 -+ t(0.975, 5) * se = 7 -+ 2.570582 * 0.516398 = 7 -+ 1.327443
//           = [5.672557, 8.327443]
//   B - A: diff = 3, se^2 = 2/3 + 4/15 = 14/15, se = 0.966092, t = 3 / 0.966092 = 3.105295
//     df = (14/15)^2 / ((2/3)^2 / 3 + (4/15)^2 / 5) = (196/225) / (548/3375) = 735/137
//        = 5.364964
//     t(0.975, 5.364964) = 2.518865 → CI 3 -+ 2.518865 * 0.966092 = [0.566545, 5.433455]
//     p = 2 P(T > 3.105295) = 0.024303 (Simpson's rule over the t density, independently of
//     the continued fraction) < 0.05: significant.
TEST(Means, WelchWorkedExample) {
  const MeanCi a = mean_ci(4, 16, 72);
  EXPECT_DOUBLE_EQ(a.mean, 4);
  EXPECT_NEAR(a.sd, std::sqrt(8.0 / 3), 1e-12);
  EXPECT_NEAR(a.se, 0.816497, 1e-6);
  EXPECT_NEAR(a.lo, 1.401543, 1e-6);
  EXPECT_NEAR(a.hi, 6.598457, 1e-6);
  const MeanCi b = mean_ci(6, 42, 302);
  EXPECT_DOUBLE_EQ(b.mean, 7);
  EXPECT_NEAR(b.se, 0.516398, 1e-6);
  EXPECT_NEAR(b.lo, 5.672557, 1e-6);
  EXPECT_NEAR(b.hi, 8.327443, 1e-6);

  const Comparison c = welch(a, b);
  ASSERT_TRUE(c.defined);
  EXPECT_DOUBLE_EQ(c.diff, 3);
  EXPECT_NEAR(c.se, 0.966092, 1e-6);
  EXPECT_NEAR(c.df, 735.0 / 137, 1e-12);
  EXPECT_NEAR(c.t, 3.105295, 1e-6);
  EXPECT_NEAR(c.p_value, 0.024303, 1e-6);
  EXPECT_NEAR(c.lo, 0.566545, 1e-6);
  EXPECT_NEAR(c.hi, 5.433455, 1e-6);
  EXPECT_TRUE(c.significant);

  const Comparison back = welch(b, a);  // the other way round: the same test, mirrored
  EXPECT_DOUBLE_EQ(back.diff, -3);
  EXPECT_NEAR(back.p_value, c.p_value, 1e-15);
  EXPECT_NEAR(back.lo, -c.hi, 1e-12);
}

TEST(Means, FewValuesAndConstantSamples) {
  const MeanCi none = mean_ci(0, 0, 0);
  EXPECT_TRUE(std::isnan(none.mean));
  EXPECT_FALSE(none.has_ci());
  const MeanCi one = mean_ci(1, 4.5, 20.25);
  EXPECT_EQ(one.mean, 4.5);
  EXPECT_TRUE(std::isnan(one.sd));
  EXPECT_TRUE(std::isnan(one.lo));
  EXPECT_FALSE(one.has_ci());

  const Comparison undefined = welch(one, mean_ci(4, 16, 72));
  EXPECT_FALSE(undefined.defined);
  EXPECT_DOUBLE_EQ(undefined.diff, -0.5);
  EXPECT_TRUE(std::isnan(undefined.p_value));
  EXPECT_FALSE(undefined.significant);

  // Constant samples: variance 0 (rounding clamped), the difference is exact.
  const MeanCi fives = mean_ci(3, 15, 75);
  EXPECT_EQ(fives.sd, 0);
  EXPECT_EQ(fives.lo, 5);
  const Comparison same = welch(fives, fives);
  EXPECT_EQ(same.p_value, 1);
  EXPECT_FALSE(same.significant);
  const Comparison apart = welch(fives, mean_ci(2, 12, 72));
  EXPECT_EQ(apart.diff, 1);
  EXPECT_EQ(apart.p_value, 0);
  EXPECT_TRUE(apart.significant);
  EXPECT_EQ(apart.df, 3);

  // One constant side: Welch's df is the other side's n - 1.
  EXPECT_NEAR(welch(fives, mean_ci(4, 16, 72)).df, 3, 1e-12);
}

// Wilson for 8/100, by hand: p = 0.08, z = 1.959964, z^2 = 3.841459,
//   denominator 1 + z^2/n = 1.03841459, centre (0.08 + z^2/200) / 1.03841459 = 0.0955372,
//   half-width z sqrt(0.08 * 0.92 / 100 + z^2 / 40000) / 1.03841459
//            = 1.959964 * 0.02884504 / 1.03841459 = 0.0544439
//   → [0.0410935, 0.1499811].
// 8/100 against 15/100, pooled: p = 23/200 = 0.115,
//   se = sqrt(0.115 * 0.885 * (1/100 + 1/100)) = 0.0451165,
//   z = 0.07 / 0.0451165 = 1.551538, p = 2 (1 - Phi(1.551538)) = 0.120773: not significant.
TEST(Proportions, WilsonAndTwoProportionZTest) {
  const ProportionCi a = proportion_ci(8, 100);
  EXPECT_DOUBLE_EQ(a.p, 0.08);
  EXPECT_NEAR(a.lo, 0.0410935, 1e-6);
  EXPECT_NEAR(a.hi, 0.1499811, 1e-6);
  const ProportionCi b = proportion_ci(15, 100);
  EXPECT_NEAR(b.lo, 0.0930599, 1e-6);
  EXPECT_NEAR(b.hi, 0.2328356, 1e-6);

  const ProportionComparison c = two_proportions(a, b);
  ASSERT_TRUE(c.defined);
  EXPECT_NEAR(c.diff, 0.07, 1e-15);
  EXPECT_NEAR(c.z, 1.551538, 1e-6);
  EXPECT_NEAR(c.p_value, 0.120773, 1e-6);
  EXPECT_FALSE(c.significant);
  // Newcombe: 0.07 - sqrt((0.15 - 0.0930599)^2 + (0.1499811 - 0.08)^2) = -0.0202194,
  //           0.07 + sqrt((0.2328356 - 0.15)^2 + (0.08 - 0.0410935)^2) = 0.1615175
  EXPECT_NEAR(c.lo, -0.0202194, 1e-6);
  EXPECT_NEAR(c.hi, 0.1615175, 1e-6);

  // Ten times the data: 80/1000 against 150/1000 is.
  EXPECT_TRUE(two_proportions(proportion_ci(80, 1000), proportion_ci(150, 1000)).significant);
}

TEST(Proportions, Edges) {
  const ProportionCi zero = proportion_ci(0, 20);
  EXPECT_EQ(zero.p, 0);
  EXPECT_EQ(zero.lo, 0);
  EXPECT_NEAR(zero.hi, 0.161125, 1e-6);  // z^2 / (n + z^2) = 3.841459 / 23.841459
  const ProportionCi all = proportion_ci(20, 20);
  EXPECT_NEAR(all.lo, 1 - 0.161125, 1e-6);
  EXPECT_EQ(all.hi, 1);
  EXPECT_TRUE(std::isnan(proportion_ci(0, 0).p));
  EXPECT_TRUE(std::isnan(proportion_ci(5, 3).p));
  EXPECT_FALSE(two_proportions(proportion_ci(0, 0), zero).defined);

  const ProportionComparison none = two_proportions(zero, proportion_ci(0, 50));  // pooled rate 0
  EXPECT_EQ(none.z, 0);
  EXPECT_EQ(none.p_value, 1);
  EXPECT_FALSE(none.significant);
}

TEST(Percentiles, LinearInterpolationBetweenOrderStatistics) {
  const std::vector<double> v{100, 200, 300, 400, 1000};
  EXPECT_EQ(quantile(v, 0), 100);
  EXPECT_EQ(quantile(v, 0.5), 300);
  EXPECT_DOUBLE_EQ(quantile(v, 0.95), 880);  // h = 3.8: 400 + 0.8 * 600
  EXPECT_EQ(quantile(v, 1), 1000);
  EXPECT_DOUBLE_EQ(quantile(std::vector<double>{1, 2}, 0.25), 1.25);
  EXPECT_EQ(quantile(std::vector<double>{7}, 0.95), 7);
  EXPECT_TRUE(std::isnan(quantile({}, 0.5)));
  EXPECT_TRUE(std::isnan(quantile(v, 1.5)));
}

}  // namespace
}  // namespace sy::telemetry
