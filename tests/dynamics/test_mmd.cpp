// Unbiased RBF MMD^2 against a plain double loop, its behaviour on equal and shifted
// distributions, and the MMD^2 curve along a transport.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "eqflow/core/error.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/dynamics/mmd.hpp"
#include "eqflow/dynamics/vector_field.hpp"
#include "support/host.hpp"

namespace eqflow {
namespace {

double reference_mmd2(const std::vector<double>& x, const std::vector<double>& y, std::size_t d,
                      double sigma) {
  const std::size_t n = x.size() / d, m = y.size() / d;
  const auto k = [&](const double* a, const double* b) {
    double s = 0;
    for (std::size_t c = 0; c < d; ++c) s += (a[c] - b[c]) * (a[c] - b[c]);
    return std::exp(-s / (2 * sigma * sigma));
  };
  double xx = 0, yy = 0, xy = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j)
      if (i != j) xx += k(&x[i * d], &x[j * d]);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < m; ++j)
      if (i != j) yy += k(&y[i * d], &y[j * d]);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < m; ++j) xy += k(&x[i * d], &y[j * d]);
  return xx / (n * (n - 1.0)) + yy / (m * (m - 1.0)) - 2 * xy / (double(n) * m);
}

TEST(MmdRbf, MatchesPlainLoop) {
  for (const auto& [n, m, d] :
       std::vector<std::array<std::size_t, 3>>{{2, 2, 1}, {37, 23, 3}, {64, 101, 2}}) {
    View2<double> x("x", n, d), y("y", m, d);
    fill_normal(x, CounterRng(21, n), 0);
    fill_normal(y, CounterRng(22, m), 0);
    auto hy = test::to_vector(y);
    for (auto& v : hy) v = 0.3 + 1.2 * v;
    test::from_vector(y, hy);
    const double ref = reference_mmd2(test::to_vector(x), hy, d, 0.7);
    EXPECT_NEAR(dynamics::mmd2_rbf<double>(x, y, 0.7), ref, 1e-12 * std::abs(ref) + 1e-15)
        << n << " x " << m << " x " << d;
    View2<float> xf("xf", n, d), yf("yf", m, d);
    test::from_vector(xf, test::to_vector(x));
    test::from_vector(yf, hy);
    EXPECT_NEAR(dynamics::mmd2_rbf<float>(xf, yf, 0.7), ref, 1e-5);
  }
  View2<double> one("one", 1, 2), two("two", 2, 2), wide("wide", 2, 3);
  EXPECT_THROW(dynamics::mmd2_rbf<double>(one, two, 0.5), ShapeError);
  EXPECT_THROW(dynamics::mmd2_rbf<double>(two, wide, 0.5), ShapeError);
}

TEST(MmdRbf, SameDistributionIsNearZeroShiftedIsPositive) {
  const std::size_t n = 400;
  View2<double> a("a", n, 2), b("b", n, 2), shifted("shifted", n, 2);
  fill_normal(a, CounterRng(23, 0), 0);
  fill_normal(b, CounterRng(23, 1), 0);
  auto hs = test::to_vector(b);
  for (std::size_t i = 0; i < hs.size(); i += 2) hs[i] += 1.0;
  test::from_vector(shifted, hs);
  const double same = dynamics::mmd2_rbf<double>(a, b, 0.5);
  const double apart = dynamics::mmd2_rbf<double>(a, shifted, 0.5);
  EXPECT_LT(std::abs(same), 0.005);
  EXPECT_GT(apart, 0.05);
  EXPECT_GT(apart, 20 * std::abs(same));
}

TEST(MmdCurve, RotationPreservesAndContractionDoesNot) {
  const std::size_t n = 200;
  View2<double> x("x", n, 2);
  fill_normal(x, CounterRng(24, 0), 0);
  // A rotation keeps the standard normal; v = -x shrinks it.
  dynamics::LinearField<double> rotation(2, {0.0, 1.0, -1.0, 0.0}), contraction(2, {-1, 0, 0, -1});
  const auto kept = dynamics::mmd2_curve<double>(rotation, x, 0.1, 20, 5, 0.5);
  const auto lost = dynamics::mmd2_curve<double>(contraction, x, 0.1, 20, 5, 0.5);
  ASSERT_EQ(kept.times.size(), 5u);
  ASSERT_EQ(kept.mmd2.size(), 5u);
  EXPECT_NEAR(kept.times[4], 2.0, 1e-12);
  EXPECT_NEAR(kept.mmd2[0], dynamics::mmd2_rbf<double>(x, x, 0.5), 1e-15);
  EXPECT_LE(kept.mmd2[0], 0.0);
  EXPECT_EQ(kept.mmd2[0], lost.mmd2[0]);
  for (std::size_t i = 1; i < 5; ++i) {
    EXPECT_LT(std::abs(kept.mmd2[i]), 0.02) << "t = " << kept.times[i];
    EXPECT_GT(lost.mmd2[i], lost.mmd2[i - 1]) << "t = " << lost.times[i];
  }
  EXPECT_GT(lost.mmd2[4], 0.2);
}

}  // namespace
}  // namespace eqflow
