// The equilibrium residual div v + v . s, its loss and gradient, for the three divergence
// estimators.
#include "eqflow/flow/equilibrium_loss.hpp"

#include <fmt/core.h>

#include "eqflow/core/error.hpp"
#include "eqflow/core/profiling.hpp"

namespace eqflow::flow {

DivergenceEstimator parse_divergence_estimator(const std::string& name) {
  if (name == "exact") return DivergenceEstimator::Exact;
  if (name == "hutchinson") return DivergenceEstimator::Hutchinson;
  if (name == "unbiased") return DivergenceEstimator::Unbiased;
  throw Error(
      fmt::format("unknown divergence estimator '{}' (expected exact, hutchinson or "
                  "unbiased)",
                  name));
}

std::string to_string(DivergenceEstimator estimator) {
  switch (estimator) {
    case DivergenceEstimator::Exact:
      return "exact";
    case DivergenceEstimator::Hutchinson:
      return "hutchinson";
    case DivergenceEstimator::Unbiased:
      return "unbiased";
  }
  return "?";
}

template <class Scalar>
EquilibriumLoss<Scalar>::EquilibriumLoss(DivergenceEstimator estimator, int probes)
    : estimator_(estimator), probes_(probes) {
  if (estimator != DivergenceEstimator::Exact && probes < 1) {
    throw Error(fmt::format("equilibrium loss: probes must be >= 1, got {}", probes));
  }
  if (estimator == DivergenceEstimator::Unbiased && (probes < 2 || probes % 2 != 0)) {
    throw Error(
        fmt::format("equilibrium loss: the unbiased estimator needs an even number of "
                    "probes >= 2, got {}",
                    probes));
  }
}

template <class Scalar>
int EquilibriumLoss<Scalar>::tangents_per_sample(std::size_t d) const {
  return estimator_ == DivergenceEstimator::Exact ? static_cast<int>(d) : probes_;
}

template <class Scalar>
void EquilibriumLoss<Scalar>::resize(std::size_t batch, std::size_t d) {
  const std::size_t rows = static_cast<std::size_t>(tangents_per_sample(d)) * batch;
  if (velocity_.extent(0) == batch && velocity_.extent(1) == d && tangent_in_.extent(0) == rows) {
    return;
  }
  velocity_ = View2<Scalar>("eqflow::EquilibriumLoss::velocity", batch, d);
  grad_velocity_ = View2<Scalar>("eqflow::EquilibriumLoss::grad_velocity", batch, d);
  tangent_in_ = View2<Scalar>("eqflow::EquilibriumLoss::tangent_in", rows, d);
  tangent_out_ = View2<Scalar>("eqflow::EquilibriumLoss::tangent_out", rows, d);
  grad_tangent_ = View2<Scalar>("eqflow::EquilibriumLoss::grad_tangent", rows, d);
  divergence_ = View1<Scalar>("eqflow::EquilibriumLoss::divergence", batch);
  residual_ = View1<Scalar>("eqflow::EquilibriumLoss::residual", batch);
  r1_ = View1<Scalar>("eqflow::EquilibriumLoss::r1", batch);
  r2_ = View1<Scalar>("eqflow::EquilibriumLoss::r2", batch);
}

template <class Scalar>
double EquilibriumLoss<Scalar>::evaluate(nn::Model<Scalar>& model, const ConstView& x,
                                         const ConstView& score, const CounterRng& rng,
                                         std::uint64_t first_sample, nn::Mode mode, bool gradient) {
  const std::size_t batch = x.extent(0), d = x.extent(1);
  resize(batch, d);
  const std::size_t k_count = static_cast<std::size_t>(tangents_per_sample(d));
  const bool exact = estimator_ == DivergenceEstimator::Exact;
  const auto tin = tangent_in_;
  if (exact) {
    // Basis vectors: tangent row k*B + b is e_k.
    Kokkos::parallel_for(
        "eqflow::EquilibriumLoss::basis", RangePolicy(0, tin.size()),
        KOKKOS_LAMBDA(const std::size_t i) {
          const std::size_t r = i / d, j = i % d;
          tin(r, j) = Scalar(r / batch == j ? 1 : 0);
        });
  } else {
    // Probe k of sample n, coordinate j, is normal ((n K) + k) d + j: sample n's probes are
    // one contiguous counter range, drawn a Philox block (two normals) at a time.
    const std::size_t span = k_count * d;
    Kokkos::parallel_for(
        "eqflow::EquilibriumLoss::probes", RangePolicy(0, batch),
        KOKKOS_LAMBDA(const std::size_t b) {
          const std::uint64_t base = (first_sample + b) * span;
          for (std::size_t q = 0; q < span; q += 2) {
            double z0, z1;
            if (((base + q) & 1) == 0) {
              rng.normal_pair((base + q) >> 1, z0, z1);
            } else {
              z0 = rng.normal(base + q);
              z1 = rng.normal(base + q + 1);
            }
            tin((q / d) * batch + b, q % d) = static_cast<Scalar>(z0);
            if (q + 1 < span) tin(((q + 1) / d) * batch + b, (q + 1) % d) = static_cast<Scalar>(z1);
          }
        });
  }
  return compute(model, x, score, mode, gradient);
}

template <class Scalar>
double EquilibriumLoss<Scalar>::evaluate_with_probes(nn::Model<Scalar>& model, const ConstView& x,
                                                     const ConstView& score,
                                                     const ConstView& probes, nn::Mode mode,
                                                     bool gradient) {
  if (estimator_ == DivergenceEstimator::Exact) {
    return evaluate(model, x, score, CounterRng(), 0, mode, gradient);
  }
  resize(x.extent(0), x.extent(1));
  require_shape(probes.extent(0) == tangent_in_.extent(0) && probes.extent(1) == x.extent(1),
                "EquilibriumLoss: probes must be (K*B, d)");
  Kokkos::deep_copy(tangent_in_, probes);
  return compute(model, x, score, mode, gradient);
}

template <class Scalar>
double EquilibriumLoss<Scalar>::compute(nn::Model<Scalar>& model, const ConstView& x,
                                        const ConstView& score, nn::Mode mode, bool gradient) {
  ScopedRegion region("eqflow::EquilibriumLoss");
  const std::size_t batch = x.extent(0), d = x.extent(1);
  require_shape(model.in_features() == d && model.out_features() == d,
                "EquilibriumLoss: the flow model must map d inputs to d outputs");
  require_shape(score.extent(0) == batch && score.extent(1) == d,
                "EquilibriumLoss: scores must have the shape of the points");
  const std::size_t k_count = static_cast<std::size_t>(tangents_per_sample(d));
  const std::size_t rows = k_count * batch;
  const auto v = velocity_, tin = tangent_in_, tout = tangent_out_;
  const auto gv = grad_velocity_, gt = grad_tangent_;
  const auto div = divergence_, res = residual_, r1 = r1_, r2 = r2_;
  const bool exact = estimator_ == DivergenceEstimator::Exact;
  const bool unbiased = estimator_ == DivergenceEstimator::Unbiased;
  const std::size_t half = unbiased ? k_count / 2 : k_count;

  model.forward(x, velocity_, mode);
  model.forward_tangent(tangent_in_, tangent_out_);

  // Per-sample divergence estimates (two independent halves for unbiased) and residuals.
  Kokkos::parallel_for(
      "eqflow::EquilibriumLoss::residual", RangePolicy(0, batch),
      KOKKOS_LAMBDA(const std::size_t b) {
        Scalar vs = 0;
        for (std::size_t j = 0; j < d; ++j) vs += v(b, j) * score(b, j);
        Scalar first = 0, second = 0;
        for (std::size_t k = 0; k < k_count; ++k) {
          const std::size_t r = k * batch + b;
          Scalar q = 0;
          if (exact) {
            q = tout(r, k);
          } else {
            for (std::size_t j = 0; j < d; ++j) q += tin(r, j) * tout(r, j);
          }
          if (k < half) {
            first += q;
          } else {
            second += q;
          }
        }
        if (!exact) first /= Scalar(half);
        if (unbiased) second /= Scalar(half);
        r1(b) = first + vs;
        r2(b) = unbiased ? second + vs : r1(b);
        div(b) = unbiased ? (first + second) / Scalar(2) : first;
        res(b) = div(b) + vs;
      });

  double loss = 0.0;
  Kokkos::parallel_reduce(
      "eqflow::EquilibriumLoss::mean", RangePolicy(0, batch),
      KOKKOS_LAMBDA(const std::size_t b, double& acc) {
        acc += static_cast<double>(r1(b)) * static_cast<double>(r2(b));
      },
      loss);
  loss /= static_cast<double>(batch);
  if (!gradient) return loss;

  // Unbiased: dL/dr1_b = r2_b / B, dL/dr2_b = r1_b / B. Otherwise r1 = r2 = r, dL/dr = 2 r / B.
  const Scalar inv_b = Scalar(1) / Scalar(batch);
  const Scalar tangent_scale = unbiased ? inv_b : Scalar(2) * inv_b;
  Kokkos::parallel_for(
      "eqflow::EquilibriumLoss::grad_velocity", RangePolicy(0, batch * d),
      KOKKOS_LAMBDA(const std::size_t i) {
        const std::size_t b = i / d, j = i % d;
        gv(b, j) = (r1(b) + r2(b)) * inv_b * score(b, j);
      });
  Kokkos::parallel_for(
      "eqflow::EquilibriumLoss::grad_tangent", RangePolicy(0, rows * d),
      KOKKOS_LAMBDA(const std::size_t i) {
        const std::size_t r = i / d, j = i % d;
        const std::size_t k = r / batch, b = r % batch;
        const Scalar dr = (k < half ? r2(b) : r1(b)) * tangent_scale;
        gt(r, j) = exact ? (k == j ? dr : Scalar(0)) : dr * tin(r, j) / Scalar(half);
      });
  model.backward_dual(grad_velocity_, grad_tangent_, View2<Scalar>(), View2<Scalar>());
  return loss;
}

template class EquilibriumLoss<float>;
template class EquilibriumLoss<double>;

}  // namespace eqflow::flow
