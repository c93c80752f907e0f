// Vector fields: a model as a field, the analytic Lorenz field (optionally normalised) and linear
// fields. Instantiated for float and double.
#include "eqflow/dynamics/vector_field.hpp"

#include <fmt/core.h>

#include <string>

#include "eqflow/core/error.hpp"
#include "eqflow/core/profiling.hpp"

namespace eqflow::dynamics {
namespace {

//! x (N, d), v (N, d), optionally a tangent batch t (K*N, d) and jt (K*N, d).
template <class X, class V>
void check_batch(const char* field, std::size_t d, const X& x, const V& v) {
  if (x.extent(1) != d || v.extent(1) != d || v.extent(0) != x.extent(0)) {
    throw ShapeError(
        fmt::format("{}: points ({}, {}) and velocities ({}, {}) for a field in {} "
                    "dimensions",
                    field, x.extent(0), x.extent(1), v.extent(0), v.extent(1), d));
  }
}

template <class X, class T, class J>
void check_tangents(const char* field, std::size_t d, const X& x, const T& t, const J& jt) {
  const std::size_t n = x.extent(0);
  if (x.extent(1) != d || t.extent(1) != d || jt.extent(1) != d || jt.extent(0) != t.extent(0) ||
      (n == 0 ? t.extent(0) != 0 : t.extent(0) % n != 0)) {
    throw ShapeError(fmt::format(
        "{}: points ({}, {}), tangents ({}, {}) and products ({}, {}) for a field in {} "
        "dimensions (tangent rows must be a multiple of the points)",
        field, x.extent(0), x.extent(1), t.extent(0), t.extent(1), jt.extent(0), jt.extent(1), d));
  }
}

}  // namespace

// ----------------------------------------------------------------------------- ModelField

template <class Scalar>
ModelField<Scalar>::ModelField(nn::Model<Scalar>& model, nn::Mode mode)
    : model_(model), mode_(mode) {
  if (model.in_features() != model.out_features()) {
    throw ShapeError(
        fmt::format("ModelField: the model maps {} features to {}, a field needs "
                    "equal widths",
                    model.in_features(), model.out_features()));
  }
}

template <class Scalar>
void ModelField<Scalar>::velocity(const ConstView& x, const MutView& v) {
  check_batch("ModelField", dim(), x, v);
  model_.forward(x, v, mode_);
}

template <class Scalar>
void ModelField<Scalar>::jvp(const ConstView& x, const ConstView& t, const MutView& jt) {
  check_tangents("ModelField", dim(), x, t, jt);
  if (primal_.extent(0) != x.extent(0) || primal_.extent(1) != dim()) {
    primal_ = View2<Scalar>(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, std::string("eqflow::ModelField::primal")),
        x.extent(0), dim());
  }
  model_.forward(x, primal_, mode_);
  model_.forward_tangent(t, jt);
}

template <class Scalar>
void ModelField<Scalar>::velocity_and_jvp(const ConstView& x, const MutView& v, const ConstView& t,
                                          const MutView& jt) {
  check_batch("ModelField", dim(), x, v);
  check_tangents("ModelField", dim(), x, t, jt);
  model_.forward(x, v, mode_);
  model_.forward_tangent(t, jt);
}

// ---------------------------------------------------------------------------- LorenzField

template <class Scalar>
LorenzField<Scalar>::LorenzField(const LorenzParameters& parameters,
                                 const std::array<double, 3>& mean,
                                 const std::array<double, 3>& stddev)
    : parameters_(parameters), mean_(mean), stddev_(stddev) {
  for (int i = 0; i < 3; ++i) {
    if (!(stddev[i] > 0.0)) {
      throw Error(
          fmt::format("LorenzField: normalisation std[{}] = {}, expected > 0", i, stddev[i]));
    }
  }
}

