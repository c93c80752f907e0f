// RBF MMD^2 estimators (two-sample and paired) against plain double loops, their unbiasedness
// over many independent draws, the median-distance bandwidth, and the transport curve.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "eqflow/core/error.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/dynamics/integrators.hpp"
#include "eqflow/dynamics/mmd.hpp"
#include "eqflow/dynamics/vector_field.hpp"
#include "support/host.hpp"

namespace eqflow {
namespace {

struct Kernel {
  std::size_t d;
  double sigma;
  double operator()(const double* a, const double* b) const {
    double s = 0;
    for (std::size_t c = 0; c < d; ++c) s += (a[c] - b[c]) * (a[c] - b[c]);
    return std::exp(-s / (2 * sigma * sigma));
  }
};

double reference_two_sample(const std::vector<double>& x, const std::vector<double>& y,
                            std::size_t d, double sigma) {
  const Kernel k{d, sigma};
  const std::size_t n = x.size() / d, m = y.size() / d;
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

// The U-statistic as written: h over unordered pairs i < j, all four kernel terms.
double reference_paired(const std::vector<double>& x, const std::vector<double>& y, std::size_t d,
                        double sigma) {
  const Kernel k{d, sigma};
  const std::size_t n = x.size() / d;
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      const double *xi = &x[i * d], *xj = &x[j * d], *yi = &y[i * d], *yj = &y[j * d];
      total += k(xi, xj) + k(yi, yj) - k(xi, yj) - k(xj, yi);
    }
  }
  return total / (n * (n - 1.0) / 2);
}

double reference_median_distance(const std::vector<double>& x, std::size_t d) {
  const std::size_t n = x.size() / d;
  std::vector<double> dist;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      double s = 0;
      for (std::size_t c = 0; c < d; ++c)
        s += (x[i * d + c] - x[j * d + c]) * (x[i * d + c] - x[j * d + c]);
      dist.push_back(std::sqrt(s));
    }
  }
  std::sort(dist.begin(), dist.end());
  const std::size_t k = dist.size();
  return k % 2 ? dist[k / 2] : 0.5 * (dist[k / 2 - 1] + dist[k / 2]);
}

// A standard normal cloud (n, d) from stream (seed, stream).
View2<double> normal_cloud(std::size_t n, std::size_t d, std::uint64_t seed, std::uint64_t stream) {
  View2<double> x("x", n, d);
  fill_normal(x, CounterRng(seed, stream), 0);
  return x;
}

// x rotated by `angle` in the plane of its first two coordinates (host copy in, View out).
View2<double> rotated(const View2<double>& x, double angle) {
  auto h = test::to_vector(x);
  const std::size_t d = x.extent(1);
  for (std::size_t i = 0; i < x.extent(0); ++i) {
    const double a = h[i * d], b = h[i * d + 1];
    h[i * d] = std::cos(angle) * a - std::sin(angle) * b;
    h[i * d + 1] = std::sin(angle) * a + std::cos(angle) * b;
  }
  View2<double> y("rotated", x.extent(0), d);
  test::from_vector(y, h);
  return y;
}

struct MeanAndError {
  double mean, standard_error;
};

MeanAndError mean_and_error(const std::vector<double>& v) {
  double mean = 0, var = 0;
  for (double x : v) mean += x;
  mean /= double(v.size());
  for (double x : v) var += (x - mean) * (x - mean);
  var /= double(v.size() - 1);
  return {mean, std::sqrt(var / double(v.size()))};
}

using Sizes = std::vector<std::array<std::size_t, 3>>;

