// Adam / AdamW steps, gradient-norm clipping and learning-rate schedules.
#include "eqflow/nn/optimizer.hpp"

#include <algorithm>
#include <cmath>

#include "eqflow/core/error.hpp"
#include "eqflow/core/math.hpp"

namespace eqflow::nn {

template <class Scalar>
Adam<Scalar>::Adam(std::size_t num_parameters, AdamConfig config)
    : config_(config),
      m_("eqflow::Adam::first_moment", num_parameters),
      v_("eqflow::Adam::second_moment", num_parameters) {}

template <class Scalar>
void Adam<Scalar>::step(const View1<Scalar>& params, const View1<const Scalar>& grads, double lr) {
  if (params.extent(0) != m_.extent(0) || grads.extent(0) != m_.extent(0)) {
    throw ShapeError("Adam::step: parameter, gradient and moment sizes differ");
  }
  ++steps_;
  const double bc1 = 1.0 - std::pow(config_.beta1, static_cast<double>(steps_));
  const double bc2 = 1.0 - std::pow(config_.beta2, static_cast<double>(steps_));
  // PyTorch: p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps).
  const Scalar b1 = Scalar(config_.beta1), b2 = Scalar(config_.beta2);
  const Scalar eps = Scalar(config_.eps), wd = Scalar(config_.weight_decay);
  const Scalar step_size = Scalar(lr / bc1), sqrt_bc2 = Scalar(std::sqrt(bc2));
  const Scalar decay = config_.decoupled ? Scalar(1.0 - lr * config_.weight_decay) : Scalar(1);
  const bool coupled = !config_.decoupled;
  const auto m = m_, v = v_;
  Kokkos::parallel_for(
      "eqflow::Adam::step", RangePolicy(0, params.extent(0)), KOKKOS_LAMBDA(const std::size_t i) {
        const Scalar g = coupled ? grads(i) + wd * params(i) : grads(i);
        m(i) = b1 * m(i) + (Scalar(1) - b1) * g;
        v(i) = b2 * v(i) + (Scalar(1) - b2) * g * g;
        const Scalar p = params(i) * decay;
        params(i) = p - step_size * m(i) / (math::sqrt(v(i)) / sqrt_bc2 + eps);
      });
}

template <class Scalar>
double clip_gradient_norm(const View1<Scalar>& grads, double max_norm) {
  double sum = 0.0;
  Kokkos::parallel_reduce(
      "eqflow::clip_gradient_norm::norm", RangePolicy(0, grads.extent(0)),
      KOKKOS_LAMBDA(const std::size_t i, double& acc) {
        acc += static_cast<double>(grads(i)) * static_cast<double>(grads(i));
      },
      sum);
  const double norm = std::sqrt(sum);
  const double factor = max_norm / (norm + 1e-6);
  if (factor < 1.0) {
    const Scalar f = Scalar(factor);
    Kokkos::parallel_for(
        "eqflow::clip_gradient_norm::scale", RangePolicy(0, grads.extent(0)),
        KOKKOS_LAMBDA(const std::size_t i) { grads(i) *= f; });
  }
  return norm;
}

LearningRateSchedule LearningRateSchedule::constant(double lr) {
  LearningRateSchedule s;
  s.kind_ = Kind::Constant;
  s.base_ = lr;
  return s;
}

LearningRateSchedule LearningRateSchedule::cosine_with_warmup(double lr, std::int64_t warmup,
                                                              std::int64_t total) {
  if (warmup < 0 || total < 1) throw Error("cosine schedule: need warmup >= 0 and total >= 1");
  LearningRateSchedule s;
  s.kind_ = Kind::CosineWarmup;
  s.base_ = lr;
  s.warmup_ = warmup;
  s.total_ = total;
  return s;
}

LearningRateSchedule LearningRateSchedule::for_run(double lr, bool cosine,
                                                   std::int64_t total_steps) {
  return cosine ? cosine_with_warmup(lr, 0, std::max<std::int64_t>(1, total_steps)) : constant(lr);
}

double LearningRateSchedule::at(std::int64_t step) const {
  if (kind_ == Kind::Constant) return base_;
  if (step < warmup_) return base_ * static_cast<double>(step) / static_cast<double>(warmup_);
  const double progress =
      std::min(1.0, static_cast<double>(step - warmup_) /
                        static_cast<double>(std::max<std::int64_t>(1, total_ - warmup_)));
  return base_ * std::max(0.0, 0.5 * (1.0 + std::cos(math::pi<double> * progress)));
}

template class Adam<float>;
template class Adam<double>;
template double clip_gradient_norm<float>(const View1<float>&, double);
template double clip_gradient_norm<double>(const View1<double>&, double);

}  // namespace eqflow::nn
