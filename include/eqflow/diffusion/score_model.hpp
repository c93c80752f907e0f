// The score model of the low-dimensional systems: the reference eps-predicting MLP with its
// noise schedule, its training loop (shuffled mini-batches, Adam with L2 weight decay), score
// evaluation s(x, t) = -eps_hat(x, t) / sqrt(1 - a_t) at any t with its Jacobian-vector
// products (the diffusion::Score interface), and deterministic DDIM sampling.
#pragma once

#include <functional>
#include <vector>

#include "eqflow/core/rng.hpp"
#include "eqflow/diffusion/noise_schedule.hpp"
#include "eqflow/diffusion/score.hpp"
#include "eqflow/nn/model.hpp"

namespace eqflow::diffusion {

struct ScoreTrainingSettings {
  std::int64_t epochs = 512;
  std::int64_t batch = 2048;
  double lr = 1e-2;
  double weight_decay = 1e-5;
  //! Constant learning rate (the reference), or a cosine decay to 0 over all steps.
  bool cosine_lr = false;
};

template <class Scalar>
class ScoreModel final : public Score<Scalar> {
 public:
  using typename Score<Scalar>::ConstView;

  ScoreModel(std::size_t d, std::size_t hidden, NoiseSchedule schedule, std::uint64_t seed);

  nn::Model<Scalar>& model() { return model_; }
  const NoiseSchedule& schedule() const override { return schedule_; }
  std::size_t dim() const override { return d_; }

  //! eps_hat(x, t) for points x (N, d) at continuous time t in [0, 1] -> eps (N, d).
  void predict_noise(const ConstView& x, double t, const View2<Scalar>& eps);
  //! The score s(x, t) = -eps_hat / sqrt(1 - a_i), i = floor(t (N-1)) -> s (N, d).
  void score(const ConstView& x, double t, const View2<Scalar>& s) override;
  //! The score and its Jacobian-vector products in x at fixed t: s (N, d) as score(), and
  //! js = d s(x_n, t) / d x_n  t_r for every tangent row r = k N + n; t and js (K N, d).
  void score_and_jvp(const ConstView& x, double t, const View2<Scalar>& s,
                     const ConstView& tangents, const View2<Scalar>& js) override;
  //! Deterministic DDIM from step N-1 down to step `end` (the reference stops at 2), starting
  //! from standard normals of `rng` (counter n d + j for coordinate j of sample n).
  View2<Scalar> sample(std::size_t n, const CounterRng& rng, int end);

  //! Trains on `data` (N, d); returns the mean loss of every epoch. `on_epoch(epoch, loss)`
  //! is called after each epoch (progress). Mini-batch order and noise are pure functions of
  //! `rng` and the epoch.
  std::vector<double> train(const ConstView& data, const ScoreTrainingSettings& settings,
                            const CounterRng& rng,
                            const std::function<void(std::int64_t, double)>& on_epoch = {});

 private:
  std::size_t d_;
  NoiseSchedule schedule_;
  nn::Model<Scalar> model_;
  View2<Scalar> input_, output_, input_tangent_;
};

}  // namespace eqflow::diffusion