TEST(MmdRbf, TwoSampleMatchesPlainLoop) {
  for (const auto& [n, m, d] :
       Sizes{{2, 2, 1}, {7, 2, 2}, {7, 37, 3}, {101, 64, 2}, {257, 300, 5}}) {
    const auto x = normal_cloud(n, d, 21, n);
    auto hy = test::to_vector(normal_cloud(m, d, 22, m));
    for (auto& v : hy) v = 0.3 + 1.2 * v;
    View2<double> y("y", m, d);
    test::from_vector(y, hy);
    const double ref = reference_two_sample(test::to_vector(x), hy, d, 0.7);
    // Sums of n^2 + m^2 + nm terms of size <= 1: relative error ~ eps log(n m), scaled by n.
    EXPECT_NEAR(dynamics::mmd2_rbf_two_sample<double>(x, y, 0.7), ref,
                1e-13 + 1e-12 * std::abs(ref))
        << n << " x " << m << " x " << d;
    View2<float> xf("xf", n, d), yf("yf", m, d);
    test::from_vector(xf, test::to_vector(x));
    test::from_vector(yf, hy);
    EXPECT_NEAR(dynamics::mmd2_rbf_two_sample<float>(xf, yf, 0.7), ref, 1e-5);
  }
  View2<double> one("one", 1, 2), two("two", 2, 2), wide("wide", 2, 3);
  EXPECT_THROW(dynamics::mmd2_rbf_two_sample<double>(one, two, 0.5), ShapeError);
  EXPECT_THROW(dynamics::mmd2_rbf_two_sample<double>(two, wide, 0.5), ShapeError);
  EXPECT_THROW(dynamics::mmd2_rbf_two_sample<double>(two, two, 0.0), Error);
}

TEST(MmdRbf, PairedMatchesPlainLoop) {
  for (const auto& [n, d, unused] :
       Sizes{{2, 1, 0}, {7, 2, 0}, {37, 3, 0}, {101, 2, 0}, {257, 5, 0}}) {
    (void)unused;
    const auto x = normal_cloud(n, d, 31, n);
    auto hy = test::to_vector(normal_cloud(n, d, 32, n));
    const auto hx = test::to_vector(x);
    // Images correlated with their points: y_i = 0.8 x_i + 0.5 noise_i + 0.2.
    for (std::size_t i = 0; i < hy.size(); ++i) hy[i] = 0.8 * hx[i] + 0.5 * hy[i] + 0.2;
    View2<double> y("y", n, d);
    test::from_vector(y, hy);
    const double ref = reference_paired(hx, hy, d, 0.9);
    EXPECT_NEAR(dynamics::mmd2_rbf_paired<double>(x, y, 0.9), ref, 1e-13 + 1e-12 * std::abs(ref))
        << n << " x " << d;
    View2<float> xf("xf", n, d), yf("yf", n, d);
    test::from_vector(xf, hx);
    test::from_vector(yf, hy);
    EXPECT_NEAR(dynamics::mmd2_rbf_paired<float>(xf, yf, 0.9), ref, 1e-5);
    // A cloud against itself: every term is exactly 0.
    EXPECT_EQ(dynamics::mmd2_rbf_paired<double>(x, x, 0.9), 0.0);
    EXPECT_EQ(dynamics::mmd2_rbf_paired<float>(xf, xf, 0.9), 0.0);
  }
  View2<double> one("one", 1, 2), two("two", 2, 2), three("three", 3, 2), wide("wide", 2, 3);
  EXPECT_THROW(dynamics::mmd2_rbf_paired<double>(one, one, 0.5), ShapeError);
  EXPECT_THROW(dynamics::mmd2_rbf_paired<double>(two, three, 0.5), ShapeError);
  EXPECT_THROW(dynamics::mmd2_rbf_paired<double>(two, wide, 0.5), ShapeError);
  EXPECT_THROW(dynamics::mmd2_rbf_paired<double>(two, two, -1.0), Error);
}

