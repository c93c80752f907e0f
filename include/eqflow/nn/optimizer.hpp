// Optimisers over flat parameter Views: Adam (PyTorch semantics: L2 weight decay added to the
// gradient), AdamW (decoupled weight decay), gradient-norm clipping, and learning-rate
// schedules (constant; linear warm-up then cosine decay as diffusers'
// get_cosine_schedule_with_warmup).
#pragma once

#include <cstdint>
#include <string>

#include "eqflow/core/kokkos_types.hpp"

namespace eqflow::nn {

struct AdamConfig {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  //! false: Adam (decay added to the gradient); true: AdamW (decay applied to the weights).
  bool decoupled = false;
};

template <class Scalar>
class Adam {
 public:
  Adam(std::size_t num_parameters, AdamConfig config);
  //! One update of `params` (P) from `grads` (P) at learning rate `lr`.
  void step(const View1<Scalar>& params, const View1<const Scalar>& grads, double lr);

  const AdamConfig& config() const { return config_; }
  std::int64_t steps() const { return steps_; }
  //! Optimiser state for checkpoints: first and second moments (P each) and the step count.
  View1<Scalar> first_moment() const { return m_; }
  View1<Scalar> second_moment() const { return v_; }
  void set_steps(std::int64_t steps) { steps_ = steps; }

 private:
  AdamConfig config_;
  View1<Scalar> m_, v_;
  std::int64_t steps_ = 0;
};

//! Scales `grads` so that its 2-norm is at most `max_norm` (PyTorch clip_grad_norm_:
//! factor max_norm / (norm + 1e-6) when that is below 1). Returns the norm before clipping.
template <class Scalar>
double clip_gradient_norm(const View1<Scalar>& grads, double max_norm);

//! The learning rate at an optimiser step.
class LearningRateSchedule {
 public:
  enum class Kind { Constant, CosineWarmup };
  static LearningRateSchedule constant(double lr);
  //! Linear warm-up from 0 over `warmup_steps`, then half a cosine down to 0 at `total_steps`
  //! (and 0 after it).
  static LearningRateSchedule cosine_with_warmup(double lr, std::int64_t warmup_steps,
                                                 std::int64_t total_steps);
  //! A training run's schedule: a cosine decay from lr to 0 over `total_steps` (no warm-up;
  //! at least one step) when `cosine`, else the constant lr (the reference's).
  static LearningRateSchedule for_run(double lr, bool cosine, std::int64_t total_steps);
  double at(std::int64_t step) const;
  Kind kind() const { return kind_; }

 private:
  Kind kind_ = Kind::Constant;
  double base_ = 0.0;
  std::int64_t warmup_ = 0;
  std::int64_t total_ = 0;
};

}  // namespace eqflow::nn
