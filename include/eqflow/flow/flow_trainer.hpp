// Training of a flow model on the equilibrium residual at diffused points: each step draws a
// shuffled mini-batch x0, diffuses it to time t (x_t = sqrt(a) x0 + sqrt(1 - a) eps; or row
// blocks of it to several times, FlowTrainingSettings::t_count), takes
// the score s(x_t) of any diffusion::Score as a constant, and descends the equilibrium loss
// with Adam (L2 weight decay). The state needed to resume (parameters, optimiser moments, epoch,
// loss history) is exposed; the random streams are pure functions of (rng, epoch, step), so a run
// resumed at an epoch boundary continues bit for bit.
#pragma once

#include <functional>
#include <vector>

#include "eqflow/core/rng.hpp"
#include "eqflow/diffusion/score.hpp"
#include "eqflow/flow/equilibrium_loss.hpp"
#include "eqflow/nn/optimizer.hpp"

namespace eqflow::flow {

struct FlowTrainingSettings {
  std::int64_t epochs = 1024;
  std::int64_t batch = 2048;
  double lr = 1e-2;
  //! Constant learning rate (the reference), or a cosine decay to 0 over all steps.
  bool cosine_lr = false;
  double weight_decay = 1e-5;
  DivergenceEstimator estimator = DivergenceEstimator::Exact;
  int probes = 10;
  double t = 0.2;
  //! Training times: t_count evenly spaced times t k / t_count, k = 1 .. t_count (1: t alone).
  //! Each mini-batch is split into t_count row blocks, block k diffused to and scored at its
  //! time, so the flow is trained to keep p_s at every one of them.
  int t_count = 1;
};

template <class Scalar>
class FlowTrainer {
 public:
  using ConstView = Kokkos::View<const Scalar**, Layout, MemSpace>;

  //! Keeps references to `flow` and `score`, which must outlive the trainer.
  FlowTrainer(nn::Model<Scalar>& flow, diffusion::Score<Scalar>& score, ConstView data,
              FlowTrainingSettings settings, CounterRng rng);

  //! Trains epochs epoch() .. until-1, calling `on_epoch(epoch, mean loss)` after each.
  void run(std::int64_t until, const std::function<void(std::int64_t, double)>& on_epoch = {});

  std::int64_t epoch() const { return epoch_; }
  nn::Adam<Scalar>& optimizer() { return adam_; }
  const std::vector<double>& loss_history() const { return history_; }
  //! Restores the position of a checkpoint (parameters and moments are restored in place).
  void restore(std::int64_t epoch, std::vector<double> history, std::int64_t optimizer_steps);
  const FlowTrainingSettings& settings() const { return settings_; }

 private:
  nn::Model<Scalar>& flow_;
  diffusion::Score<Scalar>& score_;
  ConstView data_;
  FlowTrainingSettings settings_;
  CounterRng rng_;
  nn::Adam<Scalar> adam_;
  EquilibriumLoss<Scalar> loss_;
  std::vector<double> times_, alpha_bars_;  //!< the training times and their a_t
  std::int64_t epoch_ = 0;
  std::vector<double> history_;
  View2<Scalar> x0_, xt_, score_values_;
};

}  // namespace eqflow::flow
