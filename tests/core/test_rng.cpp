// Counter-based RNG: Philox known answers, independence of how a range is chunked, and the
// moments of the uniform and normal streams.
#include <gtest/gtest.h>

#include <cmath>

#include "eqflow/core/rng.hpp"
#include "support/host.hpp"

namespace eqflow {
namespace {

TEST(CounterRng, PhiloxKnownAnswers) {
  // Random123's known-answer vectors for philox4x32-10.
  const auto zero = CounterRng(0, 0).bits(0);
  EXPECT_EQ(zero.v[0], 0x6627e8d5u);
  EXPECT_EQ(zero.v[1], 0xe169c58du);
  EXPECT_EQ(zero.v[2], 0xbc57ac4cu);
  EXPECT_EQ(zero.v[3], 0x9b00dbd8u);
  const auto pi =
      CounterRng(0x299f31d0a4093822ull, 0x0370734413198a2eull).bits(0x85a308d3243f6a88ull);
  EXPECT_EQ(pi.v[0], 0xd16cfe09u);
  EXPECT_EQ(pi.v[1], 0x94fdccebu);
  EXPECT_EQ(pi.v[2], 0x5001e420u);
  EXPECT_EQ(pi.v[3], 0x24126ea1u);
}

TEST(CounterRng, ChunkingDoesNotChangeTheStream) {
  const std::size_t n = 10007;
  const CounterRng rng(42, 7);
  View1<double> whole("whole", n);
  fill_normal(whole, rng, 1000);
  View1<double> pieces("pieces", n);
  // Uneven chunks, as ranks or kernels with different splits would draw them.
  const std::size_t cuts[] = {0, 1, 13, 4096, 4097, 9999, n};
  for (std::size_t c = 0; c + 1 < std::size(cuts); ++c) {
    auto part = Kokkos::subview(pieces, Kokkos::make_pair(cuts[c], cuts[c + 1]));
    fill_normal(part, rng, 1000 + cuts[c]);
  }
  EXPECT_EQ(test::to_vector(whole), test::to_vector(pieces));

  View1<float> u_whole("u_whole", n), u_pieces("u_pieces", n);
  fill_uniform(u_whole, rng, 5, -2.0f, 3.0f);
  fill_uniform(Kokkos::subview(u_pieces, std::pair<std::size_t, std::size_t>(0, 500)), rng, 5,
               -2.0f, 3.0f);
  fill_uniform(Kokkos::subview(u_pieces, std::pair<std::size_t, std::size_t>(500, n)), rng, 505,
               -2.0f, 3.0f);
  EXPECT_EQ(test::to_vector(u_whole), test::to_vector(u_pieces));
}

TEST(CounterRng, StreamsAndSeedsDiffer) {
  const CounterRng a(1, 0), b(1, 1), c(2, 0);
  EXPECT_NE(a.normal(0), b.normal(0));
  EXPECT_NE(a.normal(0), c.normal(0));
  EXPECT_EQ(a.substream(1).normal(3), b.normal(3));
}

TEST(CounterRng, Moments) {
  // n = 2^20 draws: standard errors are 1/sqrt(n) ~ 1e-3; bounds at about 5 standard errors.
  const std::size_t n = 1 << 20;
  View1<double> x("x", n);
  fill_normal(x, CounterRng(3, 0), 0);
  const auto v = test::to_vector(x);
  double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
  for (double e : v) {
    m1 += e;
    m2 += e * e;
    m3 += e * e * e;
    m4 += e * e * e * e;
  }
  m1 /= n, m2 /= n, m3 /= n, m4 /= n;
  EXPECT_NEAR(m1, 0.0, 5e-3);
  EXPECT_NEAR(m2, 1.0, 7e-3);  // sd of x^2 is sqrt(2)
  EXPECT_NEAR(m3, 0.0, 2e-2);  // sd of x^3 is sqrt(15)
  EXPECT_NEAR(m4, 3.0, 5e-2);  // sd of x^4 is sqrt(96)

  fill_uniform(x, CounterRng(3, 1), 0, 0.0, 1.0);
  const auto u = test::to_vector(x);
  double mean = 0, var = 0, lo = 1, hi = 0;
  for (double e : u) {
    mean += e;
    lo = std::min(lo, e);
    hi = std::max(hi, e);
  }
  mean /= n;
  for (double e : u) var += (e - mean) * (e - mean);
  var /= n;
  EXPECT_NEAR(mean, 0.5, 2e-3);
  EXPECT_NEAR(var, 1.0 / 12.0, 1e-3);
  EXPECT_GT(lo, 0.0);
  EXPECT_LT(hi, 1.0);
}

}  // namespace
}  // namespace eqflow
