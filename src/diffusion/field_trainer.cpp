// Data-parallel training of the field score model (diffusion/field_trainer.hpp), for float and
// double. The 1-rank vs 2-rank equality is tests/mpi/mpi_field_training.cpp.
#include "eqflow/diffusion/field_trainer.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <numeric>

#include "eqflow/core/error.hpp"
#include "eqflow/core/timer.hpp"

namespace eqflow::diffusion {
namespace {

constexpr std::uint64_t kOrderStream = 0x0DE5;
//! Validation draws sit far above any training draw id (epoch * train + position).
constexpr std::uint64_t kValidationDraws = std::uint64_t(1) << 60;

}  // namespace

template <class Scalar>
FieldScoreTrainer<Scalar>::FieldScoreTrainer(FieldDiffusion<Scalar>& model,
                                             FieldTrainingSettings settings,
                                             FieldSource<Scalar> source, const CounterRng& rng)
    : model_(model),
      settings_(settings),
      source_(std::move(source)),
      rng_(rng),
      adam_(model.unet().parameters().num_parameters(),
            nn::AdamConfig{0.9, 0.999, 1e-8, settings.weight_decay, true}) {
  if (settings_.batch < 1 || settings_.epochs < 0) {
    throw Error(fmt::format("score training: batch must be >= 1 and epochs >= 0 (got {}, {})",
                            settings_.batch, settings_.epochs));
  }
  if (source_.train < 1) throw Error("score training: no training samples");
  if (source_.ranks < 1 || source_.rank < 0 || source_.rank >= source_.ranks || !source_.load) {
    throw Error("score training: the data source needs a loader and a valid rank");
  }
  if (source_.ranks > 1 && (!source_.sum || !source_.sum_doubles)) {
    throw Error("score training: several ranks need the sums over ranks");
  }
  schedule_ = nn::LearningRateSchedule::cosine_with_warmup(settings_.lr, settings_.warmup_steps,
                                                           total_steps());
  const auto s = source_.shape;
  const std::int64_t part = (settings_.batch + source_.ranks - 1) / source_.ranks;
  batch_ = View4<Scalar>("eqflow::FieldScoreTrainer::batch", std::size_t(part), s.channels,
                         s.height, s.width);
}

template <class Scalar>
std::int64_t FieldScoreTrainer<Scalar>::steps_per_epoch() const {
  return (source_.train + settings_.batch - 1) / settings_.batch;
}

template <class Scalar>
std::pair<std::int64_t, std::int64_t> FieldScoreTrainer<Scalar>::my_part(std::int64_t size) const {
  const std::int64_t p = source_.ranks, r = source_.rank;
  return {size * r / p, size * (r + 1) / p};
}

template <class Scalar>
double FieldScoreTrainer<Scalar>::sum(double value) const {
  if (source_.ranks > 1) source_.sum_doubles(&value, 1);
  return value;
}

std::vector<std::int64_t> epoch_permutation(const CounterRng& rng, std::int64_t epoch,
                                            std::int64_t n) {
  std::vector<std::pair<double, std::int64_t>> keyed(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    keyed[std::size_t(i)] = {
        rng.uniform(std::uint64_t(epoch) * std::uint64_t(n) + std::uint64_t(i)), i};
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::int64_t> order(keyed.size());
  for (std::size_t i = 0; i < keyed.size(); ++i) order[i] = keyed[i].second;
  return order;
}

template <class Scalar>
std::vector<std::int64_t> FieldScoreTrainer<Scalar>::epoch_order(std::int64_t e) const {
  return epoch_permutation(CounterRng(rng_.seed(), mix64(rng_.stream() ^ kOrderStream)), e,
                           source_.train);
}

template <class Scalar>
void FieldScoreTrainer<Scalar>::run_epoch(
    const std::function<void(std::int64_t, double)>& on_step) {
  const Timer timer;
  const std::int64_t e = epoch(), steps = steps_per_epoch(), n = source_.train;
  const auto order = epoch_order(e);
  const double elements = static_cast<double>(source_.shape.size());
  auto& store = model_.unet().parameters();
  std::vector<double> step_loss(static_cast<std::size_t>(steps), 0.0);
  double local_total = 0.0;
  for (std::int64_t k = 0; k < steps; ++k) {
    const std::int64_t start = k * settings_.batch;
    const std::int64_t size = std::min(settings_.batch, n - start);
    const auto [first, last] = my_part(size);
    store.zero_gradients();
    double local = 0.0;
    if (last > first) {
      std::vector<std::int64_t> indices(order.begin() + start + first,
                                        order.begin() + start + last);
      std::vector<std::uint64_t> draws;
      for (std::int64_t p = start + first; p < start + last; ++p) {
        draws.push_back(std::uint64_t(e) * std::uint64_t(n) + std::uint64_t(p));
      }
      const auto x0 = Kokkos::subview(batch_, std::make_pair(std::size_t(0), indices.size()),
                                      Kokkos::ALL, Kokkos::ALL, Kokkos::ALL);
      source_.load(indices, x0);
      local = model_.loss(x0, draws, rng_, static_cast<double>(size) * elements, true);
    }
    if (source_.ranks > 1) source_.sum(store.gradients().data(), store.num_parameters());
    if (settings_.clip > 0) nn::clip_gradient_norm(store.gradients(), settings_.clip);
    adam_.step(store.values(), store.gradients(), schedule_.at(adam_.steps()));
    step_loss[std::size_t(k)] = local;
    local_total += local * static_cast<double>(size);
    if (on_step) on_step(k + 1, local_total / static_cast<double>(start + size));
  }
  // The losses over the ranks, once per epoch (each rank holds its shards' parts).
  step_loss.push_back(local_total);
  if (source_.ranks > 1) source_.sum_doubles(step_loss.data(), step_loss.size());
  const double train_loss = step_loss.back() / static_cast<double>(n);
  step_loss.pop_back();
  history_.step_loss.insert(history_.step_loss.end(), step_loss.begin(), step_loss.end());
  history_.train_loss.push_back(train_loss);
  history_.validation_loss.push_back(validation_loss());
  history_.learning_rate.push_back(schedule_.at(adam_.steps()));
  history_.seconds.push_back(timer.seconds());
}

template <class Scalar>
double FieldScoreTrainer<Scalar>::validation_loss() {
  const std::int64_t total = source_.validation;
  if (total < 1) return 0.0;
  const double normaliser = static_cast<double>(total) * static_cast<double>(source_.shape.size());
  double local = 0.0;
  for (std::int64_t start = 0; start < total; start += settings_.batch) {
    const std::int64_t size = std::min(settings_.batch, total - start);
    const auto [first, last] = my_part(size);
    if (last <= first) continue;
    std::vector<std::int64_t> indices;
    std::vector<std::uint64_t> draws;
    for (std::int64_t p = start + first; p < start + last; ++p) {
      indices.push_back(source_.train + p);
      draws.push_back(kValidationDraws + std::uint64_t(p));
    }
    const auto x0 = Kokkos::subview(batch_, std::make_pair(std::size_t(0), indices.size()),
                                    Kokkos::ALL, Kokkos::ALL, Kokkos::ALL);
    source_.load(indices, x0);
    local += model_.loss(x0, draws, rng_, normaliser, false);
  }
  return sum(local);
}

template class FieldScoreTrainer<float>;
template class FieldScoreTrainer<double>;

}  // namespace eqflow::diffusion