// Over many independent draws of small clouds (n = 16, where the bias of the two-sample formula
// on paired data is large), both estimators average to 0 within 4 standard errors when the
// distributions agree; the two-sample formula applied to points and their images does not.
TEST(MmdRbf, UnbiasedOverIndependentDraws) {
  const std::size_t n = 16, d = 2, draws = 400;
  const double sigma = 1.0;
  std::vector<double> two_sample, paired, misused;
  for (std::size_t r = 0; r < draws; ++r) {
    const auto x = normal_cloud(n, d, 41, 2 * r), y = normal_cloud(n, d, 41, 2 * r + 1);
    two_sample.push_back(dynamics::mmd2_rbf_two_sample<double>(x, y, sigma));
    // A rotation keeps the standard normal: the images have the points' distribution.
    const auto image = rotated(x, 0.3);
    paired.push_back(dynamics::mmd2_rbf_paired<double>(x, image, sigma));
    misused.push_back(dynamics::mmd2_rbf_two_sample<double>(x, image, sigma));
  }
  const auto t = mean_and_error(two_sample), p = mean_and_error(paired),
             m = mean_and_error(misused);
  EXPECT_LT(std::abs(t.mean), 4 * t.standard_error) << t.mean << " +- " << t.standard_error;
  EXPECT_LT(std::abs(p.mean), 4 * p.standard_error) << p.mean << " +- " << p.standard_error;
  EXPECT_LT(m.mean, -4 * m.standard_error) << m.mean << " +- " << m.standard_error;
}

TEST(MmdRbf, SameDistributionIsNearZeroShiftedIsPositive) {
  const std::size_t n = 400;
  const auto a = normal_cloud(n, 2, 23, 0), b = normal_cloud(n, 2, 23, 1);
  auto hs = test::to_vector(b);
  for (std::size_t i = 0; i < hs.size(); i += 2) hs[i] += 1.0;
  View2<double> shifted("shifted", n, 2);
  test::from_vector(shifted, hs);
  const double same = dynamics::mmd2_rbf_two_sample<double>(a, b, 0.5);
  const double apart = dynamics::mmd2_rbf_two_sample<double>(a, shifted, 0.5);
  EXPECT_LT(std::abs(same), 0.005);
  EXPECT_GT(apart, 0.05);
  EXPECT_GT(apart, 20 * std::abs(same));
  EXPECT_GT(dynamics::mmd2_rbf_paired<double>(b, shifted, 0.5), 0.05);
}

TEST(MedianPairwiseDistance, MatchesSortedDistances) {
  for (const auto& [n, d, unused] :
       Sizes{{2, 1, 0}, {7, 2, 0}, {8, 3, 0}, {37, 2, 0}, {300, 4, 0}}) {
    (void)unused;
    const auto x = normal_cloud(n, d, 51, n);
    const auto hx = test::to_vector(x);
    EXPECT_DOUBLE_EQ(dynamics::median_pairwise_distance<double>(x),
                     reference_median_distance(hx, d))
        << n << " x " << d;
    // Only the first max_points rows count.
    const std::vector<double> head(hx.begin(), hx.begin() + std::min<std::size_t>(n, 5) * d);
    EXPECT_DOUBLE_EQ(dynamics::median_pairwise_distance<double>(x, 5),
                     reference_median_distance(head, d));
  }
  // Standard normal in 2-D: |x - y|^2 / 2 is chi^2_2, whose median is 2 ln 2.
  EXPECT_NEAR(dynamics::median_pairwise_distance<double>(normal_cloud(2000, 2, 52, 0)),
              std::sqrt(4 * std::log(2.0)), 0.03);
  View2<double> one("one", 1, 2), same("same", 5, 2);
  EXPECT_THROW(dynamics::median_pairwise_distance<double>(one), ShapeError);
  EXPECT_THROW(dynamics::median_pairwise_distance<double>(same), Error);
}

// In 8-D the pairwise distances of standard normal points are about 4: a fixed sigma 0.5 sees
// kernels near e^-32 and hardly tells N(0, I) from N(0, 1.5^2 I); the median bandwidth can.
TEST(MedianPairwiseDistance, BandwidthSeesEightDimensions) {
  const std::size_t n = 200, d = 8;
  const auto x = normal_cloud(n, d, 53, 0);
  auto hy = test::to_vector(normal_cloud(n, d, 53, 1));
  for (auto& v : hy) v *= 1.5;
  View2<double> y("y", n, d);
  test::from_vector(y, hy);
  const double sigma = dynamics::median_pairwise_distance<double>(x);
  EXPECT_NEAR(sigma, 4.0, 0.3);
  const double fixed = dynamics::mmd2_rbf_two_sample<double>(x, y, 0.5);
  const double median = dynamics::mmd2_rbf_two_sample<double>(x, y, sigma);
  EXPECT_LT(std::abs(fixed), 1e-3);
  EXPECT_GT(median, 0.02);
  EXPECT_GT(median, 100 * std::abs(fixed));
}

