// Noise schedules and the eps-prediction denoising loss of the score model.
#include "eqflow/diffusion/denoising_loss.hpp"

#include <cmath>

#include "eqflow/core/error.hpp"
#include "eqflow/core/math.hpp"
#include "eqflow/core/profiling.hpp"
#include "eqflow/diffusion/diffuse.hpp"

namespace eqflow::diffusion {

NoiseSchedule NoiseSchedule::cosine(int steps, double delta) {
  if (steps < 2) throw Error("cosine noise schedule: need at least 2 steps");
  NoiseSchedule s;
  for (int i = 0; i < steps; ++i) {
    s.alpha_bar_.push_back(
        (std::cos(math::pi<double> * i / (steps - 1)) * (1.0 - 2.0 * delta) + 1.0) / 2.0);
  }
  return s;
}

NoiseSchedule NoiseSchedule::linear_betas(int steps, double beta_start, double beta_end) {
  if (steps < 2) throw Error("linear noise schedule: need at least 2 steps");
  NoiseSchedule s;
  double prod = 1.0;
  for (int i = 0; i < steps; ++i) {
    const double beta = beta_start + (beta_end - beta_start) * i / (steps - 1);
    prod *= 1.0 - beta;
    s.alpha_bar_.push_back(prod);
  }
  return s;
}

int NoiseSchedule::index(double t) const {
  const int n = steps();
  const int i = static_cast<int>(std::floor(t * (n - 1)));
  return std::clamp(i, 0, n - 1);
}

template <class Scalar>
void DenoisingLoss<Scalar>::prepare(std::size_t batch, std::size_t d) {
  if (alpha_bar_.extent(0) == 0) {
    alpha_bar_ = View1<double>("eqflow::DenoisingLoss::alpha_bar", schedule_.steps());
    auto host = Kokkos::create_mirror_view(alpha_bar_);
    for (int i = 0; i < schedule_.steps(); ++i) host(i) = schedule_.alpha_bar(i);
    Kokkos::deep_copy(alpha_bar_, host);
  }
  if (input_.extent(0) != batch || input_.extent(1) != d + 1) {
    input_ = View2<Scalar>("eqflow::DenoisingLoss::input", batch, d + 1);
    noise_ = View2<Scalar>("eqflow::DenoisingLoss::noise", batch, d);
    prediction_ = View2<Scalar>("eqflow::DenoisingLoss::prediction", batch, d);
    grad_output_ = View2<Scalar>("eqflow::DenoisingLoss::grad_output", batch, d);
    times_ = View1<double>("eqflow::DenoisingLoss::times", batch);
  }
}

template <class Scalar>
double DenoisingLoss<Scalar>::evaluate(nn::Model<Scalar>& model, const ConstView& x0,
                                       const CounterRng& rng, std::uint64_t first_sample,
                                       bool gradient) {
  const std::size_t batch = x0.extent(0), d = x0.extent(1);
  prepare(batch, d);
  const auto noise = noise_;
  const auto times = times_;
  // Sample n: t = uniform n of the stream's "time" child, eps_j = normal n d + j of the stream
  // (drawn two per Philox block).
  const CounterRng time_rng = derive_stream(rng, 0x74696d65ull, 0);
  Kokkos::parallel_for(
      "eqflow::DenoisingLoss::times", RangePolicy(0, batch),
      KOKKOS_LAMBDA(const std::size_t b) { times(b) = time_rng.uniform(first_sample + b); });
  fill_normal(noise, rng, first_sample * d);
  return compute(model, x0, gradient);
}

template <class Scalar>
double DenoisingLoss<Scalar>::evaluate_with_noise(nn::Model<Scalar>& model, const ConstView& x0,
                                                  const View1<const double>& t,
                                                  const ConstView& eps, bool gradient) {
  const std::size_t batch = x0.extent(0), d = x0.extent(1);
  require_shape(t.extent(0) == batch && eps.extent(0) == batch && eps.extent(1) == d,
                "DenoisingLoss: t must be (B) and eps (B, d)");
  prepare(batch, d);
  Kokkos::deep_copy(times_, t);
  Kokkos::deep_copy(noise_, eps);
  return compute(model, x0, gradient);
}

template <class Scalar>
double DenoisingLoss<Scalar>::compute(nn::Model<Scalar>& model, const ConstView& x0,
                                      bool gradient) {
  ScopedRegion region("eqflow::DenoisingLoss");
  const std::size_t batch = x0.extent(0), d = x0.extent(1);
  require_shape(model.in_features() == d + 1 && model.out_features() == d,
                "DenoisingLoss: the score model must map d+1 inputs to d outputs");
  const auto input = input_, noise = noise_, prediction = prediction_, grad = grad_output_;
  const auto alpha_bar = alpha_bar_;
  const auto times = times_;
  const int last = schedule_.steps() - 1;
  // x_t = sqrt(a_i) x0 + sqrt(1 - a_i) eps with i = floor(t (N-1)); the network sees 2t - 1.
  Kokkos::parallel_for(
      "eqflow::DenoisingLoss::diffuse", RangePolicy(0, batch), KOKKOS_LAMBDA(const std::size_t b) {
        const double t = times(b);
        const int i = math::clamp(static_cast<int>(t * last), 0, last);
        const ForwardDiffusion<double> diffuse(alpha_bar(i));
        for (std::size_t j = 0; j < d; ++j) {
          input(b, j) = static_cast<Scalar>(
              diffuse(static_cast<double>(x0(b, j)), static_cast<double>(noise(b, j))));
        }
        input(b, d) = static_cast<Scalar>(2.0 * t - 1.0);
      });
  model.forward(input, prediction, nn::Mode::Train);
  const double scale = 1.0 / static_cast<double>(batch * d);
  double sum = 0.0;
  Kokkos::parallel_reduce(
      "eqflow::DenoisingLoss::mse", RangePolicy(0, batch * d),
      KOKKOS_LAMBDA(const std::size_t k, double& acc) {
        const Scalar diff = prediction.data()[k] - noise.data()[k];
        grad.data()[k] = static_cast<Scalar>(2.0 * scale) * diff;
        acc += static_cast<double>(diff) * static_cast<double>(diff);
      },
      sum);
  if (gradient) model.backward(grad_output_, View2<Scalar>());
  return sum * scale;
}

template class DenoisingLoss<float>;
template class DenoisingLoss<double>;

}  // namespace eqflow::diffusion
