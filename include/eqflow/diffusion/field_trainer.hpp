// Data-parallel training of the field score model (DESIGN.md section 2: AdamW lr 1e-3, weight
// decay 0.01, cosine schedule with 500 warm-up steps, gradient-norm clip 1.0, batch 64, a 10%
// validation split with its loss per epoch).
//
// The training samples are global indices 0 .. train-1 of a data set, the validation samples
// the next `validation` ones. Epoch e visits the training samples in a permutation that is a
// pure function of (rng, e); its k-th global batch is positions [k B, (k+1) B) of it (the last
// batch may be short), and rank r of P takes the r-th of P near-equal parts of each batch. A
// rank loads only the samples it takes (`FieldSource::load`, e.g. hyperslab reads of an HDF5
// data set), computes its part of the global batch's loss and gradient (normalised by the
// global batch's element count), and one all-reduce of the flat gradient per step makes
// every rank's update, and so its parameters, the same. The draw id of the sample at
// position p of epoch e is e * train + p, so the noise and steps do not depend on P either:
// 1 and P ranks follow the same loss curve up to the rounding of the sums.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "eqflow/core/rng.hpp"
#include "eqflow/diffusion/field_diffusion.hpp"
#include "eqflow/nn/optimizer.hpp"

namespace eqflow::diffusion {

struct FieldTrainingSettings {
  std::int64_t epochs = 100;
  std::int64_t batch = 64;  //!< global batch (all ranks together)
  double lr = 1e-3;
  double weight_decay = 0.01;  //!< AdamW (decoupled)
  std::int64_t warmup_steps = 500;
  double clip = 1.0;  //!< gradient-norm clip; 0: none
};

//! Where a rank's samples come from and how the ranks combine their sums.
template <class Scalar>
struct FieldSource {
  std::int64_t train = 0;       //!< training samples: global indices [0, train)
  std::int64_t validation = 0;  //!< validation samples: [train, train + validation)
  nn::FieldShape shape;         //!< of one sample
  int rank = 0, ranks = 1;
  //! Fills out (indices.size(), C, H, W) with the samples of the given global indices.
  std::function<void(const std::vector<std::int64_t>& indices, const View4<Scalar>& out)> load;
  //! In-place sums over the ranks (leave empty on one rank).
  std::function<void(Scalar* values, std::size_t n)> sum;
  std::function<void(double* values, std::size_t n)> sum_doubles;
};

//! A permutation of 0 .. n-1 that is a pure function of (rng, epoch): the indices sorted by
//! the uniforms of counters epoch n + i (the visiting order of an epoch's samples).
std::vector<std::int64_t> epoch_permutation(const CounterRng& rng, std::int64_t epoch,
                                            std::int64_t n);

//! The loss history of a training (per epoch).
struct FieldTrainingHistory {
  //! Per epoch: mean training loss, validation loss, learning rate after the epoch, seconds.
  std::vector<double> train_loss, validation_loss, learning_rate, seconds;
  std::vector<double> step_loss;  //!< the global batch's loss of every step
};

template <class Scalar>
class FieldScoreTrainer {
 public:
  FieldScoreTrainer(FieldDiffusion<Scalar>& model, FieldTrainingSettings settings,
                    FieldSource<Scalar> source, const CounterRng& rng);

  std::int64_t steps_per_epoch() const;
  std::int64_t total_steps() const { return steps_per_epoch() * settings_.epochs; }
  std::int64_t epoch() const { return static_cast<std::int64_t>(history_.train_loss.size()); }
  bool done() const { return epoch() >= settings_.epochs; }
  const FieldTrainingHistory& history() const { return history_; }
  nn::Adam<Scalar>& optimizer() { return adam_; }
  const nn::Adam<Scalar>& optimizer() const { return adam_; }

  //! Trains one epoch and evaluates the validation loss; appends to history(). `on_step(step
  //! of the epoch, mean loss so far)` after every step (progress).
  void run_epoch(const std::function<void(std::int64_t, double)>& on_step = {});
  //! The validation loss with the current parameters (fixed draws: comparable across epochs).
  double validation_loss();
  //! Resumes at the end of a checkpointed epoch (parameters and optimiser restored by the
  //! caller).
  void restore(FieldTrainingHistory history) { history_ = std::move(history); }

  //! The global sample indices of epoch e in visiting order (the same on every rank).
  std::vector<std::int64_t> epoch_order(std::int64_t e) const;

 private:
  //! This rank's part [first, last) of a global batch of `size` samples.
  std::pair<std::int64_t, std::int64_t> my_part(std::int64_t size) const;
  double sum(double value) const;

  FieldDiffusion<Scalar>& model_;
  FieldTrainingSettings settings_;
  FieldSource<Scalar> source_;
  CounterRng rng_;
  nn::Adam<Scalar> adam_;
  nn::LearningRateSchedule schedule_;
  FieldTrainingHistory history_;
  View4<Scalar> batch_;
};

}  // namespace eqflow::diffusion
