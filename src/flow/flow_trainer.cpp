// The flow-model training loop on the equilibrium residual.
#include "eqflow/flow/flow_trainer.hpp"

#include <fmt/core.h>

#include <algorithm>

#include "eqflow/core/batching.hpp"
#include "eqflow/core/error.hpp"
#include "eqflow/core/profiling.hpp"
#include "eqflow/diffusion/diffuse.hpp"

namespace eqflow::flow {

namespace {
nn::AdamConfig adam_config(double weight_decay) {
  nn::AdamConfig cfg;
  cfg.weight_decay = weight_decay;
  return cfg;
}
}  // namespace

template <class Scalar>
FlowTrainer<Scalar>::FlowTrainer(nn::Model<Scalar>& flow, diffusion::Score<Scalar>& score,
                                 ConstView data, FlowTrainingSettings settings, CounterRng rng)
    : flow_(flow),
      score_(score),
      data_(data),
      settings_(settings),
      rng_(rng),
      adam_(flow.parameters().num_parameters(), adam_config(settings.weight_decay)),
      loss_(settings.estimator, settings.probes) {
  require_shape(data.extent(1) == flow.in_features() && data.extent(1) == score.dim(),
                "FlowTrainer: data, flow and score dimensions differ");
  const std::size_t batch = std::min<std::size_t>(settings.batch, data.extent(0));
  if (batch < 2) throw Error("flow training needs at least 2 points per batch");
  if (settings.t_count < 1 || static_cast<std::size_t>(settings.t_count) > batch) {
    throw Error(
        fmt::format("flow training: t_count {} must be in [1, batch {}]", settings.t_count, batch));
  }
  for (int k = 1; k <= settings.t_count; ++k) {
    times_.push_back(k == settings.t_count ? settings.t : settings.t * k / settings.t_count);
    alpha_bars_.push_back(score.schedule().alpha_bar_at(times_.back()));
  }
  x0_ = View2<Scalar>("eqflow::FlowTrainer::x0", batch, data.extent(1));
  xt_ = View2<Scalar>("eqflow::FlowTrainer::xt", batch, data.extent(1));
  score_values_ = View2<Scalar>("eqflow::FlowTrainer::score", batch, data.extent(1));
}

template <class Scalar>
void FlowTrainer<Scalar>::restore(std::int64_t epoch, std::vector<double> history,
                                  std::int64_t optimizer_steps) {
  epoch_ = epoch;
  history_ = std::move(history);
  adam_.set_steps(optimizer_steps);
}

template <class Scalar>
void FlowTrainer<Scalar>::run(std::int64_t until,
                              const std::function<void(std::int64_t, double)>& on_epoch) {
  ScopedRegion region("eqflow::FlowTrainer::run");
  const std::size_t n = data_.extent(0), batch = x0_.extent(0);
  const std::size_t steps = n / batch;  // full mini-batches; the shuffled remainder is dropped
  const auto total_steps = static_cast<std::int64_t>(steps) * settings_.epochs;
  const auto schedule =
      nn::LearningRateSchedule::for_run(settings_.lr, settings_.cosine_lr, total_steps);
  while (epoch_ < until) {
    const auto order = to_device(random_permutation(n, derive_stream(rng_, 1, epoch_)), "order");
    double sum = 0;
    for (std::size_t step = 0; step < steps; ++step) {
      gather_rows<Scalar>(data_, order, step * batch, x0_);
      // Row block k at time times_[k]: x_t in Scalar arithmetic, eps_i = normal i of the
      // block's noise stream (one block: the step's stream, as before several times existed).
      const std::size_t blocks = times_.size();
      for (std::size_t k = 0; k < blocks; ++k) {
        const auto rows = Kokkos::make_pair(k * batch / blocks, (k + 1) * batch / blocks);
        const View2<Scalar> x0 = Kokkos::subview(x0_, rows, Kokkos::ALL());
        const View2<Scalar> xt = Kokkos::subview(xt_, rows, Kokkos::ALL());
        const View2<Scalar> s = Kokkos::subview(score_values_, rows, Kokkos::ALL());
        diffusion::diffuse<Scalar, Scalar>(
            x0, alpha_bars_[k], derive_stream(rng_, 2 + 2 * epoch_, step * blocks + k), xt);
        score_.score(xt, times_[k], s);
      }
      flow_.zero_gradients();
      sum += loss_.evaluate(flow_, xt_, score_values_, derive_stream(rng_, 3 + 2 * epoch_, step), 0,
                            nn::Mode::Train, true);
      adam_.step(flow_.parameters().values(), flow_.parameters().gradients(),
                 schedule.at(adam_.steps()));
    }
    history_.push_back(sum / steps);
    ++epoch_;  // before the callback: a checkpoint taken there resumes at the next epoch
    if (on_epoch) on_epoch(epoch_ - 1, history_.back());
  }
}

template class FlowTrainer<float>;
template class FlowTrainer<double>;

}  // namespace eqflow::flow
