// RBF MMD^2 estimators as Kokkos reductions (double accumulation), the median-distance
// bandwidth and the transport curve, instantiated for float and double.
#include "eqflow/dynamics/mmd.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "eqflow/core/error.hpp"
#include "eqflow/core/math.hpp"
#include "eqflow/core/profiling.hpp"

namespace eqflow::dynamics {
namespace {

template <class Scalar>
using ConstView2 = Kokkos::View<const Scalar**, Layout, MemSpace>;

template <class Scalar>
KOKKOS_INLINE_FUNCTION double rbf(const ConstView2<Scalar>& a, std::size_t i,
                                  const ConstView2<Scalar>& b, std::size_t j, std::size_t d,
                                  double inv_two_s2) {
  double dist2 = 0;
  for (std::size_t c = 0; c < d; ++c) {
    const double diff = double(a(i, c)) - double(b(j, c));
    dist2 += diff * diff;
  }
  return math::exp(-dist2 * inv_two_s2);
}

//! sum_{i, j} k(a_i, b_j), without the terms i == j when `skip_diagonal`. a (n, d), b (m, d).
template <class Scalar>
double kernel_sum(const ConstView2<Scalar>& a, const ConstView2<Scalar>& b, double inv_two_s2,
                  bool skip_diagonal) {
  const std::size_t m = b.extent(0), d = a.extent(1);
  double total = 0;
  Kokkos::parallel_reduce(
      "eqflow::dynamics::rbf_kernel_sum", RangePolicy(0, a.extent(0)),
      KOKKOS_LAMBDA(const std::size_t i, double& sum) {
        for (std::size_t j = 0; j < m; ++j) {
          if (skip_diagonal && i == j) continue;
          sum += rbf<Scalar>(a, i, b, j, d, inv_two_s2);
        }
      },
      total);
  return total;
}

double inverse_two_sigma2(const char* who, double sigma) {
  if (!(sigma > 0.0) || !std::isfinite(sigma)) {
    throw Error(fmt::format("{}: sigma = {}, expected a finite number > 0", who, sigma));
  }
  return 1.0 / (2.0 * sigma * sigma);
}

}  // namespace

template <class Scalar>
double mmd2_rbf_two_sample(const ConstView2<Scalar>& x, const ConstView2<Scalar>& y, double sigma) {
  ScopedRegion region("eqflow::dynamics::mmd2_rbf_two_sample");
  const std::size_t n = x.extent(0), m = y.extent(0);
  if (n < 2 || m < 2 || x.extent(1) != y.extent(1)) {
    throw ShapeError(
        fmt::format("mmd2_rbf_two_sample: clouds ({}, {}) and ({}, {}); need >= 2 points each "
                    "and equal widths",
                    n, x.extent(1), m, y.extent(1)));
  }
  const double inv = inverse_two_sigma2("mmd2_rbf_two_sample", sigma);
  const double xx = kernel_sum<Scalar>(x, x, inv, true);
  const double yy = kernel_sum<Scalar>(y, y, inv, true);
  const double xy = kernel_sum<Scalar>(x, y, inv, false);
  const double dn = double(n), dm = double(m);
  return xx / (dn * (dn - 1)) + yy / (dm * (dm - 1)) - 2.0 * xy / (dn * dm);
}

template <class Scalar>
double mmd2_rbf_paired(const ConstView2<Scalar>& x, const ConstView2<Scalar>& y, double sigma) {
  ScopedRegion region("eqflow::dynamics::mmd2_rbf_paired");
  const std::size_t n = x.extent(0), d = x.extent(1);
  if (n < 2 || y.extent(0) != n || y.extent(1) != d) {
    throw ShapeError(
        fmt::format("mmd2_rbf_paired: clouds ({}, {}) and ({}, {}); need the same shape with "
                    ">= 2 points",
                    n, d, y.extent(0), y.extent(1)));
  }
  const double inv = inverse_two_sigma2("mmd2_rbf_paired", sigma);
  // Summed over ordered pairs, k(x_j, y_i) contributes as much as k(x_i, y_j): each term is
  // k(x_i, x_j) + k(y_i, y_j) - 2 k(x_i, y_j), exactly 0 when y = x.
  double total = 0;
  Kokkos::parallel_reduce(
      "eqflow::dynamics::mmd2_rbf_paired", RangePolicy(0, n),
      KOKKOS_LAMBDA(const std::size_t i, double& sum) {
        for (std::size_t j = 0; j < n; ++j) {
          if (i == j) continue;
          const double xx = rbf<Scalar>(x, i, x, j, d, inv);
          const double yy = rbf<Scalar>(y, i, y, j, d, inv);
          const double xy = rbf<Scalar>(x, i, y, j, d, inv);
          sum += (xx + yy) - 2.0 * xy;
        }
      },
      total);
  const double dn = double(n);
  return total / (dn * (dn - 1));
}

template <class Scalar>
double median_pairwise_distance(const ConstView2<Scalar>& x, std::size_t max_points) {
  ScopedRegion region("eqflow::dynamics::median_pairwise_distance");
  const std::size_t n = std::min(x.extent(0), max_points), d = x.extent(1);
  if (n < 2) {
    throw ShapeError(fmt::format("median_pairwise_distance: {} points (max_points {}); need >= 2",
                                 x.extent(0), max_points));
  }
  const auto h = Kokkos::create_mirror_view_and_copy(HostSpace(), x);
  std::vector<double> dist;
  dist.reserve(n * (n - 1) / 2);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      double s = 0;
      for (std::size_t c = 0; c < d; ++c) {
        const double diff = double(h(i, c)) - double(h(j, c));
        s += diff * diff;
      }
      dist.push_back(std::sqrt(s));
    }
  }
  const std::size_t mid = dist.size() / 2;
  std::nth_element(dist.begin(), dist.begin() + mid, dist.end());
  double median = dist[mid];
  if (dist.size() % 2 == 0) {
    median = 0.5 * (median + *std::max_element(dist.begin(), dist.begin() + mid));
  }
  if (!(median > 0) || !std::isfinite(median)) {
    throw Error(fmt::format(
        "median_pairwise_distance: the median distance of {} points is {}; give a fixed "
        "bandwidth",
        n, median));
  }
  return median;
}

