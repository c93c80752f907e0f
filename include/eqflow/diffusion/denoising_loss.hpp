// The score model's training loss (eps prediction): t ~ U(0, 1), i = floor(t (N-1)),
// x_t = sqrt(a_i) x0 + sqrt(1 - a_i) eps, the network sees [x_t, 2t - 1], loss = mean over
// batch and coordinates of (eps_hat - eps)^2. Noise and times are counter-based functions of
// (rng, global sample index), so a data shard computes exactly its part of the global batch.
#pragma once

#include "eqflow/core/rng.hpp"
#include "eqflow/diffusion/noise_schedule.hpp"
#include "eqflow/nn/model.hpp"

namespace eqflow::diffusion {

template <class Scalar>
class DenoisingLoss {
 public:
  using ConstView = Kokkos::View<const Scalar**, Layout, MemSpace>;

  explicit DenoisingLoss(NoiseSchedule schedule) : schedule_(std::move(schedule)) {}

  //! Loss of `model` on data `x0` (B, d); accumulates parameter gradients when `gradient`.
  //! `first_sample` is the global index of row 0 (data parallelism).
  double evaluate(nn::Model<Scalar>& model, const ConstView& x0, const CounterRng& rng,
                  std::uint64_t first_sample, bool gradient);

  //! The same with the diffusion times t (B) in [0, 1] and the noise eps (B, d) given instead
  //! of drawn (cross-checks against other implementations).
  double evaluate_with_noise(nn::Model<Scalar>& model, const ConstView& x0,
                             const View1<const double>& t, const ConstView& eps, bool gradient);

  const NoiseSchedule& schedule() const { return schedule_; }

 private:
  void prepare(std::size_t batch, std::size_t d);
  double compute(nn::Model<Scalar>& model, const ConstView& x0, bool gradient);

  NoiseSchedule schedule_;
  View1<double> alpha_bar_;    // (N) device copy of the schedule
  View1<double> times_;        // (B) t per sample
  View2<Scalar> input_;        // (B, d+1) [x_t, 2t-1]
  View2<Scalar> noise_;        // (B, d)
  View2<Scalar> prediction_;   // (B, d)
  View2<Scalar> grad_output_;  // (B, d)
};

}  // namespace eqflow::diffusion
