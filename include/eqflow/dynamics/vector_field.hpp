// Vector fields dx/dt = v(x) on batches of points, the object every analysis of
// eqflow::dynamics integrates: a learned flow model (ModelField), the analytic Lorenz field
// (LorenzField, optionally in the normalised coordinates eqflow stores Lorenz data in) and
// linear fields v = A x (LinearField, exact solutions for tests). Besides the velocity each
// field gives its Jacobian-vector products J(x) t, which the tangent integrators and the
// Lyapunov spectrum need.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "eqflow/core/kokkos_types.hpp"
#include "eqflow/nn/layer.hpp"
#include "eqflow/nn/model.hpp"
#include "eqflow/systems/lorenz.hpp"

namespace eqflow::dynamics {

//! An autonomous vector field dx/dt = v(x) in `dim()` dimensions, evaluated on batches.
//! Tangent batches follow nn::Layer::forward_tangent: K tangents per point, tangent row
//! k*N + n belongs to point n. Fields may keep internal scratch, so the calls are not const.
template <class Scalar>
class VectorField {
 public:
  using ConstView = Kokkos::View<const Scalar**, Layout, MemSpace>;
  using MutView = View2<Scalar>;

  virtual ~VectorField() = default;
  virtual std::size_t dim() const = 0;

  //! v = v(x); x (N, d), v (N, d).
  virtual void velocity(const ConstView& x, const MutView& v) = 0;
  //! jt = J(x_n) t for every tangent row; x (N, d), t (K*N, d), jt (K*N, d).
  virtual void jvp(const ConstView& x, const ConstView& t, const MutView& jt) = 0;
  //! velocity and jvp at the same points in one call (a model then runs forward only once).
  //! x (N, d), v (N, d), t (K*N, d), jt (K*N, d).
  virtual void velocity_and_jvp(const ConstView& x, const MutView& v, const ConstView& t,
                                const MutView& jt) {
    velocity(x, v);
    jvp(x, t, jt);
  }
};

//! A network used as a fixed field: velocity = forward, jvp = forward then forward_tangent.
//! The model must map d features to d features. The default mode, Eval, uses the batch-norm
//! running statistics, so every point's velocity is independent of the rest of the batch
//! (the analyses stack trajectories into one batch and rely on that).
template <class Scalar>
class ModelField final : public VectorField<Scalar> {
 public:
  using typename VectorField<Scalar>::ConstView;
  using typename VectorField<Scalar>::MutView;

  //! Keeps a reference to `model` (which must outlive the field). Throws ShapeError unless
  //! the model's input and output widths are equal.
  explicit ModelField(nn::Model<Scalar>& model, nn::Mode mode = nn::Mode::Eval);

  std::size_t dim() const override { return model_.in_features(); }
  nn::Mode mode() const { return mode_; }
  void velocity(const ConstView& x, const MutView& v) override;
  void jvp(const ConstView& x, const ConstView& t, const MutView& jt) override;
  void velocity_and_jvp(const ConstView& x, const MutView& v, const ConstView& t,
                        const MutView& jt) override;

 private:
  nn::Model<Scalar>& model_;
  nn::Mode mode_;
  View2<Scalar> primal_;  // (N, d) scratch for jvp's forward pass
};

//! Lorenz system constants.
struct LorenzParameters {
  double sigma = 10.0;
  double rho = 28.0;
  double beta = 8.0 / 3.0;
};

//! The Lorenz field dx/dt = sigma (y - x), dy/dt = x (rho - z) - y, dz/dt = x y - beta z with
//! its exact Jacobian (the equations of systems::LorenzEquations). With a normalisation (mean m,
//! std s per axis) the field acts in the normalised coordinates u = (x - m) / s:  du/dt = f(m + s
//! u) / s, whose Jacobian is J_u = S^-1 J_f(m + s u) S with S = diag(s). This is how eqflow stores
//! Lorenz data.
template <class Scalar>
class LorenzField final : public VectorField<Scalar> {
 public:
  using typename VectorField<Scalar>::ConstView;
  using typename VectorField<Scalar>::MutView;

  //! Throws eqflow::Error unless every stddev is > 0.
  explicit LorenzField(const LorenzParameters& parameters = {},
                       const std::array<double, 3>& mean = {0.0, 0.0, 0.0},
                       const std::array<double, 3>& stddev = {1.0, 1.0, 1.0});

  std::size_t dim() const override { return 3; }
  const LorenzParameters& parameters() const { return parameters_; }
  const std::array<double, 3>& mean() const { return mean_; }
  const std::array<double, 3>& stddev() const { return stddev_; }
  //! The (constant) divergence -(sigma + 1 + beta), also in normalised coordinates; the sum
  //! of the Lyapunov exponents.
  double divergence() const { return -(parameters_.sigma + 1.0 + parameters_.beta); }

  void velocity(const ConstView& x, const MutView& v) override;
  void jvp(const ConstView& x, const ConstView& t, const MutView& jt) override;

 private:
  systems::LorenzEquations<Scalar> equations() const {
    return {static_cast<Scalar>(parameters_.sigma), static_cast<Scalar>(parameters_.rho),
            static_cast<Scalar>(parameters_.beta)};
  }

  LorenzParameters parameters_;
  std::array<double, 3> mean_, stddev_;
};

//! The linear field v = A x (J = A): exact solutions x(t) = exp(t A) x0 for tests.
template <class Scalar>
class LinearField final : public VectorField<Scalar> {
 public:
  using typename VectorField<Scalar>::ConstView;
  using typename VectorField<Scalar>::MutView;

  //! `a` is the d x d matrix in row-major order; throws ShapeError unless a.size() == d*d.
  LinearField(std::size_t d, const std::vector<double>& a);

  std::size_t dim() const override { return d_; }
  void velocity(const ConstView& x, const MutView& v) override;
  void jvp(const ConstView& x, const ConstView& t, const MutView& jt) override;

 private:
  void apply(const ConstView& in, const MutView& out, const char* label) const;

  std::size_t d_;
  View2<Scalar> a_;  // (d, d)
};

}  // namespace eqflow::dynamics
