// The score of a diffusion model at a fixed diffusion time tau as a vector field,
// s(x) = s(x, tau): the Langevin term of the simulation SDE (LangevinHeun). It adapts any
// diffusion::Score, so dynamics depends on the score interface, not on a concrete model.
#pragma once

#include "eqflow/diffusion/score.hpp"
#include "eqflow/dynamics/vector_field.hpp"

namespace eqflow::dynamics {

//! s(x) = score.score(x, tau) with its Jacobian-vector products. Keeps a reference to the
//! score (which must outlive the field).
template <class Scalar>
class ScoreField final : public VectorField<Scalar> {
 public:
  using typename VectorField<Scalar>::ConstView;
  using typename VectorField<Scalar>::MutView;

  ScoreField(diffusion::Score<Scalar>& score, double tau) : score_(score), tau_(tau) {}
  std::size_t dim() const override { return score_.dim(); }
  double tau() const { return tau_; }
  void velocity(const ConstView& x, const MutView& s) override { score_.score(x, tau_, s); }
  void jvp(const ConstView& x, const ConstView& t, const MutView& jt) override;
  void velocity_and_jvp(const ConstView& x, const MutView& s, const ConstView& t,
                        const MutView& jt) override {
    score_.score_and_jvp(x, tau_, s, t, jt);
  }

 private:
  diffusion::Score<Scalar>& score_;
  double tau_;
  View2<Scalar> primal_;  // (N, d) scratch for the score that jvp computes and drops
};

}  // namespace eqflow::dynamics
