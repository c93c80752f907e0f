// An exact field score for tests: data x0 ~ N(0, sigma^2 I), so the diffused x_t at step i is
// N(0, (a_i sigma^2 + 1 - a_i) I) and s(x_t) = -x_t / (a_i sigma^2 + 1 - a_i).
#pragma once

#include "eqflow/diffusion/field_diffusion.hpp"

namespace eqflow::test {

template <class Scalar>
class GaussianFieldScore final : public diffusion::FieldScore<Scalar> {
 public:
  GaussianFieldScore(std::size_t channels, double sigma)
      : channels_(channels), sigma_(sigma), schedule_(diffusion::NoiseSchedule::linear_betas()) {}
  std::size_t channels() const override { return channels_; }
  const diffusion::NoiseSchedule& schedule() const override { return schedule_; }
  //! The variance of x_t at `step`.
  double variance(int step) const {
    const double a = schedule_.alpha_bar(step);
    return a * sigma_ * sigma_ + 1.0 - a;
  }
  void score(const nn::ConstField<Scalar>& x, int step, const nn::MutField<Scalar>& s) override {
    ++calls;
    const Scalar factor = Scalar(-1.0 / variance(step));
    Kokkos::parallel_for(
        "test::gaussian_score", RangePolicy(0, x.size()),
        KOKKOS_LAMBDA(const std::size_t l) { s.data()[l] = factor * x.data()[l]; });
  }
  int calls = 0;

 private:
  std::size_t channels_;
  double sigma_;
  diffusion::NoiseSchedule schedule_;
};

}  // namespace eqflow::test
