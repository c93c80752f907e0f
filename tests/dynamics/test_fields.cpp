// Vector fields: Jacobian-vector products of the Lorenz field (plain and normalised) and of a
// flow model and of a score model at a fixed time (ScoreField) against central finite
// differences, and the |cosine| field similarity.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "eqflow/core/error.hpp"
#include "eqflow/core/rng.hpp"
#include "eqflow/diffusion/score_model.hpp"
#include "eqflow/dynamics/score_field.hpp"
#include "eqflow/dynamics/similarity.hpp"
#include "eqflow/dynamics/vector_field.hpp"
#include "eqflow/nn/model.hpp"
#include "support/host.hpp"

namespace eqflow {
namespace {

using dynamics::VectorField;

//! (v(x_n + h t) - v(x_n - h t)) / 2h for every tangent row (k*N + n), host vectors.
std::vector<double> finite_difference_jvp(VectorField<double>& field, const View2<double>& x,
                                          const View2<double>& t, double h) {
  const std::size_t n = x.extent(0), d = x.extent(1), k = t.extent(0) / n;
  const auto hx = test::to_vector(x), ht = test::to_vector(t);
  std::vector<double> up(k * n * d), down(k * n * d);
  for (std::size_t r = 0; r < k * n; ++r) {
    for (std::size_t c = 0; c < d; ++c) {
      up[r * d + c] = hx[(r % n) * d + c] + h * ht[r * d + c];
      down[r * d + c] = hx[(r % n) * d + c] - h * ht[r * d + c];
    }
  }
  View2<double> xu("xu", k * n, d), xd("xd", k * n, d), vu("vu", k * n, d), vd("vd", k * n, d);
  test::from_vector(xu, up);
  test::from_vector(xd, down);
  field.velocity(xu, vu);
  field.velocity(xd, vd);
  const auto fu = test::to_vector(vu), fdn = test::to_vector(vd);
  std::vector<double> out(fu.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = (fu[i] - fdn[i]) / (2 * h);
  return out;
}

void check_jvp(VectorField<double>& field, const View2<double>& x, std::size_t probes, double h,
               double atol, double rtol) {
  const std::size_t n = x.extent(0), d = field.dim();
  View2<double> t("t", probes * n, d), jt("jt", probes * n, d);
  View2<double> v("v", n, d), v2("v2", n, d), jt2("jt2", probes * n, d);
  fill_normal(t, CounterRng(11, 1), 0);
  field.jvp(x, t, jt);
  test::expect_close(test::to_vector(jt), finite_difference_jvp(field, x, t, h), atol, rtol, "jvp");
  // The combined call gives the same products and the plain velocity.
  field.velocity(x, v);
  field.velocity_and_jvp(x, v2, t, jt2);
  test::expect_close(test::to_vector(v2), test::to_vector(v), 0.0, 0.0, "velocity");
  test::expect_close(test::to_vector(jt2), test::to_vector(jt), 0.0, 0.0, "jvp combined");
}

TEST(FieldLorenz, JvpMatchesFiniteDifferences) {
  dynamics::LorenzField<double> field;
  View2<double> x("x", 4, 3);
  fill_normal(x, CounterRng(11, 0), 0);
  auto hx = test::to_vector(x);
  for (auto& v : hx) v *= 10.0;
  test::from_vector(x, hx);
  check_jvp(field, x, 3, 1e-4, 1e-7, 1e-9);
  EXPECT_DOUBLE_EQ(field.divergence(), -(10.0 + 1.0 + 8.0 / 3.0));
}

TEST(FieldLorenz, NormalisedFieldIsTheConjugateField) {
  const std::array<double, 3> mean{0.3, -0.2, 23.5}, stddev{7.9, 9.0, 8.6};
  dynamics::LorenzField<double> plain, normalised({}, mean, stddev);
  View2<double> u("u", 5, 3), x("x", 5, 3), vu("vu", 5, 3), vx("vx", 5, 3);
  fill_normal(u, CounterRng(12, 0), 0);
  check_jvp(normalised, u, 3, 1e-5, 1e-7, 1e-8);
  // du/dt = f(m + s u) / s
  auto hu = test::to_vector(u), hx = hu;
  for (std::size_t i = 0; i < hx.size(); ++i) hx[i] = mean[i % 3] + stddev[i % 3] * hu[i];
  test::from_vector(x, hx);
  normalised.velocity(u, vu);
  plain.velocity(x, vx);
  auto expected = test::to_vector(vx);
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] /= stddev[i % 3];
  test::expect_close(test::to_vector(vu), expected, 1e-12, 1e-12, "normalised velocity");
  EXPECT_THROW(dynamics::LorenzField<double>({}, mean, {1.0, 0.0, 1.0}), Error);
}

TEST(FieldModel, JvpMatchesFiniteDifferencesInEvalMode) {
  nn::Model<double> model(nn::make_flow_kernel<double>(3, 8), 5);
  // Non-trivial running statistics from a few training-mode passes.
  View2<double> batch("batch", 64, 3), out("out", 64, 3);
  for (int pass = 0; pass < 3; ++pass) {
    fill_normal(batch, CounterRng(13, pass), 0);
    model.forward(batch, out, nn::Mode::Train);
  }
  dynamics::ModelField<double> field(model);
  EXPECT_EQ(field.dim(), 3u);
  EXPECT_EQ(field.mode(), nn::Mode::Eval);
  View2<double> x("x", 6, 3);
  fill_normal(x, CounterRng(13, 10), 0);
  check_jvp(field, x, 3, 1e-5, 1e-8, 1e-6);
  // Eval mode: a point's velocity does not depend on the rest of the batch.
  View2<double> v("v", 6, 3), one("one", 1, 3), v1("v1", 1, 3);
  field.velocity(x, v);
  Kokkos::deep_copy(one, Kokkos::subview(x, std::make_pair(2, 3), Kokkos::ALL()));
  field.velocity(one, v1);
  const auto all = test::to_vector(v);
  test::expect_close(test::to_vector(v1), {all[6], all[7], all[8]}, 1e-15, 1e-13, "row 2");
  nn::Model<double> wide(nn::make_score_mlp<double>(3, 8), 1);  // 4 -> 3 features
  EXPECT_THROW(dynamics::ModelField<double>{wide}, ShapeError);
}

// The score field's JVPs against central differences of the score in float64, at a time
// inside the schedule; its velocity is the score at tau.
TEST(ScoreField, JacobianVectorProductsMatchFiniteDifferences) {
  diffusion::ScoreModel<double> model(2, 16, diffusion::NoiseSchedule::cosine(), 9);
  const double tau = 0.04;
  dynamics::ScoreField<double> field(model, tau);
  const std::size_t n = 5, d = 2, k = 2;
  View2<double> x("x", n, d), t("t", k * n, d), s("s", n, d), direct("direct", n, d),
      jt("jt", k * n, d);
  fill_normal(x, CounterRng(1, 0), 0);
  fill_normal(t, CounterRng(2, 0), 0);
  field.velocity_and_jvp(x, s, t, jt);
  model.score(x, tau, direct);
  EXPECT_EQ(test::to_vector(s), test::to_vector(direct));
  const auto got = test::to_vector(jt);
  const auto tangents = test::to_vector(t), base = test::to_vector(x);
  std::vector<double> expected(got.size());
  const double h = 1e-6;
  for (std::size_t r = 0; r < k * n; ++r) {
    const std::size_t p = r % n;
    std::vector<double> up = base, down = base;
    for (std::size_t j = 0; j < d; ++j) {
      up[p * d + j] += h * tangents[r * d + j];
      down[p * d + j] -= h * tangents[r * d + j];
    }
    test::from_vector(x, up);
    field.velocity(x, s);
    const auto su = test::to_vector(s);
    test::from_vector(x, down);
    field.velocity(x, s);
    const auto sd = test::to_vector(s);
    for (std::size_t j = 0; j < d; ++j)
      expected[r * d + j] = (su[p * d + j] - sd[p * d + j]) / (2 * h);
  }
  test::expect_close(got, expected, 1e-6, 1e-6, "ScoreField jvp");
  test::from_vector(x, base);
  View2<double> jt2("jt2", k * n, d);
  field.jvp(x, t, jt2);
  EXPECT_EQ(test::to_vector(jt2), got);
}

TEST(FieldSimilarity, AbsoluteCosine) {
  View2<double> x("x", 50, 2);
  fill_normal(x, CounterRng(15, 0), 0);
  dynamics::LinearField<double> a(2, {0.3, 1.0, -1.0, -0.2}), minus_a(2, {-0.3, -1.0, 1.0, 0.2});
  dynamics::LinearField<double> rotation(2, {0.0, 1.0, -1.0, 0.0}), identity(2, {1, 0, 0, 1});
  EXPECT_NEAR(dynamics::field_similarity<double>(a, a, x), 1.0, 1e-14);
  EXPECT_NEAR(dynamics::field_similarity<double>(a, minus_a, x), 1.0, 1e-14);
  // (y, -x) . (x, y) = 0 point by point.
  EXPECT_NEAR(dynamics::field_similarity<double>(rotation, identity, x), 0.0, 1e-14);
  const double partial = dynamics::field_similarity<double>(a, identity, x);
  EXPECT_GT(partial, 0.0);
  EXPECT_LT(partial, 1.0);
  dynamics::LinearField<double> zero(2, {0, 0, 0, 0});
  EXPECT_TRUE(std::isnan(dynamics::field_similarity<double>(a, zero, x)));
  // Against a plain loop, and in float.
  View2<double> va("va", 50, 2), vb("vb", 50, 2);
  a.velocity(x, va);
  identity.velocity(x, vb);
  const auto ha = test::to_vector(va), hb = test::to_vector(vb);
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < ha.size(); ++i) {
    ab += ha[i] * hb[i];
    aa += ha[i] * ha[i];
    bb += hb[i] * hb[i];
  }
  EXPECT_NEAR(partial, std::abs(ab) / std::sqrt(aa * bb), 1e-14);
  dynamics::LinearField<float> af(2, {0.3, 1.0, -1.0, -0.2}), idf(2, {1, 0, 0, 1});
  View2<float> xf("xf", 50, 2);
  fill_normal(xf, CounterRng(15, 0), 0);
  EXPECT_NEAR(dynamics::field_similarity<float>(af, idf, xf), partial, 1e-5);
}

}  // namespace
}  // namespace eqflow
