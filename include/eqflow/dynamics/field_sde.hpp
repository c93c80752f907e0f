// The simulation SDE of the pattern systems (DESIGN.md 1.4): dx = (v(x) + eta s(x)) dt +
// sqrt(2 eta dt) dW on batches of fields (N, C, H, W), integrated by Heun's method with the
// same noise in predictor and corrector (the reference's scheme):
//   d(x) = v(x, s(x)) + eta s(x),  w = sqrt(2 eta dt) xi,
//   x~ = x + dt d(x) + w,  x <- x + dt/2 (d(x) + d(x~)) + w,
// with s the score model's score at a fixed diffusion step tau. What is shown is the denoised
// estimate x0_hat = (x + (1 - a_tau) s(x)) / sqrt(a_tau), clipped to [-1, 1]; it comes from the
// score the next step needs anyway, so recording frames costs no extra network evaluation.
// The flow is any callable v(x, s) (flow::FieldFlow, adapted by the caller), so dynamics does
// not depend on how a flow was made.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "eqflow/core/rng.hpp"
#include "eqflow/diffusion/field_diffusion.hpp"

namespace eqflow::dynamics {

struct FieldSdeSettings {
  double dt = 0.01;
  double eta = 0.1;
  int step = 10;  //!< diffusion step tau of the score
};

template <class Scalar>
class FieldSde {
 public:
  //! v (N, C, H, W) at x given the score s at x.
  using Velocity =
      std::function<void(const nn::ConstField<Scalar>& x, const nn::ConstField<Scalar>& s,
                         const nn::MutField<Scalar>& v)>;

  //! Starts at x0 (copied). The noise of step j for sample n (global index first_sample + n)
  //! is N(counter (first_sample + n) D + e) of derive_stream(noise, j), so a sample's path does
  //! not depend on how the starts are split into batches or ranks. Throws Error on dt <= 0,
  //! eta < 0 or a step outside the score's schedule.
  FieldSde(diffusion::FieldScore<Scalar>& score, Velocity velocity, FieldSdeSettings settings,
           const nn::ConstField<Scalar>& x0, const CounterRng& noise,
           std::uint64_t first_sample = 0);

  //! One Heun step of the state.
  void step();
  //! Steps taken.
  std::int64_t steps() const { return steps_; }
  //! The state x (N, C, H, W) in raw units of the data (not denoised).
  View4<Scalar> state() const { return x_; }
  //! out (N, C, H, W) = x0_hat of the current state, clipped to [-1, 1].
  void denoised(const nn::MutField<Scalar>& out);

 private:
  void ensure_score();

  diffusion::FieldScore<Scalar>& score_;
  Velocity velocity_;
  FieldSdeSettings settings_;
  CounterRng noise_;
  std::uint64_t first_sample_;
  double alpha_bar_;
  std::int64_t steps_ = 0;
  bool score_valid_ = false;  // s_ is the score at x_
  View4<Scalar> x_, s_, drift_, w_, xp_, sp_, v_;
};

//! ema <- keep ema + (1 - keep) x, elementwise (the reference's exponential average of frames).
template <class Scalar>
void exponential_average(const View4<Scalar>& ema, const nn::ConstField<Scalar>& x, Scalar keep);

//! |cosine| of a[n] and b[n] flattened, per sample n, accumulated in double (NaN where either
//! is zero). a, b (N, C, H, W) of equal shape.
template <class Scalar>
std::vector<double> per_sample_abs_cosine(const nn::ConstField<Scalar>& a,
                                          const nn::ConstField<Scalar>& b);

}  // namespace eqflow::dynamics
