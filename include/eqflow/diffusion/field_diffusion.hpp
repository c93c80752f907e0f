// The score model of the pattern systems (DESIGN.md section 2): the UNet of nn/unet.hpp as a
// v-predicting DDPM on fields (N, C, H, W). With alpha-bar a_t of the schedule (100 steps,
// linear betas 1e-4 .. 0.1 by default):
//
//   x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps,   v = sqrt(a_t) eps - sqrt(1 - a_t) x0,
//   loss = mean over the batch's elements of (unet(x_t, t) - v)^2,
//   x0_hat = sqrt(a_t) x_t - sqrt(1 - a_t) v_hat,  eps_hat = sqrt(1 - a_t) x_t + sqrt(a_t) v_hat,
//   score s(x_t) = (sqrt(a_t) x0_hat - x_t) / (1 - a_t) = -eps_hat / sqrt(1 - a_t).
//
// Draws are counter-based functions of (rng, a draw id per sample): the step of sample b is
// floor(U(draw_b) steps), its noise element e is N(draw_b C H W + e) of a second stream, so a
// data shard computes exactly its part of a global batch whatever the rank count. Sampling
// (DDPM ancestral, or deterministic DDIM on evenly spaced steps; x0_hat clipped to [-1, 1]
// each step) follows diffusers' DDPMScheduler / DDIMScheduler with v-prediction.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eqflow/core/rng.hpp"
#include "eqflow/diffusion/noise_schedule.hpp"
#include "eqflow/nn/unet.hpp"

namespace eqflow::diffusion {

//! What the flows on fields need from a score model: the score at a diffusion step.
template <class Scalar>
class FieldScore {
 public:
  virtual ~FieldScore() = default;
  virtual std::size_t channels() const = 0;
  virtual const NoiseSchedule& schedule() const = 0;
  //! s = grad_x log p_step(x); x, s (N, C, H, W), H and W any multiple of the model's
  //! side_multiple (the model is convolutional: a canvas larger than the training fields works).
  virtual void score(const nn::ConstField<Scalar>& x, int step, const nn::MutField<Scalar>& s) = 0;
};

enum class FieldSampler { Ddpm, Ddim };
//! "ddpm" or "ddim"; throws Error naming the choices otherwise.
FieldSampler parse_field_sampler(const std::string& name);
std::string to_string(FieldSampler sampler);

template <class Scalar>
class FieldDiffusion final : public FieldScore<Scalar> {
 public:
  FieldDiffusion(nn::UNetConfig config, NoiseSchedule schedule);

  nn::UNet<Scalar>& unet() { return unet_; }
  const nn::UNet<Scalar>& unet() const { return unet_; }
  std::size_t channels() const override { return unet_.config().channels; }
  const NoiseSchedule& schedule() const override { return schedule_; }

  //! The v-prediction loss of x0 (B, C, H, W) drawn with `rng` at the draw ids `draws` (B):
  //! returns sum (v_hat - v)^2 / `normaliser` and, when `gradient`, accumulates the parameter
  //! gradients of that value. With normaliser = the element count of a global batch that this
  //! x0 is a shard of, the loss and gradients summed over the shards are the global batch's.
  double loss(const nn::ConstField<Scalar>& x0, const std::vector<std::uint64_t>& draws,
              const CounterRng& rng, double normaliser, bool gradient);
  //! The same with the steps (B) and the noise eps (B, C, H, W) given (cross-checks).
  double loss_with_noise(const nn::ConstField<Scalar>& x0, const std::vector<int>& steps,
                         const nn::ConstField<Scalar>& eps, double normaliser, bool gradient);

  //! v_hat = unet(x, steps): x, v (N, C, H, W), steps (N).
  void predict(const nn::ConstField<Scalar>& x, const std::vector<int>& steps,
               const nn::MutField<Scalar>& v);
  //! x0_hat at one step (not clipped).
  void denoise(const nn::ConstField<Scalar>& x, int step, const nn::MutField<Scalar>& x0_hat);
  void score(const nn::ConstField<Scalar>& x, int step, const nn::MutField<Scalar>& s) override;

  //! Generates x (N, C, H, W) from noise: DDPM over every step, or DDIM over `ddim_steps`
  //! (diffusers' "leading" spacing). The noise of sample n is a function of (rng,
  //! first_sample + n), so a sample does not depend on how a set is split into calls.
  void sample(const nn::MutField<Scalar>& x, FieldSampler sampler, int ddim_steps,
              const CounterRng& rng, std::uint64_t first_sample);

 private:
  void ensure(std::size_t n, std::size_t c, std::size_t h, std::size_t w);
  double finish_loss(double normaliser, bool gradient);

  NoiseSchedule schedule_;
  nn::UNet<Scalar> unet_;
  View1<Scalar> signal_, noise_scale_;  // (B) sqrt(a_t), sqrt(1 - a_t) per sample
  View1<Scalar> steps_;                 // (B) the steps as the UNet's input
  View4<Scalar> x_t_, target_, prediction_, gprediction_;
};

}  // namespace eqflow::diffusion