template <class Scalar>
TransportCurve transport_curve(VectorField<Scalar>& field, const ConstView2<Scalar>& x,
                               const TransportSettings& settings,
                               const LangevinCorrection<Scalar>& correction,
                               const FrameObserver<Scalar>& observe) {
  ScopedRegion region("eqflow::dynamics::transport_curve");
  if (settings.every == 0) throw Error("transport_curve: every must be >= 1");
  inverse_two_sigma2("transport_curve", settings.sigma);
  const std::size_t n = x.extent(0), d = x.extent(1);
  View2<Scalar> state(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string("eqflow::transport::state")), n,
      d);
  Kokkos::deep_copy(state, x);
  Rk4<Scalar> stepper(n, d);
  const bool langevin = correction.score != nullptr && correction.eta != 0;
  LangevinHeun<Scalar> corrector(langevin ? n : 0, langevin ? d : 0);
  const auto dt = static_cast<Scalar>(settings.dt);
  const double bound = settings.bound;
  TransportCurve curve;
  for (std::size_t s = 0;; ++s) {
    if (s % settings.every == 0) {
      curve.times.push_back(double(s) * settings.dt);
      curve.mmd2.push_back(mmd2_rbf_paired<Scalar>(x, state, settings.sigma));
      double inside = 0;
      Kokkos::parallel_reduce(
          "eqflow::dynamics::transport_bounded", RangePolicy(0, n),
          KOKKOS_LAMBDA(const std::size_t i, double& ok) {
            bool inside_bound = true;  // false for NaN and inf too
            for (std::size_t c = 0; c < d; ++c) {
              inside_bound = inside_bound && math::abs(double(state(i, c))) < bound;
            }
            ok += inside_bound ? 1.0 : 0.0;
          },
          inside);
      curve.bounded.push_back(inside / double(n));
      if (observe) observe(curve.times.size() - 1, state);
    }
    if (s == settings.steps) break;
    stepper.step(field, state, dt);
    if (langevin) corrector.step(*correction.score, state, correction.eta, dt, correction.noise, s);
  }
  return curve;
}

template double mmd2_rbf_two_sample<float>(const ConstView2<float>&, const ConstView2<float>&,
                                           double);
template double mmd2_rbf_paired<float>(const ConstView2<float>&, const ConstView2<float>&, double);
template double median_pairwise_distance<float>(const ConstView2<float>&, std::size_t);
template TransportCurve transport_curve<float>(VectorField<float>&, const ConstView2<float>&,
                                               const TransportSettings&,
                                               const LangevinCorrection<float>&,
                                               const FrameObserver<float>&);
template double mmd2_rbf_two_sample<double>(const ConstView2<double>&, const ConstView2<double>&,
                                            double);
template double mmd2_rbf_paired<double>(const ConstView2<double>&, const ConstView2<double>&,
                                        double);
template double median_pairwise_distance<double>(const ConstView2<double>&, std::size_t);
template TransportCurve transport_curve<double>(VectorField<double>&, const ConstView2<double>&,
                                                const TransportSettings&,
                                                const LangevinCorrection<double>&,
                                                const FrameObserver<double>&);

}  // namespace eqflow::dynamics
