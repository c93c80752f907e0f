// gemm through KokkosKernels against a plain-loop reference: all transposes, sizes 0, 1,
// primes and a large case, tolerances scaled by the reduction length.
#include <gtest/gtest.h>

#include <tuple>

#include "eqflow/core/blas.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/core/rng.hpp"
#include "support/host.hpp"

namespace eqflow {
namespace {

template <class Scalar>
void check_gemm(std::size_t m, std::size_t n, std::size_t k, bool ta, bool tb, double alpha,
                double beta) {
  View2<Scalar> a("a", ta ? k : m, ta ? m : k), b("b", tb ? n : k, tb ? k : n), c("c", m, n);
  fill_uniform(a, CounterRng(1, m), 0, Scalar(-1), Scalar(1));
  fill_uniform(b, CounterRng(2, n), 0, Scalar(-1), Scalar(1));
  fill_uniform(c, CounterRng(3, k), 0, Scalar(-1), Scalar(1));
  const auto ha = test::to_vector(a), hb = test::to_vector(b), hc = test::to_vector(c);
  std::vector<double> ref(m * n);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::size_t l = 0; l < k; ++l) {
        const double x = ta ? ha[l * m + i] : ha[i * k + l];
        const double y = tb ? hb[j * k + l] : hb[l * n + j];
        s += x * y;
      }
      ref[i * n + j] = alpha * s + beta * hc[i * n + j];
    }
  }
  gemm<Scalar>(ta ? "T" : "N", tb ? "T" : "N", Scalar(alpha), a, b, Scalar(beta), c);
  const double eps = std::is_same_v<Scalar, float> ? 1.2e-7 : 2.3e-16;
  test::expect_close(
      test::to_vector(c), ref, 4 * eps * (k + 1), 4 * eps,
      "gemm " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k));
}

TEST(Gemm, MatchesPlainLoops) {
  const std::tuple<int, int, int> shapes[] = {{0, 3, 2},  {3, 0, 2},    {3, 2, 0},     {1, 1, 1},
                                              {7, 13, 5}, {31, 17, 61}, {257, 64, 131}};
  for (const auto& [m, n, k] : shapes) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        check_gemm<double>(m, n, k, ta, tb, 1.0, 0.0);
        check_gemm<double>(m, n, k, ta, tb, -0.5, 1.5);
        check_gemm<float>(m, n, k, ta, tb, 2.0, 0.25);
      }
    }
  }
}

TEST(Gemm, RejectsMismatchedShapes) {
  View2<double> a("a", 3, 4), b("b", 5, 2), c("c", 3, 2);
  EXPECT_THROW(gemm<double>("N", "N", 1.0, a, b, 0.0, c), ShapeError);
}

}  // namespace
}  // namespace eqflow
