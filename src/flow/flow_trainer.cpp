// The flow-model training loop on the equilibrium residual.
#include "eqflow/flow/flow_trainer.hpp"

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
      loss_(settings.estimator, settings.probes),
      alpha_bar_(score.schedule().alpha_bar_at(settings.t)) {
  require_shape(data.extent(1) == flow.in_features() && data.extent(1) == score.dim(),
                "FlowTrainer: data, flow and score dimensions differ");
  const std::size_t batch = std::min<std::size_t>(settings.batch, data.extent(0));
  if (batch < 2) throw Error("flow training needs at least 2 points per batch");
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
      // x_t in Scalar arithmetic, eps_i = normal i of the step's noise stream.
      diffusion::diffuse<Scalar, Scalar>(x0_, alpha_bar_, derive_stream(rng_, 2 + 2 * epoch_, step),
                                         xt_);
      score_.score(xt_, settings_.t, score_values_);
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