TEST(TransportCurve, RotationPreservesAndContractionDoesNot) {
  const std::size_t n = 200;
  const auto x = normal_cloud(n, 2, 24, 0);
  // A rotation keeps the standard normal; v = -x shrinks it.
  dynamics::LinearField<double> rotation(2, {0.0, 1.0, -1.0, 0.0}), contraction(2, {-1, 0, 0, -1});
  dynamics::TransportSettings s;
  s.dt = 0.1, s.steps = 20, s.every = 5, s.sigma = 0.5;
  std::size_t observed = 0;
  const auto kept = dynamics::transport_curve<double>(
      rotation, x, s, {}, [&](std::size_t frame, const View2<double>&) { observed += frame + 1; });
  const auto lost = dynamics::transport_curve<double>(contraction, x, s);
  ASSERT_EQ(kept.times.size(), 5u);
  ASSERT_EQ(kept.mmd2.size(), 5u);
  ASSERT_EQ(kept.bounded.size(), 5u);
  EXPECT_EQ(observed, 1u + 2 + 3 + 4 + 5);
  EXPECT_NEAR(kept.times[4], 2.0, 1e-12);
  EXPECT_EQ(kept.mmd2[0], 0.0);
  EXPECT_EQ(lost.mmd2[0], 0.0);
  for (std::size_t i = 1; i < 5; ++i) {
    EXPECT_LT(std::abs(kept.mmd2[i]), 0.01) << "t = " << kept.times[i];
    EXPECT_GT(lost.mmd2[i], lost.mmd2[i - 1]) << "t = " << lost.times[i];
    EXPECT_EQ(kept.bounded[i], 1.0);
  }
  EXPECT_GT(lost.mmd2[4], 0.2);
}

// The frames the curve measures are those of `integrate` with the same Langevin correction,
// and points that leave the bound stop counting as bounded.
TEST(TransportCurve, FramesMatchIntegrateAndBoundCounts) {
  const std::size_t n = 64;
  const auto x = normal_cloud(n, 2, 25, 0);
  dynamics::LinearField<double> swirl(2, {0.1, 1.0, -1.0, 0.1}), score(2, {-1, 0, 0, -1});
  const dynamics::LangevinCorrection<double> correction{&score, 0.05, CounterRng(25, 1)};
  dynamics::TransportSettings s;
  s.dt = 0.05, s.steps = 12, s.every = 4, s.sigma = 1.0;
  const auto traj = dynamics::integrate<double>(swirl, x, s.dt, s.steps, s.every, correction);
  std::vector<std::vector<double>> frames;
  const auto curve = dynamics::transport_curve<double>(
      swirl, x, s, correction,
      [&](std::size_t, const View2<double>& frame) { frames.push_back(test::to_vector(frame)); });
  ASSERT_EQ(frames.size(), traj.extent(0));
  for (std::size_t f = 0; f < frames.size(); ++f) {
    const View2<double> want = Kokkos::subview(traj, f, Kokkos::ALL, Kokkos::ALL);
    EXPECT_EQ(frames[f], test::to_vector(want)) << "frame " << f;
    EXPECT_EQ(curve.mmd2[f], dynamics::mmd2_rbf_paired<double>(x, want, 1.0)) << "frame " << f;
  }
  // Expansion v = x: |x| grows by e^T; with the bound 1.5 fewer points stay inside over time.
  dynamics::LinearField<double> expansion(2, {1, 0, 0, 1});
  s.bound = 1.5;
  const auto out = dynamics::transport_curve<double>(expansion, x, s);
  EXPECT_LT(out.bounded.back(), out.bounded.front());
  EXPECT_GT(out.bounded.front(), 0.3);
  for (std::size_t i = 1; i < out.bounded.size(); ++i)
    EXPECT_LE(out.bounded[i], out.bounded[i - 1]);
}

}  // namespace
}  // namespace eqflow
