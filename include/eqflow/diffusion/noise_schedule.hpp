// Diffusion noise schedules as the cumulative signal fractions a_i (alpha-bar), i = 0..N-1,
// and the map from continuous time t in [0, 1] to a step index.
#pragma once

#include <vector>

namespace eqflow::diffusion {

class NoiseSchedule {
 public:
  //! a_i = (cos(pi i / (N-1)) (1 - 2 delta) + 1) / 2: the reference's low-dimensional schedule.
  static NoiseSchedule cosine(int steps = 100, double delta = 1e-3);
  //! DDPM: betas linear from beta_start to beta_end, a_i = prod_{j<=i} (1 - beta_j).
  static NoiseSchedule linear_betas(int steps = 100, double beta_start = 1e-4,
                                    double beta_end = 0.1);

  int steps() const { return static_cast<int>(alpha_bar_.size()); }
  double alpha_bar(int i) const { return alpha_bar_.at(static_cast<std::size_t>(i)); }
  //! i = floor(t (N-1)), clamped to [0, N-1].
  int index(double t) const;
  //! The signal fraction at continuous time t: alpha_bar(index(t)).
  double alpha_bar_at(double t) const { return alpha_bar(index(t)); }
  const std::vector<double>& alpha_bars() const { return alpha_bar_; }

 private:
  std::vector<double> alpha_bar_;
};

}  // namespace eqflow::diffusion
