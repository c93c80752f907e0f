// The equilibrium loss of a flow model v: residual r(x) = div v(x) + v(x) . s(x) at points x
// with scores s, loss mean(r^2), and its exact parameter gradient (reverse mode through the
// tangent passes). Divergence estimators:
//   exact       d basis tangents per sample: the trace of the per-sample Jacobian;
//   hutchinson  K Gaussian probes z: div ~ (1/K) sum_k z_k . J z_k;
//   unbiased    two independent estimates r1, r2 from K/2 probes each, loss mean(r1 r2),
//               an unbiased estimate of mean(E[r]^2) (the reference's 2-D trainer).
// Probe k of sample n has counter ((n * K) + k) * d + j on the caller's stream, with n the
// global sample index, so the loss does not depend on how the batch is split across ranks.
#pragma once

#include <string>

#include "eqflow/core/rng.hpp"
#include "eqflow/nn/model.hpp"

namespace eqflow::flow {

enum class DivergenceEstimator { Exact, Hutchinson, Unbiased };

//! "exact", "hutchinson", "unbiased"; throws Error naming the value otherwise.
DivergenceEstimator parse_divergence_estimator(const std::string& name);
std::string to_string(DivergenceEstimator estimator);

template <class Scalar>
class EquilibriumLoss {
 public:
  using ConstView = Kokkos::View<const Scalar**, Layout, MemSpace>;

  //! `probes` is K for hutchinson / unbiased (even for unbiased); ignored for exact.
  EquilibriumLoss(DivergenceEstimator estimator, int probes = 10);

  //! Loss at points `x` (B, d) with scores `score` (B, d). Accumulates the parameter
  //! gradient into the model's store when `gradient`. `rng` is this step's probe stream and
  //! `first_sample` the global index of row 0. `mode` is Train for training (batch-norm
  //! batch statistics).
  double evaluate(nn::Model<Scalar>& model, const ConstView& x, const ConstView& score,
                  const CounterRng& rng, std::uint64_t first_sample, nn::Mode mode, bool gradient);

  //! The same with the probe directions given instead of drawn (hutchinson / unbiased):
  //! probes (K*B, d), row k*B + b is probe k of sample b. Exact ignores them (pass an empty
  //! View). For cross-checks against other implementations.
  double evaluate_with_probes(nn::Model<Scalar>& model, const ConstView& x, const ConstView& score,
                              const ConstView& probes, nn::Mode mode, bool gradient);

  DivergenceEstimator estimator() const { return estimator_; }
  //! Tangent directions per sample: d for exact, K otherwise.
  int tangents_per_sample(std::size_t d) const;

  //! Results of the last evaluate: velocity (B, d), divergence estimate (B), residual (B;
  //! for unbiased the mean of the two half estimates).
  View2<Scalar> velocity() const { return velocity_; }
  View1<Scalar> divergence() const { return divergence_; }
  View1<Scalar> residual() const { return residual_; }

 private:
  void resize(std::size_t batch, std::size_t d);
  double compute(nn::Model<Scalar>& model, const ConstView& x, const ConstView& score,
                 nn::Mode mode, bool gradient);

  DivergenceEstimator estimator_;
  int probes_;
  View2<Scalar> velocity_, tangent_in_, tangent_out_, grad_velocity_, grad_tangent_;
  View1<Scalar> divergence_, residual_, r1_, r2_;
};

}  // namespace eqflow::flow