template <class Scalar>
void LorenzField<Scalar>::velocity(const ConstView& u, const MutView& v) {
  ScopedRegion region("eqflow::LorenzField::velocity");
  check_batch("LorenzField", 3, u, v);
  const auto lorenz = equations();
  const Scalar m0 = mean_[0], m1 = mean_[1], m2 = mean_[2];
  const Scalar s0 = stddev_[0], s1 = stddev_[1], s2 = stddev_[2];
  // du/dt = f(m + s u) / s
  Kokkos::parallel_for(
      "eqflow::LorenzField::velocity", RangePolicy(0, u.extent(0)),
      KOKKOS_LAMBDA(const std::size_t i) {
        const auto f = lorenz.velocity(m0 + s0 * u(i, 0), m1 + s1 * u(i, 1), m2 + s2 * u(i, 2));
        v(i, 0) = f[0] / s0;
        v(i, 1) = f[1] / s1;
        v(i, 2) = f[2] / s2;
      });
}

template <class Scalar>
void LorenzField<Scalar>::jvp(const ConstView& u, const ConstView& t, const MutView& jt) {
  ScopedRegion region("eqflow::LorenzField::jvp");
  check_tangents("LorenzField", 3, u, t, jt);
  const std::size_t n = u.extent(0);
  const auto lorenz = equations();
  const Scalar m0 = mean_[0], m1 = mean_[1], m2 = mean_[2];
  const Scalar s0 = stddev_[0], s1 = stddev_[1], s2 = stddev_[2];
  // J_u t = S^-1 J_f(x) (S t)
  Kokkos::parallel_for(
      "eqflow::LorenzField::jvp", RangePolicy(0, t.extent(0)), KOKKOS_LAMBDA(const std::size_t r) {
        const std::size_t i = r % n;
        const auto j = lorenz.tangent(m0 + s0 * u(i, 0), m1 + s1 * u(i, 1), m2 + s2 * u(i, 2),
                                      s0 * t(r, 0), s1 * t(r, 1), s2 * t(r, 2));
        jt(r, 0) = j[0] / s0;
        jt(r, 1) = j[1] / s1;
        jt(r, 2) = j[2] / s2;
      });
}

// ---------------------------------------------------------------------------- LinearField

template <class Scalar>
LinearField<Scalar>::LinearField(std::size_t d, const std::vector<double>& a) : d_(d) {
  if (a.size() != d * d) {
    throw ShapeError(fmt::format("LinearField: {} matrix entries for {} dimensions, expected {}",
                                 a.size(), d, d * d));
  }
  a_ = View2<Scalar>(std::string("eqflow::LinearField::a"), d, d);
  auto host = Kokkos::create_mirror_view(a_);
  for (std::size_t i = 0; i < d; ++i) {
    for (std::size_t j = 0; j < d; ++j) host(i, j) = static_cast<Scalar>(a[i * d + j]);
  }
  Kokkos::deep_copy(a_, host);
}

// out(i, :) = A in(i, :) for every row: the velocity of points and the JVP of tangents alike.
template <class Scalar>
void LinearField<Scalar>::apply(const ConstView& in, const MutView& out, const char* label) const {
  const auto a = a_;
  const std::size_t d = d_;
  Kokkos::parallel_for(
      label, Policy2D({0, 0}, {in.extent(0), d}),
      KOKKOS_LAMBDA(const std::size_t i, const std::size_t r) {
        Scalar sum = 0;
        for (std::size_t c = 0; c < d; ++c) sum += a(r, c) * in(i, c);
        out(i, r) = sum;
      });
}

template <class Scalar>
void LinearField<Scalar>::velocity(const ConstView& x, const MutView& v) {
  check_batch("LinearField", d_, x, v);
  apply(x, v, "eqflow::LinearField::velocity");
}

template <class Scalar>
void LinearField<Scalar>::jvp(const ConstView& x, const ConstView& t, const MutView& jt) {
  check_tangents("LinearField", d_, x, t, jt);
  apply(t, jt, "eqflow::LinearField::jvp");
}

template class ModelField<float>;
template class ModelField<double>;
template class LorenzField<float>;
template class LorenzField<double>;
template class LinearField<float>;
template class LinearField<double>;

}  // namespace eqflow::dynamics
