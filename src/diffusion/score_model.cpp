// Score model: training loop, score evaluation and DDIM sampling.
#include "eqflow/diffusion/score_model.hpp"

#include <algorithm>
#include <cmath>

#include "eqflow/core/batching.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/core/profiling.hpp"
#include "eqflow/diffusion/denoising_loss.hpp"
#include "eqflow/nn/optimizer.hpp"

namespace eqflow::diffusion {
namespace {

// out (N, d + 1) = [x, value]: points with the network's time input (a constant column).
template <class Scalar, class In>
void with_time_column(const In& x, Scalar value, const View2<Scalar>& out, const char* label) {
  const std::size_t d = x.extent(1);
  Kokkos::parallel_for(
      label, RangePolicy(0, x.extent(0) * (d + 1)), KOKKOS_LAMBDA(const std::size_t i) {
        const std::size_t r = i / (d + 1), j = i % (d + 1);
        out(r, j) = j < d ? x(r, j) : value;
      });
}

// eps <- -eps / sqrt(1 - a_i), i the step of time t: noise predictions (or their tangents)
// to scores.
template <class Scalar>
void noise_to_score(const NoiseSchedule& schedule, double t, const View2<Scalar>& eps) {
  const double a = schedule.alpha_bar_at(t);
  const Scalar scale = static_cast<Scalar>(-1.0 / std::sqrt(1.0 - a));
  Kokkos::parallel_for(
      "eqflow::ScoreModel::noise_to_score", RangePolicy(0, eps.size()),
      KOKKOS_LAMBDA(const std::size_t i) { eps.data()[i] *= scale; });
}

}  // namespace

template <class Scalar>
ScoreModel<Scalar>::ScoreModel(std::size_t d, std::size_t hidden, NoiseSchedule schedule,
                               std::uint64_t seed)
    : d_(d), schedule_(std::move(schedule)), model_(nn::make_score_mlp<Scalar>(d, hidden), seed) {}

template <class Scalar>
void ScoreModel<Scalar>::predict_noise(const ConstView& x, double t, const View2<Scalar>& eps) {
  const std::size_t n = x.extent(0), d = d_;
  require_shape(x.extent(1) == d && eps.extent(0) == n && eps.extent(1) == d,
                "ScoreModel: points and output must be (N, d)");
  if (input_.extent(0) != n) {
    input_ = View2<Scalar>(Kokkos::view_alloc(Kokkos::WithoutInitializing, "eqflow::Score::input"),
                           n, d + 1);
  }
  with_time_column(x, static_cast<Scalar>(2.0 * t - 1.0), input_, "eqflow::ScoreModel::input");
  model_.forward(input_, eps, nn::Mode::Eval);
}

template <class Scalar>
void ScoreModel<Scalar>::score(const ConstView& x, double t, const View2<Scalar>& s) {
  predict_noise(x, t, s);
  noise_to_score(schedule_, t, s);
}

template <class Scalar>
void ScoreModel<Scalar>::score_and_jvp(const ConstView& x, double t, const View2<Scalar>& s,
                                       const ConstView& tangents, const View2<Scalar>& js) {
  const std::size_t n = x.extent(0), d = d_;
  require_shape(tangents.extent(1) == d && n > 0 && tangents.extent(0) % n == 0 &&
                    js.extent(0) == tangents.extent(0) && js.extent(1) == d,
                "ScoreModel: tangents and their products must be (K N, d)");
  score(x, t, s);  // forward pass: the tangent pass below runs at these points
  // The time input is fixed: its tangent component is zero.
  const std::size_t rows = tangents.extent(0);
  if (input_tangent_.extent(0) != rows) {
    input_tangent_ = View2<Scalar>(
        Kokkos::view_alloc(Kokkos::WithoutInitializing, "eqflow::Score::input_tangent"), rows,
        d + 1);
  }
  with_time_column(tangents, Scalar(0), input_tangent_, "eqflow::ScoreModel::tangent_input");
  model_.forward_tangent(input_tangent_, js);
  noise_to_score(schedule_, t, js);
}

template <class Scalar>
View2<Scalar> ScoreModel<Scalar>::sample(std::size_t n, const CounterRng& rng, int end) {
  ScopedRegion region("eqflow::ScoreModel::sample");
  const int last = schedule_.steps() - 1;
  if (end < 1 || end > last) throw Error("DDIM: the end step must be in [1, N-1]");
  View2<Scalar> x("eqflow::ddim::x", n, d_), eps("eqflow::ddim::eps", n, d_);
  fill_normal(x, rng, 0);
  for (int i = last; i >= end; --i) {
    predict_noise(x, static_cast<double>(i) / last, eps);
    const double a = schedule_.alpha_bar(i), a_prev = schedule_.alpha_bar(i - 1);
    // x0 = (x - sqrt(1 - a) eps) / sqrt(a); x <- sqrt(a_prev) x0 + sqrt(1 - a_prev) eps
    const Scalar c_x = static_cast<Scalar>(std::sqrt(a_prev / a));
    const Scalar c_eps =
        static_cast<Scalar>(std::sqrt(1.0 - a_prev) - std::sqrt(a_prev * (1.0 - a) / a));
    Kokkos::parallel_for(
        "eqflow::ddim::step", RangePolicy(0, x.size()), KOKKOS_LAMBDA(const std::size_t k) {
          x.data()[k] = c_x * x.data()[k] + c_eps * eps.data()[k];
        });
  }
  return x;
}

template <class Scalar>
std::vector<double> ScoreModel<Scalar>::train(
    const ConstView& data, const ScoreTrainingSettings& settings, const CounterRng& rng,
    const std::function<void(std::int64_t, double)>& on_epoch) {
  ScopedRegion region("eqflow::ScoreModel::train");
  const std::size_t n = data.extent(0);
  require_shape(data.extent(1) == d_ && n >= 1, "ScoreModel::train: data must be (N >= 1, d)");
  // Full mini-batches only (the remainder of a shuffled epoch is dropped).
  const std::size_t batch = std::min<std::size_t>(settings.batch, n);
  const std::size_t steps = n / batch;
  nn::AdamConfig cfg;
  cfg.weight_decay = settings.weight_decay;
  nn::Adam<Scalar> adam(model_.parameters().num_parameters(), cfg);
  DenoisingLoss<Scalar> loss(schedule_);
  const auto total_steps = static_cast<std::int64_t>(steps) * settings.epochs;
  const auto lr = nn::LearningRateSchedule::for_run(settings.lr, settings.cosine_lr, total_steps);
  View2<Scalar> x0("eqflow::ScoreModel::batch", batch, d_);
  std::vector<double> history;
  for (std::int64_t epoch = 0; epoch < settings.epochs; ++epoch) {
    const auto order = to_device(random_permutation(n, derive_stream(rng, 1, epoch)), "order");
    double sum = 0;
    for (std::size_t step = 0; step < steps; ++step) {
      gather_rows<Scalar>(data, order, step * batch, x0);
      model_.zero_gradients();
      sum += loss.evaluate(model_, x0, derive_stream(rng, 2 + epoch, step), 0, true);
      adam.step(model_.parameters().values(), model_.parameters().gradients(),
                lr.at(epoch * static_cast<std::int64_t>(steps) + static_cast<std::int64_t>(step)));
    }
    history.push_back(sum / steps);
    if (on_epoch) on_epoch(epoch, history.back());
  }
  return history;
}

template class ScoreModel<float>;
template class ScoreModel<double>;

}  // namespace eqflow::diffusion
